// A clinician logs in and out in Chromium, finding every field by its label.
import test from 'ava';
import { fill, press, type TestBrowser } from '../helpers/browser.ts';
import type { TestServer } from '../helpers/server.ts';
import { useStage } from '../helpers/stage.ts';

let app: TestServer;
let chromium: TestBrowser;
useStage({ browser: true }, (stage) => ({ app, chromium } = stage));

test.serial('a clinician logs in and out', async (t) => {
  const { staff, password } = await app.staff('clinician', 'Barn- och ungdomsmedicin', { name: 'Karin Åberg' });
  const page = await chromium.page();
  await page.goto(`${app.url}/`);
  t.is(new URL(page.url()).pathname, '/login');
  t.is(await page.title(), 'Logga in – Samverka');

  await fill(page, 'E-postadress', staff.email);
  await fill(page, 'Lösenord', 'fel lösenord');
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
  t.is(
    await page.$eval('[role="alert"]', (el) => el.textContent),
    'Fel e-postadress eller lösenord. Efter flera misslyckade försök spärras kontot en stund: vänta eller kontakta IT-avdelningen.',
  );

  await fill(page, 'Lösenord', password);
  await Promise.all([page.waitForNavigation(), press(page, 'Logga in')]);
  t.is(new URL(page.url()).pathname, '/calendar', 'a clinician starts in the calendar');
  t.regex(await page.$eval('header', (el) => el.textContent ?? ''), /Inloggad som Karin Åberg/);

  await Promise.all([page.waitForNavigation(), press(page, 'Logga ut')]);
  t.is(new URL(page.url()).pathname, '/login');
  t.regex(await page.$eval('[role="status"]', (el) => el.textContent ?? ''), /Du är utloggad/);
  await page.goto(`${app.url}/`);
  t.is(new URL(page.url()).pathname, '/login', 'the session is gone');
});

test.serial('the login page works in English', async (t) => {
  const page = await chromium.page();
  await page.goto(`${app.url}/login`);
  await press(page, 'In English', 'link');
  await page.waitForSelector('html[lang="en"]');
  t.is(await page.title(), 'Log in – Samverka');
  t.truthy(await page.locator('::-p-aria(E-mail address)').waitHandle());
});

// Logging out in a real browser, Chromium and Firefox ESR, after a SITHS login at the hospital's
// identity provider (oidc-provider on loopback). On a shared clinic computer the provider's session
// must end too: otherwise the next person's "Logga in med SITHS-kort" would need nothing at all and
// land in the previous clinician's account. The pages keep form-action 'self'; the browser leaves
// for the provider by a GET from a page of this site.
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { fill, launchChromium, launchFirefox, press, type TestBrowser } from '../helpers/browser.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { present } from '../helpers/present.ts';

let app: TestServer;
let idp: TestIdp;
const browsers = new Map<string, TestBrowser>();

test.before(async () => {
  let chromium: TestBrowser;
  let firefox: TestBrowser;
  [idp, chromium, firefox] = await Promise.all([startIdp(), launchChromium(), launchFirefox()]);
  browsers.set('Chromium', chromium).set('Firefox ESR', firefox);
  app = await startServer({ env: idp.env });
  idp.trust(app.url);
});
test.after.always(async () => {
  for (const browser of browsers.values()) await browser.close();
  await app?.stop();
  await idp?.close();
});

/** Waits until the page shows an element with this accessible name and role. */
const shown = (page: Page, name: string, role: string) =>
  page.locator(`::-p-aria([name="${name}"][role="${role}"])`).waitHandle();

/** At the login page: the SITHS button, then who you are at the provider, then back in Samverka. */
async function sithsLogin(page: Page, accountId: string): Promise<void> {
  await press(page, 'Logga in med SITHS-kort', 'link');
  await shown(page, 'Användar-id', 'textbox');
  await fill(page, 'Användar-id', accountId);
  await press(page, 'Identifiera');
  await shown(page, 'Logga ut', 'button');
}

let n = 0;
for (const name of ['Chromium', 'Firefox ESR']) {
  test(`${name}: logging out ends the session here and at the identity provider, and the next SITHS login asks who you are`, async (t) => {
    n += 1;
    const hsaId = `SE2321000131-E00000070${n}`;
    const { staff } = await app.staff('clinician', 'Barn- och ungdomsmedicin', { name: `Karin Åberg ${n}`, hsaId });
    const accountId = `karin-${n}`;
    idp.addAccount(accountId, { name: staff.name, email: staff.email, hsaId });
    const page = await present(browsers.get(name), `${name}, started before the tests`).page();
    // What the browser refuses under the page's policy shows in its console.
    const refusals: string[] = [];
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy|form-action/i.test(message.text())) refusals.push(message.text());
    });

    await page.goto(`${app.url}/`);
    await sithsLogin(page, accountId);
    t.is(new URL(page.url()).pathname, '/calendar');

    await press(page, 'Logga ut');
    // Samverka's page hands the browser on to the provider, which asks once more and sends it back.
    await press(page, 'Ja, logga ut från Test-IdP');
    await page.waitForFunction(() => location.pathname === '/login' && location.search.includes('bye=true'));
    // The address changes as the page begins to load: its words are read once they are there.
    await page.locator('main ::-p-text(Du är utloggad.)').waitHandle();
    t.regex(await page.$eval('main', (el) => el.textContent ?? ''), /Du är utloggad\./);
    t.deepEqual(refusals, []);

    // The session here is gone: the calendar asks for a login…
    await page.goto(`${app.url}/calendar`);
    t.is(new URL(page.url()).pathname, '/login');
    // …and so does the provider: the next person at this computer must say who they are.
    await press(page, 'Logga in med SITHS-kort', 'link');
    await shown(page, 'Användar-id', 'textbox');
    t.is(new URL(page.url()).origin, idp.issuer);
    await page.close();
  });
}

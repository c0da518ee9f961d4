// Debian's Chromium driven by puppeteer-core, the way these machines allow: headless, no sandbox
// (root), no background networking (the network is closed), its own profile and HOME in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const chromiumPath = '/usr/bin/chromium';

export const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fake camera (moving test pattern) and microphone (beeps), and no permission prompt. */
export const fakeMediaFlags = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

export interface TestBrowser {
  browser: Browser;
  page(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(options: { media?: boolean; args?: string[] } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'samverka-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath,
    args: [...chromiumFlags, ...(options.media ? fakeMediaFlags : []), `--user-data-dir=${profile}`, ...(options.args ?? [])],
    env: { ...process.env, HOME: profile },
    headless: true,
  });
  return {
    browser,
    async page() {
      const page = await browser.newPage();
      page.setDefaultTimeout(15_000);
      return page;
    },
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Types into the input whose label is `label`, as a person would find it. */
export async function fill(page: Page, label: string, value: string): Promise<void> {
  const input = await page.locator(`::-p-aria(${label})`).waitHandle();
  await input.click({ count: 3 });
  await input.type(value);
}

/** Clicks the button (or link, with role 'link') whose accessible name is `name`. */
export async function press(page: Page, name: string, role: 'button' | 'link' = 'button'): Promise<void> {
  await page.locator(`::-p-aria([name="${name}"][role="${role}"])`).click();
}

// Debian's Chromium driven by puppeteer-core, the way these machines allow: headless, no sandbox
// (root), no background networking (the network is closed), its own profile and HOME in a temp dir.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const chromiumPath = '/usr/bin/chromium';
export const firefoxPath = '/usr/bin/firefox-esr';

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

/** A launched browser whose profile (and HOME) lives in `dir`, removed on close. */
function tempBrowser(browser: Browser, dir: string): TestBrowser {
  return {
    browser,
    async page() {
      const page = await browser.newPage();
      page.setDefaultTimeout(15_000);
      return page;
    },
    async close() {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where the browser tests put their screenshots (git-ignored): `SCREENSHOTS_DIR`, else ./screenshots. */
export const screenshotsDir = resolve(process.env.SCREENSHOTS_DIR ?? 'screenshots');

/**
 * A full-page screenshot of what the person sees at each width (a phone: 375 px, the narrowest
 * reflow WCAG asks for: 320 px), as `<folder>/<name>-<width>.png`; the viewport is put back after.
 */
export async function screenshots(page: Page, folder: string, name: string, widths = [375, 320]): Promise<string[]> {
  const dir = join(screenshotsDir, folder);
  mkdirSync(dir, { recursive: true });
  const before = page.viewport();
  const files: string[] = [];
  for (const width of widths) {
    await page.setViewport({ width, height: 720 });
    const file = join(dir, `${name}-${width}.png`);
    await page.screenshot({ path: file as `${string}.png`, fullPage: true });
    files.push(file);
  }
  if (before) await page.setViewport(before);
  return files;
}

/**
 * Debian's Firefox ESR over WebDriver BiDi. Besides the fake camera and microphone, two preferences
 * make it usable in a container without a sound card or network: a mock audio backend (otherwise
 * every AudioContext stays "suspended" and a microphone meter reads 0), and ICE on the loopback
 * interface (where coturn listens in tests).
 */
export async function launchFirefox(options: { sound?: boolean } = {}): Promise<TestBrowser> {
  const home = mkdtempSync(join(tmpdir(), 'samverka-firefox-'));
  // Without the mock backend Firefox behaves as on a machine with no sound device: its
  // AudioContext never leaves "suspended" (the microphone that never starts).
  const sound = options.sound ?? true;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath,
    headless: true,
    env: { ...process.env, HOME: home },
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.cubeb.force_mock_context': sound,
      'media.peerconnection.ice.loopback': true,
    },
  });
  return tempBrowser(browser, home);
}

export async function launchChromium(options: { media?: boolean; args?: string[] } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'samverka-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath,
    args: [...chromiumFlags, ...(options.media ? fakeMediaFlags : []), `--user-data-dir=${profile}`, ...(options.args ?? [])],
    env: { ...process.env, HOME: profile },
    headless: true,
  });
  return tempBrowser(browser, profile);
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

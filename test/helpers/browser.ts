// Debian's Chromium driven by puppeteer-core, the way these machines allow: headless, no sandbox
// (root), no background networking (the network is closed), its own profile and HOME in a temp dir.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/**
 * A browser's environment: its home, and its runtime folder (where PulseAudio's client keeps its
 * files; without one it leaves a pulse-* folder in /tmp on every start), inside the folder the
 * test removes.
 */
const browserEnv = (dir: string) => ({ ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir });

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
    env: browserEnv(home),
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
    args: [
      ...chromiumFlags,
      ...(options.media ? fakeMediaFlags : []),
      `--user-data-dir=${profile}`,
      ...(options.args ?? []),
    ],
    env: browserEnv(profile),
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

/** Sets a date, time or number field by its label as a person's picker does (and tells the page). */
export async function pick(page: Page, label: string, value: string): Promise<void> {
  await (
    await page.locator(`::-p-aria(${label})`).waitHandle()
  ).evaluate((el, v) => {
    (el as HTMLInputElement).value = v;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

/** Clicks the button (or link, with role 'link') whose accessible name is `name`. */
export async function press(page: Page, name: string, role: 'button' | 'link' = 'button'): Promise<void> {
  await page.locator(`::-p-aria([name="${name}"][role="${role}"])`).click();
}

/** The form field (or other element) whose accessible name is `label`. */
export const byLabel = (page: Page, label: string) => page.locator(`::-p-aria(${label})`).waitHandle();

/** Presses the button `name` and waits for the page it leads to. */
export const submit = (page: Page, name: string) => Promise.all([page.waitForNavigation(), press(page, name)]);

/** Chooses the radio button whose accessible name is `name`. */
export const radio = (page: Page, name: string) => page.locator(`::-p-aria([name="${name}"][role="radio"])`).click();

/** Where the browser tests leave their screenshots, for a person to look at (git ignores it). */
export const screenshotDir = fileURLToPath(new URL('../../screenshots/', import.meta.url));

/** A full-page screenshot into screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * The words and phone numbers inside `selector` that the layout breaks across lines ("+4 67 01…",
 * "Stat us"): each run of non-space characters, and each tel: link as a whole, must sit on one line.
 */
export function brokenText(page: Page, selector: string): Promise<string[]> {
  // No named functions inside: the page runs this as it is, without the test runner's helpers.
  return page.$eval(selector, (root) => {
    const pieces: [string, Range][] = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of (node.textContent ?? '').matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        pieces.push([word[0], range]);
      }
    }
    for (const link of root.querySelectorAll('a[href^="tel:"]')) {
      const range = document.createRange();
      range.selectNodeContents(link);
      pieces.push([link.textContent ?? '', range]);
    }
    return pieces
      .filter(
        ([, range]) =>
          new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.bottom))).size > 1,
      )
      .map(([text]) => text);
  });
}

/**
 * The page as a person sees it at each width (a phone: 375 px; the narrowest reflow WCAG asks
 * for: 320 px), as screenshots/<name>-<width>.png; the viewport is put back after.
 */
export async function screenshotsAt(page: Page, name: string, widths = [375, 320]): Promise<void> {
  const before = page.viewport();
  for (const width of widths) {
    await page.setViewport({ width, height: 720 });
    await screenshot(page, `${name}-${width}`);
  }
  if (before) await page.setViewport(before);
}

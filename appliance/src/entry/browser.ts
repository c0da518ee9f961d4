// The routine: on a computer, use Chrome or Firefox (Chromium-based Edge works too). Phones and
// tablets may use their own browser (or the Jitsi Meet app).
import { describeUserAgent } from '../techtest/index.ts';

export type BrowserVerdict = { ok: true; mobile: boolean } | { ok: false; browser: string };

const mobile = /Android|iPhone|iPad|iPod|Mobile/;

export function checkBrowser(userAgent: string | undefined): BrowserVerdict {
  const ua = userAgent ?? '';
  if (mobile.test(ua)) return { ok: true, mobile: true };
  const { browser } = describeUserAgent(ua);
  const family = browser.replace(/ \d+$/, '');
  if (['Chrome', 'Firefox', 'Edge'].includes(family)) return { ok: true, mobile: false };
  return { ok: false, browser };
}

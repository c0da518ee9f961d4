// The guest's way in on a poor connection's terms: bytes a cold browser transfers from opening the
// e-mailed link (the link page and its CSS and script, the name POST and its redirects) until the
// technical test runs (camera picture and question shown), beside what Jitsi's own web client needs
// before its prejoin screen; and how long the machine takes for it in headless Chromium (the time
// the person spends typing their name is not counted).
//
// Reference figure, as bench/techtest.ts: Jitsi Meet's prejoin screen is rendered by its app bundle,
// measured compressed at ~720 KB by the Jitsi maintainers (github.com/jitsi/jitsi-meet issue #3579).
// Goal (issue 5): at most a twelfth of it, 60 KB.
import type { CDPSession, Page } from 'puppeteer-core';
import { fill, launchChromium, press, type TestBrowser } from '../test/helpers/browser.ts';
import { startCoturn } from '../test/helpers/coturn.ts';
import { startRelay, type Relay } from '../test/helpers/relay.ts';
import { booking, loggedIn } from '../test/meetings/_booking.ts';
import type { TestServer } from '../test/helpers/server.ts';
import { benchServer, isMain, table } from './harness.ts';

const jitsiPrejoinBytes = 720 * 1024;
const goalBytes = 60 * 1024;
const runs = Number(process.env.BENCH_RUNS ?? 5);

interface Transfer {
  method: string;
  url: string;
  status: number;
  bytes: number;
  encoding: string;
}

/**
 * What the page pulls over the wire. encodedDataLength is the compressed body plus headers; a
 * redirect has no loadingFinished of its own, so its response is counted when the next request starts.
 */
async function recordTransfers(client: CDPSession): Promise<() => Transfer[]> {
  const seen: Transfer[] = [];
  const open = new Map<string, Transfer>();
  const encodingOf = (headers: Record<string, unknown>) => String(Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-encoding')?.[1] ?? 'identity');
  client.on('Network.requestWillBeSent', (e) => {
    const earlier = open.get(e.requestId);
    if (earlier && e.redirectResponse) {
      Object.assign(earlier, { status: e.redirectResponse.status, bytes: e.redirectResponse.encodedDataLength, encoding: encodingOf(e.redirectResponse.headers) });
    }
    const transfer = { method: e.request.method, url: e.request.url, status: 0, bytes: 0, encoding: 'identity' };
    seen.push(transfer);
    open.set(e.requestId, transfer);
  });
  client.on('Network.responseReceived', (e) => {
    const t = open.get(e.requestId);
    if (t) Object.assign(t, { status: e.response.status, encoding: encodingOf(e.response.headers) });
  });
  client.on('Network.loadingFinished', (e) => {
    const t = open.get(e.requestId);
    if (t) t.bytes = e.encodedDataLength;
  });
  await client.send('Network.enable');
  return () => seen.filter((t) => t.status > 0);
}

const share = (x: number) => `${(x * 100).toFixed(1)} %`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A meeting in ten minutes with one guest invited by e-mail: the link from the mail. */
async function invitedGuest(app: TestServer, relay: Relay, n: number): Promise<string> {
  const { client } = await loggedIn(app);
  const email = `bench.${n}.${Math.random().toString(36).slice(2)}@skola.example`;
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      startsAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      participants: [{ kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' }, { kind: 'guest', name: 'Lena Lärare', email, identification: 'none' }],
    }),
  });
  if (reply.status !== 201) throw new Error(`booking failed: ${reply.status}`);
  for (let i = 0; i < 600; i++) {
    const mail = relay.received.find((m) => m.to && 'text' in m.to && m.to.text.includes(email));
    const link = /(http:\/\/\S+\/j\/[\w-]+)/.exec(mail?.text ?? '')?.[1];
    if (link) return link;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no invitation');
}

/** One cold run in a fresh browser context: link opened, name sent, test started, camera live. */
async function coldRun(chromium: TestBrowser, link: string) {
  const context = await chromium.browser.createBrowserContext();
  const page: Page = await context.newPage();
  page.setDefaultTimeout(30_000);
  try {
    const client = await page.createCDPSession();
    await client.send('Network.clearBrowserCache');
    const transfers = await recordTransfers(client);

    let started = performance.now();
    await page.goto(link);
    await page.waitForFunction(() => location.pathname === '/j' && document.querySelector('#name') !== null);
    const linkMs = performance.now() - started;
    await fill(page, 'Ditt namn', 'Lena Lärare');

    started = performance.now();
    await Promise.all([page.waitForNavigation(), press(page, 'Fortsätt')]);
    await page.waitForSelector('#techtest[data-ready="true"]');
    const testReadyMs = performance.now() - started;

    started = performance.now();
    await press(page, 'Starta testet');
    await page.waitForFunction(() => performance.getEntriesByName('techtest:running').length > 0);
    const runningMs = performance.now() - started;
    return { linkMs, testReadyMs, runningMs, transfers: transfers() };
  } finally {
    await context.close();
  }
}

export async function run(): Promise<void> {
  const [coturn, relay] = await Promise.all([startCoturn(), startRelay()]);
  const app = await benchServer({ TURN_URLS: coturn.urls, TURN_SECRET: coturn.secret, SMTP_URL: relay.url, REMINDER_OFFSETS: 'none' });
  const chromium = await launchChromium({ media: true });
  try {
    const results: Awaited<ReturnType<typeof coldRun>>[] = [];
    for (let i = 0; i < runs; i += 1) results.push(await coldRun(chromium, await invitedGuest(app, relay, i)));

    const first = results[0]!;
    // The token never appears in the table: the link page is shown as /j/<token>.
    const label = (t: Transfer) => `${t.method} ${new URL(t.url).pathname.replace(/^\/j\/[\w-]+$/, '/j/<token>')} (${t.status})`;
    const rows: (string | number)[][] = first.transfers.map((t) => [label(t), t.bytes === 0 ? 'from cache' : t.encoding, t.bytes, share(t.bytes / jitsiPrejoinBytes)]);
    const total = first.transfers.reduce((sum, t) => sum + t.bytes, 0);
    rows.push(['total (pages, redirects, assets; headers included)', '', total, share(total / jitsiPrejoinBytes)]);
    rows.push(['goal: a twelfth of the reference', '', goalBytes, share(goalBytes / jitsiPrejoinBytes)]);
    rows.push(['Jitsi prejoin: app.bundle.min.js compressed (reference)', 'gzip', jitsiPrejoinBytes, share(1)]);
    table('Guest: bytes received from opening the link to the running tech test, cold cache (Chromium)', ['response', 'encoding', 'bytes', 'share of Jitsi prejoin'], rows);

    const link = median(results.map((r) => r.linkMs));
    const ready = median(results.map((r) => r.testReadyMs));
    const running = median(results.map((r) => r.runningMs));
    const whole = median(results.map((r) => r.linkMs + r.testReadyMs + r.runningMs));
    table(`Guest: machine time from link opened to tech test running, headless Chromium, cold cache (median of ${runs})`, ['part', 'ms', 'share'], [
      ['link opened → name form shown, token out of the address', link, share(link / whole)],
      ['name sent → redirects → tech test page ready', ready, share(ready / whole)],
      ['"Starta testet" → camera picture and question shown', running, share(running / whole)],
      ['whole (typing the name not counted)', whole, share(1)],
    ]);
  } finally {
    await chromium.close();
    await app.stop();
    await Promise.all([relay.close(), coturn.stop()]);
  }
}

if (isMain(import.meta.url)) await run();

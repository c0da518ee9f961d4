// The tech-test API that the page calls: fresh TURN credentials, the stored result (validated,
// bounded, CSRF-checked), and the download/upload samples against the appliance.
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import Boom from '@hapi/boom';
import { techTestRoutes } from '../../appliance/src/techtest/routes.ts';
import { latestResult } from '../../appliance/src/techtest/store.ts';
import { participantSubject, testTaker, type Subject } from '../../appliance/src/techtest/model.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { present } from '../helpers/present.ts';

const turnSecret = 'turn-hemlighet-0123456789';
let app: TestServer;
let noTurn: TestServer;
test.before(async () => {
  [app, noTurn] = await Promise.all([
    startServer({
      env: {
        TURN_URLS: 'turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp',
        TURN_SECRET: turnSecret,
      },
    }),
    startServer(),
  ]);
});
test.after.always(async () => {
  await Promise.all([app?.stop(), noTurn?.stop()]);
});

/** A logged-in staff member's browser, and the subject their results are stored under. */
async function loggedIn(server = app): Promise<{ browser: Client; subject: Subject }> {
  const { staff, password } = await server.staff('clinician');
  const browser = server.client();
  await browser.login(staff.email, password);
  const session = await server.server.app.db('staff_sessions').where({ staff_id: staff.id }).first();
  return { browser, subject: { type: 'staff_session', id: session.id } };
}

/** Calls the API the way the page's fetch does: asking for JSON, not an error page. */
const asApi = { accept: 'application/json' };

const goodResult = () => ({
  camera: 'yes',
  microphone: 'detected',
  microphoneLevel: 0.21,
  sound: 'yes',
  devices: { camera: 'Integrerad kamera', microphone: 'Mikrofon (Realtek)', speaker: null },
  network: {
    relayConfigured: true,
    relayUdp: true,
    relayTcp: true,
    rttMs: 24,
    jitterMs: 3.5,
    loss: 0,
    throughputKbps: 2400,
    downloadKbps: 48_000,
    uploadKbps: 21_000,
    durationMs: 5200,
  },
});

const chrome =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

test('the page is Swedish, loads only its own script and style, and offers English', async (t) => {
  const { browser } = await loggedIn();
  const page = await browser.get('/techtest');
  t.is(page.status, 200);
  t.regex(page.text, /<html lang="sv">/);
  // "test" is neuter in Swedish: "tekniskt test", as every other sentence on the page says it.
  t.regex(page.text, /<h1>Tekniskt test<\/h1>/);
  t.regex(page.text, /Ser du dig själv i bilden\?/);
  // No promise of being heard by phone: a guest invited by e-mail alone has no number to be called
  // on (the waiting room says who will be called and who should call the clinic).
  t.regex(page.text, /Försök igen, eller fortsätt ändå\./);
  t.notRegex(page.text, /via telefon/);
  t.regex(page.text, /Klicka för att spela upp ljudet — hörs det\?/);
  t.regex(page.text, /src="\/static\/techtest\.js"/);
  // The page's small style travels inside it (one request fewer on a slow phone), allowed by its hash.
  t.regex(page.text, /<style>[\s\S]*--accent/);
  t.notRegex(page.text, /<link rel="stylesheet"/);
  t.regex(page.headers.get('content-security-policy') ?? '', /style-src [^;]*'sha256-/);
  t.regex(page.text, /href="\/lang\/en\?next=%2Ftechtest"/);
  t.notRegex(page.text, /https?:\/\//, 'nothing from another origin');
  t.regex(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  t.notRegex(page.text, /<p>Vi mäter hastigheten på din internetanslutning\.<\/p>/, 'the relay check is on');
});

test('the English switch comes back to the same test, query and all', async (t) => {
  const { browser } = await loggedIn();
  const page = await browser.get('/techtest?next=/');
  const link = present(/href="(\/lang\/en\?next=[^"]+)"/.exec(page.text)?.[1], 'a link to the English page');
  t.is(link, '/lang/en?next=%2Ftechtest%3Fnext%3D%2F');
  const sw = await browser.get(link);
  t.is(sw.headers.get('location'), '/techtest?next=/');
  const english = await browser.get('/techtest?next=/');
  t.regex(english.text, /<html lang="en">/);
  t.regex(english.text, /Can you see yourself in the picture\?/);
  t.regex(english.text, /Click to play the sound — can you hear it\?/);
});

test('without TURN the page says the relay check is skipped and /ice answers relay: false', async (t) => {
  const { browser } = await loggedIn(noTurn);
  // Said in a participant's words: no server or protocol names on the page.
  const page = (await browser.get('/techtest')).text;
  t.regex(page, /<p>Vi mäter hastigheten på din internetanslutning\.<\/p>/);
  const visible = page.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, '').replace(/<[^>]+>/g, ' ');
  t.notRegex(visible, /TURN|UDP|relä/i);
  const ice = await browser.get('/techtest/ice');
  t.is(ice.status, 200);
  t.deepEqual(ice.json(), { relay: false });
});

test('the page and its API need a staff session', async (t) => {
  const anonymous = app.client();
  const page = await anonymous.get('/techtest');
  t.is(page.status, 302);
  t.is(page.headers.get('location'), '/login?next=%2Ftechtest');
  t.not((await anonymous.get('/techtest/ice')).status, 200);
  t.not((await anonymous.request('POST', '/techtest/results', { json: goodResult() })).status, 201);
});

test('/ice mints fresh short-lived TURN credentials for every configured URL, never cached', async (t) => {
  const { browser } = await loggedIn();
  const first = await browser.get('/techtest/ice');
  t.is(first.status, 200);
  t.is(first.headers.get('cache-control'), 'no-store');
  const body = first.json<{
    relay: boolean;
    iceServers: { urls: string[]; username: string; credential: string }[];
    expiresAt: string;
  }>();
  t.true(body.relay);
  const server = present(body.iceServers[0], 'an ICE server');
  t.deepEqual(server.urls, ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
  const [expiry] = server.username.split(':');
  const ttl = Number(expiry) - Date.now() / 1000;
  t.true(ttl > 60 && ttl <= 3600, `ttl ${ttl}`);
  t.is(new Date(body.expiresAt).getTime(), Number(expiry) * 1000);
  t.notRegex(first.text, new RegExp(turnSecret), 'the shared secret never leaves');
  const second = (await browser.get('/techtest/ice')).json<typeof body>();
  t.not(present(second.iceServers[0], 'an ICE server the second time').username, server.username);
});

test('the page brings fresh credentials of its own, so the connection check starts without asking for them', async (t) => {
  const { browser } = await loggedIn();
  const ice = async () => {
    const page = await browser.get('/techtest');
    t.is(page.headers.get('cache-control'), 'no-store');
    t.notRegex(page.text, new RegExp(turnSecret), 'the shared secret never leaves');
    const json = /<script type="application\/json" id="techtest-ice">(.*?)<\/script>/.exec(page.text)?.[1];
    const brought = JSON.parse(present(json, 'the ICE servers in the page')) as {
      relay: boolean;
      iceServers: { urls: string[]; username: string }[];
      validForSeconds: number;
    };
    return { ...brought, server: present(brought.iceServers[0], 'an ICE server in the page') };
  };
  const first = await ice();
  t.true(first.relay);
  t.deepEqual(first.server.urls, ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
  const ttl = Number(first.server.username.split(':')[0]) - Date.now() / 1000;
  t.true(ttl > 60 && ttl <= first.validForSeconds, `ttl ${ttl}`);
  t.not((await ice()).server.username, first.server.username, 'minted for each page');
});

test('a result is stored with the staff session, with browser and OS from the user agent', async (t) => {
  const { browser, subject } = await loggedIn();
  const reply = await browser.request('POST', '/techtest/results', {
    json: goodResult(),
    headers: { ...asApi, 'user-agent': chrome },
  });
  t.is(reply.status, 201, reply.text);
  t.is(reply.json().verdict, 'good');
  const stored = present(await latestResult(app.server.app.db, subject), 'the stored result');
  t.truthy(stored);
  t.is(stored.id, reply.json().id);
  t.is(stored.camera, 'yes');
  t.is(stored.microphone, 'detected');
  t.is(stored.microphoneLevel, 0.21);
  t.is(stored.sound, 'yes');
  t.deepEqual(stored.devices, { camera: 'Integrerad kamera', microphone: 'Mikrofon (Realtek)', speaker: null });
  t.deepEqual(stored.network, goodResult().network);
  t.is(stored.browser, 'Chrome 131');
  t.is(stored.os, 'Windows 10/11');
  t.true(Math.abs(stored.testedAt.getTime() - Date.now()) < 60_000);
});

test('the verdict is the server\'s own: a page claiming nothing cannot store "good" for a dead relay', async (t) => {
  const { browser, subject } = await loggedIn();
  const result = goodResult();
  result.network = {
    ...result.network,
    relayUdp: false,
    relayTcp: false,
    rttMs: null as never,
    jitterMs: null as never,
    loss: null as never,
    throughputKbps: null as never,
  };
  const reply = await browser.request('POST', '/techtest/results', { json: { ...result, verdict: 'good' } });
  // An unknown key is refused rather than silently ignored.
  t.is(reply.status, 400);
  const stored = await browser.request('POST', '/techtest/results', { json: result });
  t.is(stored.json().verdict, 'failed');
  t.is(present(await latestResult(app.server.app.db, subject), 'the stored result').verdict, 'failed');
});

test('the newest result is the one staff pages see', async (t) => {
  const { browser, subject } = await loggedIn();
  await browser.request('POST', '/techtest/results', { json: goodResult() });
  const poor = goodResult();
  poor.network.rttMs = 900;
  const second = await browser.request('POST', '/techtest/results', { json: poor });
  const latest = present(await latestResult(app.server.app.db, subject), 'the latest result');
  t.is(latest.id, second.json().id);
  t.is(latest.verdict, 'poor');
  t.is(await latestResult(app.server.app.db, { type: 'participant', id: subject.id }), undefined);
});

const badResults: [string, (r: ReturnType<typeof goodResult>) => unknown][] = [
  ['an unknown camera answer', (r) => ({ ...r, camera: 'kanske' })],
  ['a missing sound answer', ({ sound: _sound, ...r }) => r],
  ['no network figures', ({ network: _network, ...r }) => r],
  ['a loss above 100 %', (r) => ({ ...r, network: { ...r.network, loss: 1.5 } })],
  ['a negative round trip', (r) => ({ ...r, network: { ...r.network, rttMs: -1 } })],
  ['a microphone level above 1', (r) => ({ ...r, microphoneLevel: 3 })],
  ['a device label of 1,000 characters', (r) => ({ ...r, devices: { ...r.devices, camera: 'x'.repeat(1000) } })],
  ['a device id instead of labels', (r) => ({ ...r, devices: { ...r.devices, cameraId: 'abc' } })],
  ['a string where a figure belongs', (r) => ({ ...r, network: { ...r.network, rttMs: 'snabb' } })],
];

for (const [what, change] of badResults) {
  test(`a result with ${what} gets a 400 and nothing is stored`, async (t) => {
    const { browser, subject } = await loggedIn();
    const reply = await browser.request('POST', '/techtest/results', { json: change(goodResult()), headers: asApi });
    t.is(reply.status, 400, reply.text);
    t.truthy(reply.json().message);
    t.is(await latestResult(app.server.app.db, subject), undefined);
  });
}

test('a result without the CSRF header, too large, or not JSON is refused and nothing is stored', async (t) => {
  const { browser, subject } = await loggedIn();
  const noCrumb = await browser.request('POST', '/techtest/results', {
    json: goodResult(),
    headers: { 'x-csrf-token': 'forged' },
  });
  t.is(noCrumb.status, 403);
  const huge = { ...goodResult(), padding: 'x'.repeat(20_000) };
  t.is((await browser.request('POST', '/techtest/results', { json: huge })).status, 413);
  const form = await browser.request('POST', '/techtest/results', {
    body: 'camera=yes',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': browser.crumb! },
  });
  t.is(form.status, 415);
  const broken = await browser.request('POST', '/techtest/results', {
    body: '{"camera":',
    headers: { 'content-type': 'application/json', 'x-csrf-token': browser.crumb! },
  });
  t.is(broken.status, 400);
  t.is(await latestResult(app.server.app.db, subject), undefined);
});

test('the download sample has exactly the bytes asked for, random and never cached', async (t) => {
  const { browser } = await loggedIn();
  const res = await fetch(`${app.url}/techtest/download?bytes=65536`, {
    headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'accept-encoding': 'gzip' },
  });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/octet-stream');
  t.is(res.headers.get('cache-control'), 'no-store');
  const body = Buffer.from(await res.arrayBuffer());
  // fetch undoes gzip itself; whatever the wire carried, the sample is the size asked for.
  t.is(body.length, 65536);
  const { gzipSync } = await import('node:zlib');
  t.true(gzipSync(body).length > 65536 * 0.99, 'incompressible');
  t.is(gunzipSync(gzipSync(body)).length, 65536);
  const again = await browser.get('/techtest/download?bytes=64');
  t.is(again.status, 200);
});

test('the download is bounded: nothing, zero or more than 2 MB is a 400', async (t) => {
  const { browser } = await loggedIn();
  for (const query of ['', '?bytes=0', '?bytes=-5', `?bytes=${2 * 1024 * 1024 + 1}`, '?bytes=mycket']) {
    t.is((await browser.get(`/techtest/download${query}`, asApi)).status, 400, query);
  }
  t.is((await browser.get(`/techtest/download?bytes=${2 * 1024 * 1024}`)).status, 200);
});

test('the upload sample is counted, bounded at 2 MB and CSRF-checked', async (t) => {
  const { browser } = await loggedIn();
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const post = (bytes: number, crumb = browser.crumb!) =>
    fetch(`${app.url}/techtest/upload`, {
      method: 'POST',
      body: Buffer.alloc(bytes, 7),
      headers: { cookie, 'content-type': 'application/octet-stream', 'x-csrf-token': crumb },
    });
  const ok = await post(100 * 1024);
  t.is(ok.status, 200);
  t.deepEqual(await ok.json(), { bytes: 100 * 1024 });
  t.is((await post(2 * 1024 * 1024 + 1)).status, 413);
  t.is((await post(10, 'forged')).status, 403);
});

test('a stored result is announced on the event bus, for the staff meeting page to show live', async (t) => {
  const { browser, subject } = await loggedIn();
  const heard = new Promise<unknown>((resolve) => {
    app.server.app.bus.on('techtest.completed', (event) => {
      if (event.subject.id === subject.id) resolve(event);
    });
  });
  const reply = await browser.request('POST', '/techtest/results', { json: goodResult(), headers: asApi });
  t.deepEqual(await heard, { subject, resultId: reply.json().id, verdict: 'good' });
});

test('results are limited per subject, not per address: a colleague behind the same proxy is not held up', async (t) => {
  const { browser } = await loggedIn();
  const statuses: number[] = [];
  for (let i = 0; i < 31; i += 1)
    statuses.push((await browser.request('POST', '/techtest/results', { json: goodResult(), headers: asApi })).status);
  t.deepEqual(statuses.slice(0, 30), Array(30).fill(201));
  t.is(statuses[30], 429);
  const colleague = await loggedIn();
  t.is(
    (await colleague.browser.request('POST', '/techtest/results', { json: goodResult(), headers: asApi })).status,
    201,
  );
});

test('the line samples fit a handful of test runs; a download loop is cut off, downloads and uploads counted together', async (t) => {
  const { browser } = await loggedIn();
  const statuses: number[] = [];
  for (let i = 0; i < 60; i += 1) statuses.push((await browser.get(`/techtest/download?bytes=1&n=${i}`)).status);
  for (let i = 0; i < 60; i += 1)
    statuses.push(
      (
        await browser.request('POST', '/techtest/upload', {
          body: 'x',
          headers: { 'content-type': 'application/octet-stream', 'x-csrf-token': browser.crumb! },
        })
      ).status,
    );
  t.deepEqual(statuses, Array(120).fill(200));
  t.is((await browser.get('/techtest/download?bytes=1&n=last')).status, 429);
  const colleague = await loggedIn();
  t.is((await colleague.browser.get('/techtest/download?bytes=1')).status, 200, 'another person is not held up');
});

test('the entry path can mount the same test for a participant, who is refused without a subject', async (t) => {
  // As the entry plugin will: its own path, its own authentication, the participant as subject.
  app.server.route(
    techTestRoutes({
      path: '/m/techtest',
      auth: false,
      subject: (request) => {
        const id = request.headers['x-test-participant'];
        if (typeof id !== 'string') throw Boom.forbidden('Open your invitation link first');
        return { type: 'participant', id };
      },
      next: () => '/m/waiting',
    }),
  );
  const guest = app.client();
  const participant = { 'x-test-participant': 'b7c1e0de-0000-4000-8000-0000000000aa' };
  const page = await guest.get('/m/techtest', participant);
  t.is(page.status, 200);
  t.regex(page.text, /data-base="\/m\/techtest"/);
  t.regex(page.text, /<a class="button" href="\/m\/waiting">Fortsätt<\/a>/);
  const stored = await guest.request('POST', '/m/techtest/results', {
    json: goodResult(),
    headers: { ...asApi, ...participant },
  });
  t.is(stored.status, 201);
  const result = await latestResult(app.server.app.db, { type: 'participant', id: participant['x-test-participant'] });
  t.is(result?.id, stored.json().id);
  t.is((await guest.get('/m/techtest/ice', asApi)).status, 403);
});

test("a participant's test subject names them, or their proxy, and reads back as who took the test", (t) => {
  const id = '6f1c2b9e-4c1a-4f3e-9b7a-2d5e8c0a1f34';
  for (const person of ['main', 'proxy'] as const)
    t.deepEqual(testTaker(participantSubject({ participantId: id, person })), { participantId: id, person });
  t.is(participantSubject({ participantId: id, person: 'proxy' }).id, `${id}:proxy`);
  t.is(testTaker({ type: 'staff_session', id: 'a-session' }), undefined);
});

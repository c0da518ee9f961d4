// The identity step for participants booked with BankID or SITHS, against a real OpenID Connect
// provider (oidc-provider on loopback): the booked personal identity number must come back from the
// provider; another number is refused, recorded for staff, and never shown or logged in full.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { timeline } from '../../appliance/src/connlog/store.ts';
import { checkIdentity } from '../../appliance/src/entry/identify.ts';
import { findMeeting } from '../../appliance/src/meetings/store.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { signInAt, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { present } from '../helpers/present.ts';
import { mailedPath } from '../helpers/wait.ts';

const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

interface World {
  app: TestServer;
  idp: TestIdp;
  relay: Relay;
  /** The same appliance without an identity provider. */
  bare: TestServer;
}

let world: World;
test.before(async () => {
  const [relay, idp] = await Promise.all([startRelay(), startIdp()]);
  const [app, bare] = await Promise.all([
    startServer({ env: { ...idp.env, SMTP_URL: relay.url, REMINDER_OFFSETS: 'none' } }),
    startServer({ env: { SMTP_URL: relay.url, REMINDER_OFFSETS: 'none' } }),
  ]);
  idp.trust(app.url);
  world = { app, idp, relay, bare };
});
test.after.always(async () => {
  await world?.app.stop();
  await world?.bare.stop();
  await world?.idp.close();
  await world?.relay.close();
});

/** A valid personal identity number (Luhn) born on the given day, with serial `serial`. */
export function personalNumber(yyyymmdd: string, serial: number): string {
  const nine = `${yyyymmdd.slice(2)}${String(serial).padStart(3, '0')}`;
  let sum = 0;
  for (let i = 0; i < 9; i += 1) {
    let d = Number(nine[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return `${yyyymmdd}-${String(serial).padStart(3, '0')}${(10 - (sum % 10)) % 10}`;
}

let serial = 100;
const nextNumber = () => personalNumber('19800314', (serial += 1));

interface Booked {
  meetingId: string;
  participantId: string;
  staffClient: Client;
  /** The link in the invitation mailed to `email` (one of those the booking waited for). */
  linkOf(email: string): string;
}

/**
 * Books a meeting with `participant` invited by e-mail (after a patient, if it is a guest); returns each
 * invited person's link.
 */
async function book(app: TestServer, participant: Record<string, unknown>, emails: string[]): Promise<Booked> {
  const { client } = await loggedIn(app);
  const patient = {
    kind: 'patient',
    name: 'Sara Lind',
    email: uniqueEmail('patient'),
    identification: 'sms',
    mobile: '070-123 45 67',
  };
  const participants = participant.kind === 'guest' ? [patient, participant] : [participant];
  const reply = await client.request('POST', '/api/v1/meetings', { json: booking({ participants }) });
  if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.text}`);
  const meeting = reply.json();
  const links: Record<string, string> = {};
  for (const email of emails) links[email] = await mailedPath(world.relay, email);
  return {
    meetingId: meeting.id,
    participantId: meeting.participants[participants.length - 1].id,
    staffClient: client,
    linkOf: (email) => present(links[email], `the link mailed to ${email}`),
  };
}

const uniqueEmail = (who: string) => `${who}.${Math.random().toString(36).slice(2)}@example.se`;

/** Opens the link and types the name: the guest session the identity step needs. */
async function enter(app: TestServer, path: string, name: string): Promise<Client> {
  const guest = app.client();
  await guest.get(path, { 'user-agent': chrome });
  const reply = await guest.request('POST', '/j', {
    form: { crumb: guest.crumb ?? '', token: path.slice(3), name },
    headers: { 'user-agent': chrome },
  });
  if (reply.status !== 302) throw new Error(`name step failed: ${reply.status}`);
  return guest;
}

/** Walks the identity step at the provider as `accountId`; returns the answer to the callback. */
async function identify(guest: Client, accountId: string) {
  const page = await guest.get('/entry/identify');
  const start = await guest.get('/entry/identify/start');
  if (start.status !== 302)
    throw new Error(`identification did not start: ${start.status} ${start.text.slice(0, 300)}`);
  const authorization = new URL(start.headers.get('location')!);
  const callback = new URL(await signInAt(authorization.href, accountId));
  return { page, authorization, callback, reply: await guest.get(`${callback.pathname}${callback.search}`) };
}

test('a patient booked with BankID identifies with the booked number and goes on to the technical test', async (t) => {
  const email = uniqueEmail('sara');
  const number = nextNumber();
  const booked = await book(
    world.app,
    { kind: 'patient', name: 'Sara Lind', email, identification: 'bankid', personalNumber: number },
    [email],
  );
  world.idp.addAccount(`sara-${number}`, { name: 'Sara Lind', personalNumber: number.replace('-', '') });
  const guest = await enter(world.app, booked.linkOf(email), 'Sara Lind');
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/identify');

  const { page, authorization, callback, reply } = await identify(guest, `sara-${number}`);
  t.is(page.status, 200);
  t.regex(page.text, /Identifiera dig med BankID/);
  t.is(authorization.searchParams.get('acr_values'), 'urn:test:bankid', 'BankID is asked for');
  t.is(authorization.searchParams.get('prompt'), 'login', 'never a session someone else left at the provider');
  t.is(authorization.searchParams.get('redirect_uri'), `${world.app.url}/entry/identify/callback`);
  t.true(callback.href.startsWith(`${world.app.url}/entry/identify/callback?`));
  t.is(reply.status, 302);
  t.is(reply.headers.get('location'), '/entry');
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/test');
  t.is((await guest.get('/entry/test')).status, 200);

  const entry = (await booked.staffClient.get(`/api/v1/meetings/${booked.meetingId}/entry`)).json();
  t.like(entry[0], { participantId: booked.participantId, identifiedBy: 'bankid', identityMismatches: 0 });
  const status = (await booked.staffClient.get(`/api/v1/meetings/${booked.meetingId}`)).json().participants[0].status;
  t.is(status, 'identified');
  t.false(world.app.logs().includes(number.replace('-', '')), 'the number never reaches a log line');
});

test('a patient who identifies with another personal number is refused, told to contact the clinic, and staff see it', async (t) => {
  const email = uniqueEmail('olle');
  const booked = await book(
    world.app,
    { kind: 'patient', name: 'Olle Berg', email, identification: 'bankid', personalNumber: nextNumber() },
    [email],
  );
  const other = nextNumber();
  world.idp.addAccount(`impostor-${other}`, { name: 'Olle Berg', personalNumber: other.replace('-', '') });
  const guest = await enter(world.app, booked.linkOf(email), 'Olle Berg');
  const { reply } = await identify(guest, `impostor-${other}`);
  t.is(reply.status, 403);
  t.regex(reply.text, /Identifieringen stämmer inte med inbjudan/);
  t.regex(reply.text, /Kontakta mottagningen/);
  t.regex(reply.text, /010-123 45 67/, "the clinic's number is on the page");
  t.false(reply.text.includes(other.replace('-', '').slice(-4)), 'no part of the number is shown');
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/identify', 'still not identified');
  t.is((await guest.get('/entry/test')).status, 403);

  const entry = (await booked.staffClient.get(`/api/v1/meetings/${booked.meetingId}/entry`)).json();
  t.like(entry[0], { identifiedBy: null, identityMismatches: 1 });
  t.truthy(entry[0].identityMismatchAt);
  const audit = await findAudit(world.app.server.app.db, {
    participantId: booked.participantId,
    action: 'entry.identify.mismatch',
  });
  t.deepEqual(
    audit.map((a) => a.details),
    [{ method: 'bankid', person: 'main', reason: 'mismatch' }],
  );
  t.false(world.app.logs().includes(other.replace('-', '')));
  // Support, called by the patient who "could not get in", reads the refusal in the connection log.
  const logged = await timeline(world.app.server.app.db, {
    meetingId: booked.meetingId,
    participantId: booked.participantId,
  });
  t.like(
    logged.find((e) => e.type === 'identity_mismatch'),
    { error: true, details: { person: 'main' } },
  );
  t.false(JSON.stringify(logged).includes(other.replace('-', '').slice(2)), 'not the number in the log');
  const { client: support } = await loggedIn(world.app, 'support');
  const page = await support.get(`/connlog/meetings/${booked.meetingId}?errors=1`);
  t.regex(page.text, /Identifieringen stämde inte med inbjudan \(deltagaren\)/);
});

test("a proxy identifies with the proxy's own number, not the patient's", async (t) => {
  const patientEmail = uniqueEmail('pat');
  const proxyEmail = uniqueEmail('proxy');
  const patientNumber = nextNumber();
  const proxyNumber = nextNumber();
  const booked = await book(
    world.app,
    {
      kind: 'patient_proxy',
      name: 'Lilla Lind',
      email: patientEmail,
      identification: 'bankid',
      personalNumber: patientNumber,
      proxy: { name: 'Mamma Lind', email: proxyEmail, personalNumber: proxyNumber },
    },
    [patientEmail, proxyEmail],
  );
  world.idp.addAccount(`patient-${patientNumber}`, { name: 'Lilla Lind', personalNumber: patientNumber });
  world.idp.addAccount(`proxy-${proxyNumber}`, { name: 'Mamma Lind', personalNumber: proxyNumber });
  const proxy = await enter(world.app, booked.linkOf(proxyEmail), 'Mamma Lind');
  t.is(
    (await identify(proxy, `patient-${patientNumber}`)).reply.status,
    403,
    "the patient's number does not let the proxy in",
  );
  t.is((await identify(proxy, `proxy-${proxyNumber}`)).reply.headers.get('location'), '/entry');
  const entry = (await booked.staffClient.get(`/api/v1/meetings/${booked.meetingId}/entry`)).json();
  t.like(
    entry.find((e: any) => e.person === 'proxy'),
    { identifiedBy: 'bankid', identityMismatches: 1 },
  );
});

test('a guest booked with SITHS identifies at the provider with their card and the invited name', async (t) => {
  const email = uniqueEmail('kurator');
  const booked = await book(world.app, { kind: 'guest', name: 'Kurator Kim Ek', email, identification: 'siths' }, [
    email,
  ]);
  world.idp.addAccount(`kim-${email}`, { name: 'Kurator Kim Ek', hsaId: 'SE2321000131-E000000099' });
  world.idp.addAccount(`someone-${email}`, { name: 'Någon Annan', hsaId: 'SE2321000131-E000000098' });
  const guest = await enter(world.app, booked.linkOf(email), 'Kurator Kim Ek');
  const wrong = await identify(guest, `someone-${email}`);
  t.is(wrong.authorization.searchParams.get('acr_values'), 'urn:test:siths');
  t.is(wrong.reply.status, 403);
  t.false(wrong.reply.text.includes('Någon Annan'));
  const right = await identify(guest, `kim-${email}`);
  t.is(right.reply.headers.get('location'), '/entry');
  const entry = (await booked.staffClient.get(`/api/v1/meetings/${booked.meetingId}/entry`)).json();
  t.like(
    entry.find((e: any) => e.participantId === booked.participantId),
    { identifiedBy: 'siths', identityMismatches: 1 },
  );
});

test("an identification answer is refused in another guest's session and when replayed", async (t) => {
  const [a, b] = [uniqueEmail('anna'), uniqueEmail('bo')];
  const numberA = nextNumber();
  const bookedA = await book(
    world.app,
    { kind: 'patient', name: 'Anna Ås', email: a, identification: 'bankid', personalNumber: numberA },
    [a],
  );
  const bookedB = await book(
    world.app,
    { kind: 'patient', name: 'Bo Ek', email: b, identification: 'bankid', personalNumber: nextNumber() },
    [b],
  );
  world.idp.addAccount(`anna-${numberA}`, { name: 'Anna Ås', personalNumber: numberA });
  const anna = await enter(world.app, bookedA.linkOf(a), 'Anna Ås');
  const bo = await enter(world.app, bookedB.linkOf(b), 'Bo Ek');
  // Anna's answer from the provider, presented by Bo's browser: no flow of Bo's has that state.
  await anna.get('/entry/identify');
  const start = await anna.get('/entry/identify/start');
  const callback = new URL(await signInAt(start.headers.get('location')!, `anna-${numberA}`));
  const stolen = await bo.get(`${callback.pathname}${callback.search}`);
  t.is(stolen.status, 401);
  t.is((await bo.get('/entry')).headers.get('location'), '/entry/identify');
  // The state was spent by that attempt: Anna must start again, and then gets in.
  t.is((await anna.get(`${callback.pathname}${callback.search}`)).status, 401);
  t.is((await identify(anna, `anna-${numberA}`)).reply.headers.get('location'), '/entry');
});

test('without an identity provider the identity step stays an honest page, with no way around it', async (t) => {
  const email = uniqueEmail('utan');
  const { client } = await loggedIn(world.bare);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        { kind: 'patient', name: 'Utan Idp', email, identification: 'bankid', personalNumber: nextNumber() },
      ],
    }),
  });
  t.is(reply.status, 201);
  const guest = await enter(world.bare, await mailedPath(world.relay, email), 'Utan Idp');
  const page = await guest.get('/entry/identify');
  t.is(page.status, 503);
  t.regex(page.text, /går inte att göra här ännu/);
  t.notRegex(page.text, /href="\/entry\/identify\/start"/);
  const start = await guest.get('/entry/identify/start');
  t.is(start.headers.get('location'), '/entry');
  t.is((await guest.get('/entry/test')).status, 403);
});

test("a colleague booked with SITHS matches by the HSA-ID on the colleague's staff account", async (t) => {
  // Colleagues open the meeting from their own calendar (they get no one-time link), so this is
  // the rule on its own: the provider's HSA-ID against the staff account's.
  const { staff: colleague } = await world.app.staff('clinician', undefined, { hsaId: 'SE2321000131-E000000777' });
  const { client } = await loggedIn(world.app);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
        { kind: 'colleague', staffEmail: colleague.email },
      ],
    }),
  });
  t.is(reply.status, 201);
  const meeting = (await findMeeting(world.app.server.app.db, reply.json().id))!;
  const participant = present(
    meeting.participants.find((p) => p.kind === 'colleague'),
    'the colleague',
  );
  t.is(participant.identification, 'siths');
  const invitation = {
    person: 'main' as const,
    participant,
    meeting,
    unit: undefined,
    invitedName: participant.name,
    mobile: null,
  };
  const identity = (hsaId: string | null) => ({
    subject: 's',
    hsaId,
    name: colleague.name,
    email: null,
    personalNumber: null,
    idToken: undefined,
  });
  const { db, config } = world.app.server.app;
  t.is(await checkIdentity(db, config.dataKey, invitation, 'siths', identity('se2321000131-e000000777')), 'match');
  t.is(await checkIdentity(db, config.dataKey, invitation, 'siths', identity('SE2321000131-E000000778')), 'mismatch');
  t.is(await checkIdentity(db, config.dataKey, invitation, 'siths', identity(null)), 'missing');
});

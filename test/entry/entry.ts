// The way in, as patients and guests walk it: the link from their real invitation (SMTP relay and
// SMSC started here), the name check, the SMS code, the browser the link binds to.
import test from 'ava';
import { namesMatch } from '../../appliance/src/common/names.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { present } from '../helpers/present.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { delivered, startSmsc, type Arrival, type TestSmsc } from '../helpers/smsc.ts';
import { mailedPath, until } from '../helpers/wait.ts';

const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const safariMac =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const safariPhone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

const textOf = (a: Arrival) => {
  const sm = a.pdu.short_message as { message?: string } | string;
  return typeof sm === 'string' ? sm : String(sm.message ?? '');
};

interface World {
  app: TestServer;
  relay: Relay;
  smsc: TestSmsc;
}

let world: World;
test.before(async () => {
  const relay = await startRelay();
  const smsc = await startSmsc(delivered('e'));
  // Behind a trusted proxy, so that a test can come from its own address (the limits are per address).
  const app = await startServer({
    env: { SMTP_URL: relay.url, SMPP_URL: smsc.url, REMINDER_OFFSETS: 'none', TRUSTED_PROXIES: '127.0.0.1' },
  });
  world = { app, relay, smsc };
});
test.after.always(async () => {
  await world?.app.stop();
  await world?.smsc.close();
  await world?.relay.close();
});

/** The texts of the SMS to one number (tests run side by side: each uses its own number). */
const smsTo = (number: string) =>
  world.smsc.arrivals.filter((a) => a.pdu.destination_addr === number.replace('+', '')).map(textOf);

/**
 * A person's browser, from an address of its own as people's are: the link page's limit per address
 * (60 in ten minutes) would otherwise count every test in this file as one visitor from 127.0.0.1,
 * and one more link opened anywhere in the file would refuse another test's (429) at random.
 */
let people = 0;
function person() {
  const client = world.app.client();
  people += 1;
  client.headers['x-forwarded-for'] = `203.0.113.${people}`;
  return client;
}

/** The link in the invitation SMS to `number`. */
const smsLink = (number: string) =>
  until(`an invitation to ${number}`, () => /\/j\/[\w-]{24}/.exec(smsTo(number).join(''))?.[0]);

/** The path (/j/…) of the one-time link in an invitation e-mail. */
const mailLink = (text: string | undefined) =>
  present(/http:\/\/[^/]+(\/j\/[\w-]+)/.exec(text ?? '')?.[1], 'the link in the invitation e-mail');

/** The SMS with the code that the code page sends to `number`, and the code in it. */
async function smsCode(number: string): Promise<{ sms: string; code: string }> {
  const sms = await until('the code', () => smsTo(number).find((x) => x.startsWith('Din kod')));
  return { sms, code: present(/: (\d{6})\./.exec(sms)?.[1], 'the six digits in the SMS') };
}

/** Books a meeting with one guest invited by e-mail and returns the link from the mail. */
async function invitedByEmail(
  name = 'Lärare Eva Ek',
): Promise<{ path: string; token: string; meetingId: string; participantId: string; clinician: Client }> {
  const { app, relay } = world;
  const { client } = await loggedIn(app);
  const email = `eva.${Math.random().toString(36).slice(2)}@skola.example`;
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
        { kind: 'guest', name, email, identification: 'none' },
      ],
    }),
  });
  const meeting = reply.json();
  const path = await mailedPath(relay, email);
  return {
    path,
    token: path.slice(3),
    meetingId: meeting.id,
    participantId: meeting.participants[1].id,
    clinician: client,
  };
}

async function openAndType(guest: Client, path: string, name: string) {
  const page = await guest.get(path, { 'user-agent': chrome });
  const token = path.slice(3);
  return {
    page,
    reply: await guest.request('POST', '/j', {
      form: { crumb: guest.crumb ?? '', token, name },
      headers: { 'user-agent': chrome },
    }),
  };
}

/** A Swedish mobile number as typed at booking ("070-…"), in the form the SMSC sees (+4670…). */
const e164 = (mobile: string) => `+46${mobile.replace(/\D/g, '').slice(1)}`;

/**
 * A clinician books a meeting with Sara Lind, to be identified by an SMS code at `mobile`; Sara opens
 * the link in her SMS (from her own address when `address` is given) and types her name.
 */
async function saraFollowsHerSms(mobile: string, address?: string) {
  const { client } = await loggedIn(world.app);
  const meeting = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [{ kind: 'patient', name: 'Sara Lind', mobile, identification: 'sms' }] }),
    })
  ).json();
  const guest = person();
  if (address) guest.headers['x-forwarded-for'] = address;
  const typed = await openAndType(guest, await smsLink(e164(mobile)), 'Sara Lind');
  return { client, meeting, guest, typed };
}

/** Sara on the code page, with the code her SMS brought. */
async function saraWithHerCode(mobile: string, address?: string) {
  const sara = await saraFollowsHerSms(mobile, address);
  await sara.guest.get('/entry/code');
  return { ...sara, code: (await smsCode(e164(mobile))).code };
}

/** Sara's invitation as the entry service holds it: what a code is checked against. */
async function saraInvitation(meeting: { participants: { id: string }[] }) {
  const current = await world.app.server.plugins.entry.service.current({
    participantId: present(meeting.participants[0], 'Sara, booked').id,
    person: 'main',
  });
  return present(current, "Sara's invitation").invitation;
}

test('names match after trimming, collapsing spaces, Unicode composition and case — not with another spelling', (t) => {
  t.true(namesMatch('  lärare   EVA ek ', 'Lärare Eva Ek'));
  t.true(namesMatch('La\u0308rare Eva Ek', 'Lärare Eva Ek'), 'decomposed ä');
  t.false(namesMatch('Larare Eva Ek', 'Lärare Eva Ek'));
  t.false(namesMatch('Eva Ek', 'Lärare Eva Ek'));
});

test("names match whichever apostrophe or hyphen a phone's keyboard puts in them: a phone's typographic ’ is the booking's '", (t) => {
  // iPhones and Macs turn ' into ’ as it is typed (smart punctuation); a booking typed on the ward's
  // Windows computer has the plain one. Five tries of the right name would lock the link.
  t.true(namesMatch('Sinéad O’Brien', "Sinéad O'Brien"));
  t.true(namesMatch("Sinéad O'Brien", 'Sinéad O‘Brien'));
  t.true(namesMatch('Aïcha N\u02bcDiaye', "Aïcha N'Diaye"), 'the modifier letter apostrophe');
  t.true(namesMatch('Anna\u2010Karin Berg', 'Anna-Karin Berg'), 'a Unicode hyphen');
  t.true(namesMatch('Anna\u2011Karin Berg', 'Anna-Karin Berg'), 'a non-breaking hyphen');
  t.true(namesMatch('Anna–Karin Berg', 'Anna-Karin Berg'), 'the dash a Mac types for option-hyphen');
  t.false(namesMatch('Sinéad OBrien', "Sinéad O'Brien"), 'an apostrophe left out is another spelling');
  t.false(namesMatch('Anna Karin Berg', 'Anna-Karin Berg'), 'a space is not a hyphen');
});

test('a guest invited by e-mail cannot join with a misspelt name, and the page does not reveal the invited name', async (t) => {
  const { path, participantId } = await invitedByEmail();
  const guest = person();
  const { page, reply } = await openAndType(guest, path, 'Lärare Eva Eck');
  t.is(page.status, 200);
  t.regex(page.text, /Du är inbjuden till ett digitalt möte/);
  t.regex(page.text, /Barn- och ungdomsmedicin har bjudit in dig/);
  t.false(page.text.includes('Lärare Eva Ek'), 'the invited name is not on the page');
  t.is(reply.status, 400);
  t.regex(reply.text, /Namnet stämmer inte med inbjudan\. Kontrollera stavningen\. Du har 4 försök kvar\./);
  t.regex(reply.text, /Barn- och ungdomsmedicin har bjudit in dig/, 'the page names the clinic again');
  t.false(reply.text.includes('Lärare Eva Ek'));
  t.false(guest.cookies.has('samverka_guest'));
  // Support sees the failed try on the meeting's timeline (never the name that was typed).
  const entries = async () =>
    world.app.server.app.db('connlog_entries').where({ participant_id: participantId, type: 'name_failed' });
  const logged = await until('the timeline entry', async () =>
    (await entries()).length > 0 ? await entries() : undefined,
  );
  t.is(logged.length, 1);
  t.false(JSON.stringify(logged).includes('Eva Eck'));
});

test('the right name binds the link to this browser and leads on without the token in any URL', async (t) => {
  const { path, token } = await invitedByEmail();
  const guest = person();
  const { page, reply } = await openAndType(guest, path, ' lärare  eva EK ');
  t.is(page.headers.get('referrer-policy'), 'no-referrer');
  t.is(page.headers.get('cache-control'), 'no-store');
  // Invited with no identification: the name was enough, and the answer is the test itself (a
  // redirect would cost a mobile line a round trip); its script makes /entry/test the address.
  t.is(reply.status, 200);
  t.regex(reply.text, /Starta testet/);
  t.regex(reply.text, /data-here="\/entry\/test"/, 'the technical test page, standing for /entry/test');
  t.is(reply.headers.get('location'), null);
  t.is(reply.headers.get('cache-control'), 'no-store', 'the page holds TURN credentials: never kept');
  t.false(reply.text.includes(token));
  t.regex(
    present(
      reply.headers.getSetCookie().find((c) => c.startsWith('samverka_guest=')),
      'the guest session cookie',
    ),
    /HttpOnly; SameSite=Lax/,
  );
  const next = await guest.get('/entry');
  t.is(next.headers.get('location'), '/entry/test', 'and /entry says the same');
  const test_ = await guest.get('/entry/test');
  t.is(test_.status, 200);
  t.false(String(next.headers.get('location')).includes(token));
  t.false(world.app.logs().includes(token), 'the token never reaches a log line');
  // Returning through the same link in the same browser goes straight back in.
  const again = await guest.get(path, { 'user-agent': chrome });
  t.is(again.status, 302);
  t.is(again.headers.get('location'), '/entry');
});

test('a guest already in is shown out on the next page once the meeting is cancelled or they are taken off it', async (t) => {
  // Each page reads the meeting afresh: nothing the guest's session saw before the change lets them on.
  const cancelled = await invitedByEmail();
  const removed = await invitedByEmail();
  const guests = [person(), person()];
  for (const [guest, invited] of [
    [guests[0]!, cancelled],
    [guests[1]!, removed],
  ] as const) {
    t.is((await openAndType(guest, invited.path, 'Lärare Eva Ek')).reply.status, 200);
    t.is((await guest.get('/entry')).headers.get('location'), '/entry/test');
  }
  const cancelling = await cancelled.clinician.request('POST', `/api/v1/meetings/${cancelled.meetingId}/cancel`, {
    json: { version: 1, reason: 'Patienten är inlagd' },
  });
  t.is(cancelling.status, 200);
  const removing = await removed.clinician.request(
    'DELETE',
    `/api/v1/meetings/${removed.meetingId}/participants/${removed.participantId}?version=1`,
    { headers: { 'x-csrf-token': removed.clinician.crumb ?? '' } },
  );
  t.is(removing.status, 200);
  for (const [guest, told] of [
    [guests[0]!, /Mötet är inställt/],
    // Taken off a meeting that goes on: told their link no longer holds and to ask the clinic, not
    // that the meeting is cancelled.
    [guests[1]!, /Länken gäller inte längre/],
  ] as const) {
    const page = await guest.get('/entry');
    t.is(page.status, 410);
    t.regex(page.text, told);
    if (guest === guests[1]) t.notRegex(page.text, /Mötet är inställt/);
    // Why, in the clinic's words, as the cancellation message said it; nothing of the kind to the one taken off.
    if (guest === guests[0]) t.regex(page.text, /Mottagningen skrev: <q>Patienten är inlagd<\/q>/);
    else t.notRegex(page.text, /Mottagningen skrev/);
    const result = await guest.request('POST', '/entry/test/results', {
      json: { camera: 'yes', microphone: 'detected', sound: 'yes', network: { relayConfigured: false } },
      headers: { 'x-csrf-token': guest.crumb ?? '' },
    });
    t.is(result.status, 403, 'no test result is taken for a meeting the guest is no longer in');
  }
  // The link itself, opened again in another browser, says the same.
  const byLink = await person().get(cancelled.path, { 'user-agent': chrome });
  t.is(byLink.status, 410);
  t.regex(byLink.text, /Mötet är inställt[\s\S]*Mottagningen skrev: <q>Patienten är inlagd<\/q>/);
});

test('a link opened only by a mail scanner (GET) still works for the person', async (t) => {
  const { path } = await invitedByEmail();
  const scanner = person();
  for (let i = 0; i < 3; i++) t.is((await scanner.get(path, { 'user-agent': chrome })).status, 200);
  const { reply } = await openAndType(person(), path, 'Lärare Eva Ek');
  t.is(reply.status, 200);
  t.regex(reply.text, /data-here="\/entry\/test"/);
});

test('a used link in a second browser is refused with a page saying how to get a new one', async (t) => {
  const { path } = await invitedByEmail();
  await openAndType(person(), path, 'Lärare Eva Ek');
  const other = await person().get(path, { 'user-agent': firefox });
  t.is(other.status, 409);
  t.regex(other.text, /Länken har redan använts/);
  t.regex(other.text, /be mottagningen skicka en ny länk/);
  t.regex(other.text, /010-123 45 67/);
});

test('five wrong names lock the link; staff see it and a re-sent invitation lets the person in', async (t) => {
  const { path, meetingId, participantId } = await invitedByEmail();
  const guest = person();
  for (let i = 0; i < 4; i++) t.is((await openAndType(guest, path, `Fel Namn ${i}`)).reply.status, 400);
  const fifth = await openAndType(guest, path, 'Fel Namn 5');
  t.is(fifth.reply.status, 423);
  t.regex(fifth.reply.text, /Länken är spärrad/);
  t.is((await openAndType(guest, path, 'Lärare Eva Ek')).reply.status, 423, 'even the right name, once locked');

  const { client } = await loggedIn(world.app);
  const entry = (await client.get(`/api/v1/meetings/${meetingId}/entry`)).json();
  const locked = entry.find((e: { participantId: string }) => e.participantId === participantId);
  t.true(locked.locked);
  t.regex(
    (await client.get(`/meetings/${meetingId}`)).text,
    /class="problem">Länken är spärrad efter fel namn för många gånger\. Skicka inbjudan igen\./,
    'the meeting page says so',
  );
  const meeting = (await client.get(`/api/v1/meetings/${meetingId}`)).json();
  const address = meeting.participants.find((p: { id: string }) => p.id === participantId).email;
  const mailsBefore = world.relay.received.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address)).length;
  const resend = await client.request('POST', `/api/v1/meetings/${meetingId}/participants/${participantId}/resend`, {
    json: { version: meeting.version },
  });
  t.true(resend.status < 300, resend.text);
  const resent = await until('the re-sent invitation', () => {
    const mails = world.relay.received.filter((m) => m.to && 'text' in m.to && m.to.text.includes(address));
    return mails.length > mailsBefore ? mails.at(-1) : undefined;
  });
  const fresh = mailLink(resent.text);
  t.is((await person().get(path, { 'user-agent': chrome })).status, 410, 'the old link is revoked');
  t.is((await openAndType(person(), fresh, 'Lärare Eva Ek')).reply.status, 200);
});

test("in the meeting room's panel staff see whose link is locked and who is identified: the patient's or the proxy's", async (t) => {
  const { client } = await loggedIn(world.app);
  const meeting = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({
        participants: [
          {
            kind: 'patient_proxy',
            name: 'Sara Lind',
            mobile: '070-765 43 40',
            identification: 'sms',
            proxy: { name: 'Anna Lind', mobile: '070-765 43 41' },
          },
        ],
      }),
    })
  ).json();
  // Sara mistypes her name five times: her link locks. Anna, the proxy, comes in with her SMS code.
  // Each from her own address: the limits on links opened are per address.
  const sara = person();
  sara.headers['x-forwarded-for'] = '198.51.100.40';
  const saras = await smsLink(e164('070-765 43 40'));
  for (let i = 0; i < 5; i++) await openAndType(sara, saras, `Fel Namn ${i}`);
  const anna = person();
  anna.headers['x-forwarded-for'] = '198.51.100.41';
  await openAndType(anna, await smsLink(e164('070-765 43 41')), 'Anna Lind');
  await anna.get('/entry/code');
  const { code } = await smsCode(e164('070-765 43 41'));
  t.is((await anna.request('POST', '/entry/code', { form: { crumb: anna.crumb!, code } })).status, 200);
  const panel = (await client.get(`/meetings/${meeting.id}/room`)).text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  t.regex(panel, /Sara Lind: Länken är spärrad/);
  t.notRegex(panel, /Anna Lind \(ombud\): Länken är spärrad/);
  t.regex(panel, /Identifiering Sara Lind: Inte ännu Anna Lind \(ombud\): Sms-kod · namnet stämde/);
});

test('ten names typed at once get the five tries one person typing gets, not ten', async (t) => {
  const { path, token } = await invitedByEmail();
  const guest = person();
  guest.headers['x-forwarded-for'] = '198.51.100.7';
  await guest.get(path, { 'user-agent': chrome });
  const names = Array.from({ length: 9 }, (_, i) => `Fel Namn ${i}`);
  names.splice(4, 0, 'Lärare Eva Ek');
  const replies = await Promise.all(
    names.map((name) =>
      guest.request('POST', '/j', { form: { crumb: guest.crumb!, token, name }, headers: { 'user-agent': chrome } }),
    ),
  );
  const mismatches = replies.filter((r) => r.status === 400).length;
  t.true(mismatches <= 4, `${mismatches} wrong names were compared, at most four may be before the lock`);
  // The accepted name is answered with the technical test page itself.
  const bound = replies.filter((r) => r.status === 200).length;
  const locked = replies.filter((r) => r.status === 423).length;
  t.true(bound + locked >= 1 && bound <= 1, 'the link ends bound to one browser or locked');
  t.false(bound === 1 && locked > 0, 'never both');
});

test('the per-number limit of SMS codes counts without keeping the phone number (an erasure must leave it nowhere)', async (t) => {
  const mobile = '070-765 43 61';
  await saraWithHerCode(mobile);
  const keys: string[] = await world.app.server.app.db('attempt_counters').pluck('key');
  t.true(
    keys.some((k) => k.startsWith('sms-code-number:')),
    'the number is counted',
  );
  const digits = e164(mobile).slice(1);
  t.deepEqual(
    keys.filter((k) => k.includes(digits.slice(2))),
    [],
    'no key holds the number',
  );
});

test('twenty codes typed at once get the five tries one person typing gets', async (t) => {
  const { guest, code, meeting } = await saraWithHerCode('070-765 43 27', '198.51.100.8');
  const codes = Array.from({ length: 19 }, (_, i) => String((Number(code) + i + 1) % 1_000_000).padStart(6, '0'));
  codes.splice(15, 0, code);
  const replies = await Promise.all(
    codes.map((c) => guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code: c } })),
  );
  const answers = replies.map(
    (r) => `${r.status} ${/<p[^>]*role="alert"[^>]*>([^<]*)/.exec(r.text)?.[1] ?? r.text.slice(0, 80)}`,
  );
  const count = (pattern: RegExp) => replies.filter((r) => pattern.test(r.text)).length;
  // The requests reach the server in an order of their own: the right code may be among the first
  // five tries, as it may for one person typing, and then it lets Sara in and spends the code; the
  // codes after it find her identified and send her on.
  const wrong = count(/Fel kod\. Du har \d försök kvar/);
  const spent = count(/Koden har angetts fel för många gånger/);
  const after = replies.filter((r) => r.status === 302 && r.headers.get('location') === '/entry').length;
  const accepted = replies.filter((r) => r.status === 200).length;
  const all = `\n${answers.join('\n')}`;
  t.is(wrong + spent + after + accepted, 20, `every code gets an answer of the four${all}`);
  t.is(count(/Koden har gått ut/), 0, `a code is never called expired within its ten minutes${all}`);
  t.true(accepted <= 1, all);
  t.true(wrong <= 4, `only four tries can leave tries left${all}`);
  if (accepted === 1) {
    t.true(wrong <= 4 && spent === 0, `the right code was among the five tries: the rest find her identified${all}`);
  } else {
    t.true(spent >= 15, `only ${spent} of 20 were refused as out of tries: more than five were compared${all}`);
  }
  const sara = present(meeting.participants[0], 'Sara, booked');
  const state: { code_failures: number | string } = await world.app.server.app
    .db('entry_persons')
    .where({ participant_id: sara.id, person: 'main' })
    .first('code_failures');
  t.true(Number(state.code_failures) <= 5, `${state.code_failures} tries taken: five at most`);
});

test('twenty codes checked at once by the service count as twenty tries: five compared, the right one refused after them', async (t) => {
  const { meeting, code } = await saraWithHerCode('070-765 43 28', '198.51.100.9');
  const service = world.app.server.plugins.entry.service;
  const invitation = await saraInvitation(meeting);
  const codes = Array.from({ length: 19 }, (_, i) => String((Number(code) + i + 1) % 1_000_000).padStart(6, '0'));
  codes.push(code);
  // All at once, the right code last: every check reads and writes in the same few statements.
  const outcomes = (await Promise.all(codes.map((c) => service.checkCode(invitation, c)))).map((r) => r.outcome);
  t.is(outcomes.filter((o) => o === 'wrong').length, 4);
  t.is(outcomes.filter((o) => o === 'exhausted').length, 16);
  t.is(outcomes.at(-1), 'exhausted', 'the right code came after five tries');
});

test('on a computer only Chrome, Firefox and Edge are let in; a phone may use its own browser', async (t) => {
  const { path } = await invitedByEmail();
  const safari = await person().get(path, { 'user-agent': safariMac });
  t.regex(safari.text, /Webbläsaren du använder \(Safari 17\) fungerar inte för mötet/);
  t.regex(safari.text, /Google Chrome, Mozilla Firefox eller Microsoft Edge/);
  const phone = await person().get(path, { 'user-agent': safariPhone });
  t.regex(phone.text, /Ditt namn/);
});

test('an unknown or malformed link gets a page, not an error', async (t) => {
  const unknown = await person().get('/j/AAAAAAAAAAAAAAAAAAAAAAAA', { 'user-agent': chrome });
  t.is(unknown.status, 404);
  t.regex(unknown.text, /Länken fungerar inte/);
  // Whose link it is nobody knows here, but the person does: the number is in their invitation.
  t.regex(unknown.text, /Frågor\? Ring mottagningen som bjöd in dig\. Numret står i inbjudan\./);
  const malformed = await person().get('/j/%3Cscript%3E', { 'user-agent': chrome });
  t.is(malformed.status, 404);
  t.regex(malformed.text, /Numret står i inbjudan/);
});

test('a person invited with SMS identification gets a code by SMS that unlocks the way in', async (t) => {
  const { client, meeting, guest, typed } = await saraFollowsHerSms('070-765 43 21');
  t.is(typed.reply.status, 302);
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/code');
  const codePage = await guest.get('/entry/code');
  t.regex(codePage.text, /slutar på 21/);
  const { sms, code } = await smsCode('+46707654321');
  t.regex(sms, /^Din kod till det digitala mötet: \d{6}\. Koden gäller i 10 minuter\./);
  t.true(world.smsc.arrivals.every((a) => a.pdu.data_coding === 0));

  const wrong = await guest.request('POST', '/entry/code', {
    form: { crumb: guest.crumb!, code: code === '000000' ? '111111' : '000000' },
  });
  t.is(wrong.status, 400);
  t.regex(wrong.text, /Fel kod\. Du har 4 försök kvar\./);
  const right = await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code } });
  t.is(right.status, 200);
  t.regex(right.text, /data-here="\/entry\/test"/, 'the right code leads straight on to the test');
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/test');
  const participant = (await client.get(`/api/v1/meetings/${meeting.id}`)).json().participants[0];
  t.is(participant.status, 'identified');
  const entry = (await client.get(`/api/v1/meetings/${meeting.id}/entry`)).json();
  t.is(entry[0].identifiedBy, 'sms');
});

test('a code typed after the meeting has ended leads to the page that says it is over, not to a technical test for nothing', async (t) => {
  // From an address of its own: the file's tests share the per-address limit of link requests.
  const { meeting, guest, code } = await saraWithHerCode('070-765 43 55', '198.51.100.55');
  await world.app.server.plugins.rooms.service.end(meeting.id, 'Mötet är slut.', null);
  const right = await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code } });
  t.is(right.status, 302);
  t.is(right.headers.get('location'), '/entry/waiting');
  const page = await guest.get('/entry/waiting');
  t.regex(page.text, /Mötet är avslutat/);
});

test('the waiting room tells a person with a mobile number that the clinic calls them if the technology fails, and when the room opens', async (t) => {
  const { guest, code } = await saraWithHerCode('070-765 43 31');
  t.is((await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code } })).status, 200);
  const result = await guest.request('POST', '/entry/test/results', {
    json: { camera: 'yes', microphone: 'detected', sound: 'yes', network: { relayConfigured: false } },
    headers: { 'x-csrf-token': guest.crumb ?? '' },
  });
  t.is(result.status, 201, result.text.slice(0, 200));
  const waiting = await guest.get('/entry/waiting');
  t.is(waiting.status, 200);
  t.regex(waiting.text, /blir du uppringd på numret i bokningen/);
  t.notRegex(waiting.text, /ring mottagningen på <a/, 'only as the second way');
  t.regex(waiting.text, /Mötesrummet öppnar (kl\.|[^<]* kl\.)\u00a0\d\d:\d\d, en stund före mötet\./);
});

test('a code typed again once it has let the person in (a second tab, the back button) takes them on, not to "the code has expired"', async (t) => {
  const { guest, code } = await saraWithHerCode('070-765 43 29');
  const first = await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code } });
  t.is(first.status, 200);
  for (const again of [code, '000000']) {
    const reply = await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code: again } });
    t.is(reply.status, 302, reply.text.slice(0, 200));
    t.is(reply.headers.get('location'), '/entry');
  }
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/test', 'on to the test, as from the first tab');
});

test('five wrong codes spend the code, and the page offers a new one after its countdown', async (t) => {
  const { guest, code } = await saraWithHerCode('070-765 43 22');
  const wrongCode = code === '123456' ? '654321' : '123456';
  for (let i = 0; i < 4; i++)
    await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code: wrongCode } });
  const fifth = await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code: wrongCode } });
  t.regex(fifth.text, /Koden har angetts fel för många gånger\. Be om en ny kod\./);
  const right = await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code } });
  t.is(right.status, 400, 'the right code no longer helps');
  const tooSoon = await guest.request('POST', '/entry/code/resend', { form: { crumb: guest.crumb! } });
  t.is(tooSoon.status, 429);
  t.regex(tooSoon.text, /data-wait="\d+"/, 'the countdown');
});

test('the guest pages cannot be reached without a guest session, and the tech test not before identification', async (t) => {
  for (const path of ['/entry', '/entry/code', '/entry/test', '/entry/waiting', '/entry/meeting']) {
    t.is((await person().get(path)).status, 401, path);
  }
  const { guest } = await saraFollowsHerSms('070-765 43 23');
  t.is((await guest.get('/entry/test')).status, 403, 'identify with the code first');
  t.is((await guest.get('/entry/waiting')).headers.get('location'), '/entry');
});

test('a guest who has not taken the technical test is sent to it, not into the open room, also by typing its address', async (t) => {
  const { path, meetingId } = await invitedByEmail();
  const guest = person();
  const { reply } = await openAndType(guest, path, 'Lärare Eva Ek');
  t.is(reply.status, 200, 'the technical test, shown at once');
  // Eva leaves it. The clinician has opened the room.
  await world.app.server.app.db('meetings').where({ id: meetingId }).update({ status: 'open' });
  const meeting = await guest.get('/entry/meeting', { 'user-agent': chrome });
  t.is(meeting.status, 302);
  t.is(meeting.headers.get('location'), '/entry/test');
});

test('a patient booked with BankID sees an honest page that identification is not available yet, never a way around it', async (t) => {
  const { client } = await loggedIn(world.app);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        {
          kind: 'patient',
          name: 'Sara Lind',
          mobile: '070-765 43 24',
          identification: 'bankid',
          personalNumber: '19121212-1212',
        },
      ],
    }),
  });
  t.is(reply.status, 201, reply.text);
  const path = await smsLink('+46707654324');
  const guest = person();
  await openAndType(guest, path, 'Sara Lind');
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/identify');
  const page = await guest.get('/entry/identify');
  t.is(page.status, 503);
  t.regex(page.text, /Identifiering med BankID går inte att göra här ännu/);
  t.is((await guest.get('/entry/test')).status, 403);
});

test('an SMS code is refused once its ten minutes have passed', async (t) => {
  const { meeting, code } = await saraWithHerCode('070-765 43 25');
  const service = world.app.server.plugins.entry.service;
  const invitation = await saraInvitation(meeting);
  t.is((await service.checkCode(invitation, code, new Date(Date.now() + 11 * 60_000))).outcome, 'expired');
  t.is(
    (await service.checkCode(invitation, code, new Date(Date.now() + 9 * 60_000))).outcome,
    'ok',
    'still good within its ten minutes',
  );
});

test('the language switch on a page under a link carries the token in a form, never in an address', async (t) => {
  const { path, token } = await invitedByEmail();
  const guest = person();
  const page = await guest.get(path, { 'user-agent': chrome });
  t.false(
    /href="[^"]*\/j\/[\w-]+/.test(page.text.replace(/name="token" value="[^"]+"/g, '')),
    'no link carries the token',
  );
  t.false(page.text.includes(`next=${encodeURIComponent(path)}`) || page.text.includes(`next=${path}`));
  t.regex(page.text, /<form method="post" action="\/j" class="lang-switch">/);
  const english = await guest.request('POST', '/j', {
    form: { crumb: guest.crumb!, token, lang: 'en' },
    headers: { 'user-agent': chrome },
  });
  t.is(english.status, 200);
  t.regex(english.text, /<html lang="en">/);
  t.regex(english.text, /You are invited to a digital meeting/);
  t.regex(english.headers.getSetCookie().join(';'), /lang=en/);
  // The same on a problem page under the link: a used link, in another browser.
  await guest.request('POST', '/j', {
    form: { crumb: guest.crumb!, token, name: 'Lärare Eva Ek' },
    headers: { 'user-agent': chrome },
  });
  const other = person();
  const used = await other.get(path, { 'user-agent': chrome });
  t.is(used.status, 409);
  t.false(used.text.includes(`next=${path}`) || used.text.includes(`next=${encodeURIComponent(path)}`));
  const usedEnglish = await other.request('POST', '/j', {
    form: { crumb: other.crumb!, token, lang: 'en' },
    headers: { 'user-agent': chrome },
  });
  t.is(usedEnglish.status, 409);
  t.regex(usedEnglish.text, /The link has already been used/);
  t.false(world.app.logs().includes(token));
});

test('a code typed on a phone whose keyboard gives Arabic-Indic or Persian digits is the same code: the form takes them and the code lets the person in', async (t) => {
  const { guest, code } = await saraWithHerCode('070-765 43 35');
  const page = await guest.get('/entry/code');
  // The field's own check (the browser refuses the form before sending it when this does not match).
  const pattern = present(/<input id="code"[^>]* pattern="([^"]*)"/.exec(page.text)?.[1], "the code field's pattern");
  const accepts = (typed: string) => new RegExp(`^(?:${pattern})$`, 'v').test(typed);
  const arabic = [...code].map((d) => String.fromCharCode(0x0660 + Number(d))).join('');
  const persian = [...code].map((d) => String.fromCharCode(0x06f0 + Number(d))).join('');
  t.true(accepts(code));
  t.true(accepts(arabic), 'Arabic-Indic digits');
  t.true(accepts(persian), 'Persian digits');
  t.false(accepts('12a456'), 'letters are still refused');
  const right = await guest.request('POST', '/entry/code', { form: { crumb: guest.crumb!, code: arabic } });
  t.is(right.status, 200, 'the Arabic-Indic digits are the code');
  t.is((await guest.get('/entry')).headers.get('location'), '/entry/test');
});

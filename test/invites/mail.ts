// The e-mail adapter against a real SMTP server (smtp-server, started here on a free port); what
// arrives is read back with mailparser, as a mail program would.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import type { ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { type MeetingCalendarEvent, meetingCalendar } from '../../appliance/src/invites/calendar.ts';
import { PermanentFailure, TemporaryFailure } from '../../appliance/src/invites/delivery.ts';
import { MailSender } from '../../appliance/src/invites/mail.ts';
import { present } from '../helpers/present.ts';
import { type RelayOptions, startRelay } from '../helpers/relay.ts';
import { makeCertificates } from '../helpers/tls.ts';

/** A relay (test/helpers/relay.ts) stopped when the test ends. */
async function relayFor(t: ExecutionContext, refuse: Record<string, [number, string]> = {}) {
  const relay = await startRelay({ refuse });
  t.teardown(() => relay.close());
  return relay;
}

function mailer(t: ExecutionContext, url: string): MailSender {
  const mail = new MailSender({ url, from: 'Samverka <noreply@samverka.test>', timeoutMs: 2000 });
  t.teardown(() => mail.close());
  return mail;
}

const meeting: MeetingCalendarEvent = {
  uid: 'meeting-42@samverka.test',
  sequence: 0,
  start: new Date('2026-12-01T09:00:00Z'),
  end: new Date('2026-12-01T09:45:00Z'),
  summary: 'Digitalt vårdmöte – Barn- och ungdomsmedicin',
  joinUrl: 'https://samverka.test/j/abc123',
  description: 'Använd en dator med Chrome eller Firefox.',
  organizer: { name: 'Barn- och ungdomsmedicin', email: 'bum@samverka.test' },
  attendee: { name: 'Lärare Lena', email: 'lena@skola.test' },
};

/** The value of one property line of the (unfolded) VEVENT / VCALENDAR. */
function property(ics: string, name: string): string | undefined {
  const unfolded = ics.replace(/\r?\n[ \t]/g, '');
  return new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, 'm').exec(unfolded)?.[1]?.trim();
}

/** The calendar part of a parsed mail: the text/calendar alternative and the .ics file. */
function calendarParts(mail: ParsedMail) {
  const alternative = mail.attachments.find((a) => a.contentType === 'text/calendar');
  const file = mail.attachments.find((a) => a.filename === 'invite.ics');
  return { alternative, file, ics: (alternative ?? file)?.content.toString('utf8') ?? '' };
}

function invitation(event: MeetingCalendarEvent) {
  return {
    to: 'lena@skola.test',
    subject: 'Inbjudan till digitalt vårdmöte',
    html: `<p>Välkommen! <a href="${event.joinUrl}">Anslut till mötet</a></p>`,
    text: `Välkommen! Anslut till mötet: ${event.joinUrl}`,
    calendar: meetingCalendar(event),
  };
}

test('an invitation arrives with HTML, text and an .ics with the right UID and SEQUENCE', async (t) => {
  const relay = await relayFor(t);
  const mail = mailer(t, relay.url);
  const sent = await mail.send(invitation(meeting));
  t.regex(sent.response, /^250 /);
  const received = present(relay.received[0], 'the invitation');
  t.is(received.messageId, sent.messageId);
  t.is(received.subject, 'Inbjudan till digitalt vårdmöte');
  t.regex(String(received.html), /<a href="https:\/\/samverka.test\/j\/abc123">/);
  t.regex(received.text ?? '', /Anslut till mötet: https:\/\/samverka.test\/j\/abc123/);
  const { alternative, file, ics } = calendarParts(received);
  t.truthy(alternative, 'a text/calendar part calendar programs act on');
  t.is(
    (alternative?.headers.get('content-type') as { params?: { method?: string } } | undefined)?.params?.method,
    'REQUEST',
  );
  t.truthy(file, 'an invite.ics file');
  t.is(property(ics, 'METHOD'), 'REQUEST');
  t.is(property(ics, 'UID'), 'meeting-42@samverka.test');
  t.is(property(ics, 'SEQUENCE'), '0');
  t.is(property(ics, 'DTSTART'), '20261201T090000Z');
  t.is(property(ics, 'DTEND'), '20261201T094500Z');
  t.is(property(ics, 'LOCATION'), 'https://samverka.test/j/abc123');
  t.regex(property(ics, 'ORGANIZER') ?? '', /mailto:bum@samverka.test/i);
  t.regex(property(ics, 'ATTENDEE') ?? '', /mailto:lena@skola.test/i);
});

test('a reschedule and a cancellation keep the same UID with a rising SEQUENCE', async (t) => {
  const relay = await relayFor(t);
  const mail = mailer(t, relay.url);
  const moved = {
    ...meeting,
    sequence: 1,
    start: new Date('2026-12-02T13:00:00Z'),
    end: new Date('2026-12-02T13:45:00Z'),
  };
  await mail.send(invitation(meeting));
  await mail.send(invitation(moved));
  await mail.send(invitation({ ...moved, sequence: 2, cancelled: true }));
  const calendars = relay.received.map((m) => calendarParts(m).ics);
  t.deepEqual(
    calendars.map((c) => property(c, 'UID')),
    Array(3).fill('meeting-42@samverka.test'),
  );
  t.deepEqual(
    calendars.map((c) => property(c, 'SEQUENCE')),
    ['0', '1', '2'],
  );
  t.deepEqual(
    calendars.map((c) => property(c, 'METHOD')),
    ['REQUEST', 'REQUEST', 'CANCEL'],
  );
  t.is(property(present(calendars[1], 'the calendar of the reschedule'), 'DTSTART'), '20261202T130000Z');
  t.is(property(present(calendars[2], 'the calendar of the cancellation'), 'STATUS'), 'CANCELLED');
});

test('a name with quotation marks keeps the .ics valid: no quotation mark inside a quoted CN', async (t) => {
  // RFC 5545 §3.1: a quoted parameter value holds no DQUOTE and has no escape for one; a backslash
  // before it ends the value there, and a strict reader (ical.js in Thunderbird) refuses the line.
  const relay = await relayFor(t);
  const mail = mailer(t, relay.url);
  await mail.send(
    invitation({
      ...meeting,
      organizer: { name: 'Barn- och ungdomsmedicin "BUM"', email: 'bum@samverka.test' },
      attendee: { name: 'Mohammed "Mo" Ali', email: 'mo@skola.test' },
    }),
  );
  const { ics } = calendarParts(present(relay.received[0], 'the invitation'));
  const unfolded = ics.replace(/\r\n[ \t]/g, '');
  // param = name "=" (paramtext / quoted-string), quoted-string = DQUOTE *QSAFE-CHAR DQUOTE.
  const param = /;[A-Z-]+=(?:[^";:,]*|"[^"]*")(?:,(?:[^";:,]*|"[^"]*"))*/.source;
  for (const name of ['ORGANIZER', 'ATTENDEE']) {
    const line = present(new RegExp(`^${name}.*$`, 'm').exec(unfolded)?.[0], `the ${name} line`);
    t.regex(line, new RegExp(`^${name}(?:${param})*:mailto:`, 'i'), `${name} follows RFC 5545's grammar`);
  }
  t.regex(property(ics, 'ATTENDEE') ?? '', /mailto:mo@skola.test/i);
  t.regex(unfolded, /CN="Mohammed 'Mo' Ali"/);
});

test('a relay that is down gives TemporaryFailure, for sending and for the health check', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const mail = mailer(t, `smtp://127.0.0.1:${port}`);
  const error = await t.throwsAsync(mail.send(invitation(meeting)), { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /could not be reached.*ECONNREFUSED/);
  await t.throwsAsync(mail.verify(), { instanceOf: TemporaryFailure });
  t.is(mail.state().reachable, false);
});

test('when the appliance stops, messages waiting for a relay that does not answer fail at once and new ones are refused', async (t) => {
  // A relay that takes the connection and never greets: the pool's connections stay opening.
  const held = new Set<Socket>();
  const silent = createServer((socket) => held.add(socket.on('error', () => undefined)));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    silent.close();
  });
  const mail = new MailSender({
    url: `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    from: 'Samverka <noreply@samverka.test>',
  });
  t.teardown(() => mail.close());
  // More than the pool's 5 connections: some wait on a connection, the rest in the pool's queue.
  const pending = Array.from({ length: 7 }, (_, i) => mail.send({ ...invitation(meeting), to: `lena${i}@skola.test` }));
  while (held.size < 5) await new Promise((r) => setTimeout(r, 10));
  mail.beginClose();
  for (const sent of pending) {
    const error = await t.throwsAsync(sent, { instanceOf: TemporaryFailure });
    t.regex(error?.message ?? '', /the appliance stopped before the relay took the message/);
  }
  await t.throwsAsync(mail.send(invitation(meeting)), { instanceOf: TemporaryFailure });
});

test('when the appliance stops, a message the relay is already receiving is finished, not taken back', async (t) => {
  let begun = false;
  const received: string[] = [];
  const relay = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      begun = true;
      callback();
    },
    onData(stream, session, callback) {
      stream.resume();
      // The relay takes its time over the message: the stop comes in the middle of it.
      stream.on('end', () =>
        setTimeout(() => {
          received.push(session.envelope.rcptTo[0]?.address ?? '');
          callback();
        }, 300),
      );
    },
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => relay.close(() => resolve())));
  const mail = mailer(t, `smtp://127.0.0.1:${(relay.server.address() as AddressInfo).port}`);
  const sending = mail.send(invitation(meeting));
  while (!begun) await new Promise((r) => setTimeout(r, 5));
  mail.beginClose();
  t.regex((await sending).response, /^250/);
  t.deepEqual(received, ['lena@skola.test']);
});

test('a 4xx reply is temporary and a 5xx reply is a PermanentFailure carrying the reply', async (t) => {
  const relay = await relayFor(t, {
    'full@skola.test': [452, '4.2.2 Mailbox full'],
    'nobody@skola.test': [550, '5.1.1 User unknown'],
  });
  const mail = mailer(t, relay.url);
  const full = await t.throwsAsync(mail.send({ ...invitation(meeting), to: 'full@skola.test' }), {
    instanceOf: TemporaryFailure,
  });
  t.regex(full?.message ?? '', /452 4\.2\.2 Mailbox full/);
  const unknown = await t.throwsAsync(mail.send({ ...invitation(meeting), to: 'nobody@skola.test' }), {
    instanceOf: PermanentFailure,
  });
  t.regex(unknown?.message ?? '', /550 5\.1\.1 User unknown/);
  await mail.send(invitation(meeting));
  t.is(relay.received.length, 1, 'the pool still sends after refusals');
  t.true(mail.state().reachable);
});

// TLS and logins as at a hospital's relay: a certificate from the hospital's own CA (made here),
// STARTTLS on submission or TLS from the first byte, AUTH PLAIN or LOGIN.
const certificates = makeCertificates();
test.after.always(() => certificates.remove());

async function secureRelay(t: ExecutionContext, options: Partial<RelayOptions> = {}) {
  const relay = await startRelay({
    tls: { key: certificates.key, cert: certificates.cert },
    auth: { username: 'samverka', password: 'rätt lösen', methods: ['PLAIN', 'LOGIN'] },
    ...options,
  });
  t.teardown(() => relay.close());
  return relay;
}

/** A mail adapter that trusts the hospital CA, as with TLS_CA_FILE (or, with `trustCa: false`, does not). */
function secureMailer(t: ExecutionContext, url: string, { trustCa = true } = {}): MailSender {
  // The default timeouts: what is tested here is TLS and the login, and a TLS handshake on a busy
  // machine can take seconds.
  const mail = new MailSender({
    url,
    from: 'Samverka <noreply@samverka.test>',
    ...(trustCa ? { ca: certificates.ca } : {}),
  });
  t.teardown(() => mail.close());
  return mail;
}

/** The relay's URL with a login in it. */
const withLogin = (url: string, password = 'rätt lösen') =>
  url.replace('://', `://samverka:${encodeURIComponent(password)}@`);

for (const method of ['PLAIN', 'LOGIN'] as const) {
  test(`STARTTLS, then AUTH ${method}: the invitation arrives and the password only ever went encrypted`, async (t) => {
    const relay = await secureRelay(t, { auth: { username: 'samverka', password: 'rätt lösen', methods: [method] } });
    const mail = secureMailer(t, withLogin(relay.url));
    await mail.verify();
    await mail.send(invitation(meeting));
    const received = await relay.waitForMail(1);
    t.is(received.subject, 'Inbjudan till digitalt vårdmöte');
    t.true(relay.logins.length >= 1);
    t.true(relay.logins.every((login) => login.method === method && login.secure && login.accepted));
  });
}

test('smtps:// speaks TLS from the first byte and logs in', async (t) => {
  const relay = await secureRelay(t, { implicitTls: true });
  t.regex(relay.url, /^smtps:/);
  const mail = secureMailer(t, withLogin(relay.url));
  await mail.send(invitation(meeting));
  await relay.waitFor(1);
  t.true(relay.logins.every((login) => login.secure && login.accepted));
});

test("a wrong password is refused: the message fails temporarily with the relay's reason and nothing is sent", async (t) => {
  const relay = await secureRelay(t);
  const mail = secureMailer(t, withLogin(relay.url, 'fel lösen'));
  const error = await t.throwsAsync(mail.send(invitation(meeting)), { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /the relay refused the login: .*535/);
  await t.throwsAsync(mail.verify(), { instanceOf: TemporaryFailure });
  t.is(relay.received.length, 0);
  t.false(relay.logins.some((login) => login.accepted));
});

for (const implicitTls of [false, true]) {
  test(`a certificate from a CA the appliance does not trust is refused before the login (${implicitTls ? 'smtps' : 'STARTTLS'})`, async (t) => {
    const relay = await secureRelay(t, { implicitTls });
    const mail = secureMailer(t, withLogin(relay.url), { trustCa: false });
    const error = await t.throwsAsync(mail.send(invitation(meeting)), { instanceOf: TemporaryFailure });
    t.regex(error?.message ?? '', /certificate/);
    t.regex(error?.message ?? '', /TLS_CA_FILE/);
    t.deepEqual(relay.logins, [], 'the password never reached the relay');
    t.is(relay.received.length, 0);
  });
}

test('a relay that offers no STARTTLS never gets the password, even if it would take it unencrypted', async (t) => {
  const relay = await secureRelay(t, { tls: undefined, allowInsecureAuth: true });
  const mail = secureMailer(t, withLogin(relay.url));
  const error = await t.throwsAsync(mail.send(invitation(meeting)), { instanceOf: TemporaryFailure });
  t.regex(error?.message ?? '', /STARTTLS/);
  t.deepEqual(relay.logins, []);
  t.is(relay.received.length, 0);
});

/** A TEXT value as RFC 5545 §3.3.11 reads it: \\ \; \, and \n (or \N) are escapes. */
const unescapeText = (value: string) => value.replace(/\\([\\;,nN])/g, (_, c: string) => (/n/i.test(c) ? '\n' : c));

/** The CN parameter of a property line, as a reader takes a quoted value: everything between the quotes, literally. */
const commonName = (ics: string, name: string) =>
  new RegExp(`^${name}[^:\\r\\n]*;CN="([^"]*)"`, 'm').exec(ics.replace(/\r\n[ \t]/g, ''))?.[1];

test('a backslash, comma, semicolon or line break in a name or title reaches the calendar program as typed', async (t) => {
  // RFC 5545 escapes TEXT values (SUMMARY, DESCRIPTION) with backslashes, but a quoted parameter
  // value (CN) has no escapes at all: Outlook shows "\\" there as two backslashes, and a line break
  // (a control character) is not allowed in it.
  const relay = await relayFor(t);
  const mail = mailer(t, relay.url);
  const summary = 'Möte: BUM\\Öst; rum 3, plan 2';
  const description = 'Ta med:\nremiss\\journal; läkemedelslista, id';
  await mail.send(
    invitation({
      ...meeting,
      summary,
      description,
      organizer: { name: 'BUM\\Öst;\nVåning 3, rum 2', email: 'bum@samverka.test' },
      attendee: { name: 'Anna\\Berg; Lind, Sara: mamma', email: 'anna@skola.test' },
    }),
  );
  const { ics } = calendarParts(present(relay.received[0], 'the invitation'));
  t.is(unescapeText(property(ics, 'SUMMARY') ?? ''), summary);
  t.is(unescapeText(property(ics, 'DESCRIPTION') ?? ''), `${description}\n\n${meeting.joinUrl}`);
  t.is(commonName(ics, 'ATTENDEE'), 'Anna\\Berg; Lind, Sara: mamma');
  t.is(commonName(ics, 'ORGANIZER'), 'BUM\\Öst; Våning 3, rum 2');
  t.regex(property(ics, 'ATTENDEE') ?? '', /mailto:anna@skola.test$/i);
  t.regex(property(ics, 'ORGANIZER') ?? '', /mailto:bum@samverka.test$/i);
});

test('messages say they are automatic, so out-of-office replies and other autoresponders stay silent (RFC 3834)', async (t) => {
  const relay = await relayFor(t);
  const mail = mailer(t, relay.url);
  await mail.send(invitation(meeting));
  const received = present(relay.received[0], 'the invitation');
  t.is(received.headers.get('auto-submitted'), 'auto-generated');
  // Exchange and Outlook read their own header rather than RFC 3834's.
  t.is(received.headers.get('x-auto-response-suppress'), 'All');
});

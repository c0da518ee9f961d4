// The outbox end to end: a clinician books, changes and cancels through the API, and the messages
// reach a real SMTP relay and a real SMSC started here.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../helpers/scratch.ts';
import test, { type ExecutionContext } from 'ava';
import type { ParsedMail } from 'mailparser';
import smpp from 'smpp';
import { formatWhen } from '../../appliance/src/common/clock.ts';
import { sha256 } from '../../appliance/src/crypto.ts';
import { findLink } from '../../appliance/src/entry/links.ts';
import { nudge } from '../../appliance/src/invites/index.ts';
import {
  findMessage,
  messagesOf,
  notSentBecause,
  notSentReasons,
  recentMessages,
  type OutboxMessage,
} from '../../appliance/src/invites/outbox.ts';
import { reasonText } from '../../appliance/src/invites/facts.ts';
import { builtInTemplates, sampleData, sampleRecipients } from '../../appliance/src/invites/templates.ts';
import { booking, inDays, loggedIn } from '../meetings/_booking.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { testDatabase } from '../helpers/databases.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { startSmsc, waitForArrivals, type Answer, type Arrival, type TestSmsc } from '../helpers/smsc.ts';
import { makeCertificates } from '../helpers/tls.ts';
import { present } from '../helpers/present.ts';
import { until } from '../helpers/wait.ts';
import { queueCodes } from './_codes.ts';

/** The text of a submit_sm as the phone shows it (GSM-7 or UCS-2, any UDH taken off). */
function textOf(arrival: Arrival): string {
  const sm = arrival.pdu.short_message as { message?: string | Buffer } | string | Buffer;
  const message = typeof sm === 'object' && !Buffer.isBuffer(sm) ? sm.message : sm;
  return Buffer.isBuffer(message) ? message.toString('utf8') : String(message ?? '');
}

/** The token of the first one-time link (/j/…) in a text. */
const linkToken = (text: string) => present(/\/j\/([\w-]+)/.exec(text)?.[1], 'a one-time link in the text');

/** The whole texts of the SMS that arrived, parts joined in order of arrival. */
function smsTexts(smsc: TestSmsc): Map<string, string> {
  const byNumber = new Map<string, string>();
  for (const a of smsc.arrivals)
    byNumber.set(String(a.pdu.destination_addr), (byNumber.get(String(a.pdu.destination_addr)) ?? '') + textOf(a));
  return byNumber;
}

async function messageWhere(
  app: TestServer,
  meetingId: string,
  predicate: (m: OutboxMessage) => boolean,
): Promise<OutboxMessage> {
  return until('an outbox message', async () => (await messagesOf(app.server.app.db, { meetingId })).find(predicate));
}

/** The meeting's queued messages are due now (their back-off ran out), and the dispatcher is told. */
async function retryNow(app: TestServer, meetingId: string): Promise<void> {
  await app.server.app
    .db('outbox_messages')
    .where({ meeting_id: meetingId, status: 'queued' })
    .update({ next_attempt_at: new Date().toISOString() });
  app.server.plugins.invites.dispatcher()!.notify();
}

/** The ICS property value (first occurrence) of a calendar text. */
const ics = (text: string, name: string) =>
  new RegExp(`^${name}[^:]*:(.*)$`, 'm').exec(text.replace(/\r\n[ \t]/g, ''))?.[1]?.trim();

/** The text of a mail's calendar (.ics) part. */
const calendarOf = (mail: ParsedMail) =>
  present(
    mail.attachments.find((a) => a.contentType.startsWith('text/calendar')),
    'an .ics part',
  ).content.toString('utf8');

/** A booking with the patient alone, invited by SMS. */
const patientAlone = () =>
  booking({ participants: [{ kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' }] });

/** A booking with the patient alone, invited by SMS, who also gave an e-mail address (the fallback). */
const patientWithAddress = () =>
  booking({
    participants: [
      { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', email: 'sara@example.se', identification: 'sms' },
    ],
  });

async function setup(
  options: {
    smscAnswer?: Parameters<typeof startSmsc>[0];
    env?: Record<string, string>;
    relayOptions?: Parameters<typeof startRelay>[0];
  } = {},
) {
  const relay = await startRelay(options.relayOptions);
  let n = 0;
  // What started before a part that fails to start is stopped again: left listening, it would keep
  // this file's process alive after its tests.
  const smsc = await startSmsc(
    options.smscAnswer ??
      ((_, i) => {
        n += 1;
        return { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } };
      }),
  ).catch(async (error: unknown) => {
    await relay.close();
    throw error;
  });
  const app = await startServer({
    env: { SMTP_URL: relay.url, SMPP_URL: smsc.url, REMINDER_OFFSETS: 'none', ...options.env },
  }).catch(async (error: unknown) => {
    await smsc.close();
    await relay.close();
    throw error;
  });
  return { relay, smsc, app, sent: () => n };
}

/** Runs a scenario against a fresh appliance, relay and SMSC, and stops them whatever happens. */
async function withAppliance(
  options: Parameters<typeof setup>[0],
  scenario: (parts: Awaited<ReturnType<typeof setup>>) => Promise<void>,
) {
  const parts = await setup(options);
  try {
    await scenario(parts);
  } finally {
    await parts.app.stop();
    await parts.smsc.close();
    await parts.relay.close();
  }
}

/**
 * The clinician logged in and a gateway whose queue is full (ESME_RMSGQFUL, temporary) until
 * `reopen()`: for messages that wait for their retry while the meeting changes.
 */
async function withFullGateway(
  scenario: (parts: { app: TestServer; smsc: TestSmsc; client: Client; reopen: () => void }) => Promise<void>,
) {
  let queueFull = true;
  await withAppliance(
    {
      smscAnswer: (_, i) => (queueFull ? { status: 0x14 } : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } }),
    },
    async ({ app, smsc }) => {
      const { client } = await loggedIn(app);
      await scenario({ app, smsc, client, reopen: () => (queueFull = false) });
    },
  );
}

/** Moves the meeting to `startsAt`; returns its new version. */
async function move(client: Client, meeting: { id: string }, version: number, startsAt: string): Promise<number> {
  const moved = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, { json: { version, startsAt } });
  if (moved.status !== 200) throw new Error(moved.text);
  return moved.json<{ version: number }>().version;
}

/** "söndag 29 november 2026 kl. 10:00": a time as Sara's messages say it. */
const saidSv = (iso: string) => {
  const when = formatWhen(new Date(iso), 'sv');
  return `${when.date} kl. ${when.time}`;
};

test('a booking invites each participant: SMS in GSM-7 to mobiles, e-mail with HTML, text and an .ics to addresses', async (t) => {
  await withAppliance({}, async ({ app, relay, smsc }) => {
    const { client } = await loggedIn(app);
    const reply = await client.request('POST', '/api/v1/meetings', { json: booking() });
    t.is(reply.status, 201, reply.text);
    const meeting = reply.json();

    const mail = await relay.waitForMail(1);
    t.deepEqual(mail.to && 'value' in mail.to ? mail.to.value.map((v) => v.address) : [], ['eva.ek@skola.example']);
    t.regex(mail.subject ?? '', /^Inbjudan till digitalt möte .* kl\. \d\d:\d\d$/);
    t.regex(mail.text ?? '', /Hej Lärare Eva Ek,/);
    // Every browser the link page lets in on a computer: a teacher's work computer may have only Edge.
    t.regex(mail.text ?? '', /Använd en dator med webbläsaren Chrome, Firefox eller Edge\./);
    t.regex(mail.text ?? '', /Ring Barn- och ungdomsmedicin på 010-123 45 67/);
    t.regex(String(mail.html), /<a href="http:\/\/127\.0\.0\.1:\d+\/j\/[\w-]{24}">/);
    // The clinic's number in the HTML part: one tap to call on a phone, and never broken across
    // lines ("010-123 45" and "67" on the next) in a narrow mail window.
    const phones = [...String(mail.html).matchAll(/<a href="tel:([^"]+)" style="white-space:nowrap">([^<]+)<\/a>/g)];
    t.true(phones.length > 0, String(mail.html));
    for (const [, dial, shown] of phones) t.deepEqual([dial, shown], ['0101234567', '010-123 45 67']);
    t.notRegex(String(mail.html).replace(/<a href="tel:[^>]+>[^<]+<\/a>/g, ''), /010-123 45 67/);
    t.false(
      (mail.text ?? '').includes('Samordnad planering'),
      'no meeting title (health information) in the invitation',
    );
    const icsText = calendarOf(mail);
    t.is(ics(icsText, 'METHOD'), 'REQUEST');
    t.is(ics(icsText, 'UID'), `${meeting.id}@127.0.0.1`);
    t.is(ics(icsText, 'SEQUENCE'), '0');

    await waitForArrivals(smsc, 4); // two SMS of two parts each
    const texts = smsTexts(smsc);
    t.deepEqual([...texts.keys()].sort(), ['46701234567', '46761234567']);
    t.regex(
      present(texts.get('46701234567'), 'the SMS to Sara'),
      /^Hej Sara Lind! Barn- och ungdomsmedicin bjuder in dig till ett digitalt möte .* http:\/\/127\.0\.0\.1:\d+\/j\/[\w-]{24} /,
    );
    for (const a of smsc.arrivals) t.is(a.pdu.data_coding, 0, 'GSM 03.38');

    // Receipts arrive for every part: the SMS are delivered, and so is the participant. The e-mail
    // is recorded as sent once the relay's answer reaches the outbox, which may be after the SMS.
    const delivered = await until('both SMS delivered and the e-mail recorded', async () => {
      const all = await messagesOf(app.server.app.db, { meetingId: meeting.id });
      const sms = all.filter((m) => m.channel === 'sms');
      const recorded = all.every((m) => m.status !== 'queued' && m.status !== 'sending');
      return recorded && sms.length === 2 && sms.every((m) => m.status === 'delivered') ? sms : undefined;
    });
    t.is(delivered.length, 2);
    const messages = (await client.get(`/api/v1/meetings/${meeting.id}/messages`)).json();
    t.is(messages.length, 3);
    t.deepEqual(messages.map((m: { status: string }) => m.status).sort(), ['delivered', 'delivered', 'sent']);
    const shown = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
    t.true(shown.participants.every((p: { status: string }) => p.status === 'delivered'));
  });
});

test('one-time links are stored only as hashes, and the outbox keeps no secret once a message is sent', async (t) => {
  await withAppliance({}, async ({ app, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await waitForArrivals(smsc, 2);
    const token = linkToken(present(smsTexts(smsc).get('46701234567'), 'the SMS to Sara'));
    t.is(Buffer.from(token, 'base64url').length, 18, '144 bits');
    const db = app.server.app.db;
    const links = await db('participant_links').select();
    t.is(links.length, 1);
    t.is(links[0].token_hash, sha256(token));
    t.false(JSON.stringify(links).includes(token));
    await messageWhere(app, meeting.id, (m) => m.status === 'delivered');
    const rows = await db('outbox_messages').select();
    t.is(rows[0].secret_sealed, null);
    t.false(JSON.stringify(rows).includes(token));
  });
});

test('a reschedule and a cancellation reach everyone, the e-mails keeping the calendar UID with a rising SEQUENCE', async (t) => {
  await withAppliance({}, async ({ app, relay, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
    await relay.waitFor(1);
    const moved = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
      json: { version: meeting.version, startsAt: inDays(3, 13) },
    });
    t.is(moved.status, 200, moved.text);
    const rescheduled = await relay.waitForMail(2);
    t.regex(rescheduled.subject ?? '', /^Ny tid för ditt digitala möte/);
    t.regex(rescheduled.text ?? '', /Tidigare tid: /);
    const second = calendarOf(rescheduled);
    t.is(ics(second, 'UID'), `${meeting.id}@127.0.0.1`);
    t.true(Number(ics(second, 'SEQUENCE')) > 0);

    const cancelled = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
      json: { version: moved.json().version, reason: 'Vi bokar en ny tid med dig.' },
    });
    t.is(cancelled.status, 200, cancelled.text);
    const cancellation = await relay.waitForMail(3);
    t.regex(cancellation.subject ?? '', /^Inställt/);
    t.regex(cancellation.text ?? '', /Meddelande från mottagningen: Vi bokar en ny tid med dig\./);
    const third = calendarOf(cancellation);
    t.is(ics(third, 'METHOD'), 'CANCEL');
    t.is(ics(third, 'UID'), `${meeting.id}@127.0.0.1`);
    t.true(Number(ics(third, 'SEQUENCE')) > Number(ics(second, 'SEQUENCE')));

    await until(
      'cancellation SMS',
      async () => [...smsTexts(smsc).values()].filter((x) => /är inställt/.test(x)).length === 2,
    );
    // Every link of a cancelled meeting is revoked.
    const links = await app.server.app.db('participant_links').select('revoked_at');
    t.true(links.length >= 3);
    t.true(links.every((l) => l.revoked_at !== null));
  });
});

test('a meeting made longer at the same start: the SMS names the new end and the old, not the same time twice', async (t) => {
  await withAppliance({}, async ({ app, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await waitForArrivals(smsc, 2);
    const longer = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
      json: { version: meeting.version, durationMinutes: 60 },
    });
    t.is(longer.status, 200, longer.text);
    await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'rescheduled' && m.status !== 'queued' && m.status !== 'sending',
    );
    const text = smsc.arrivals.slice(2).map(textOf).join('');
    const times = present(/kl\. (\S+) \(tidigare .* kl\. (\S+)\)/.exec(text), `the new and previous time in "${text}"`);
    t.not(times[1], times[2], 'what changed is visible');
    t.regex(text, /kl\. \d\d:\d\d-\d\d:\d\d \(tidigare .* kl\. \d\d:\d\d-\d\d:\d\d\)/);
    // A hyphen, not a dash: the SMS stays GSM 03.38 (an en dash would make it UCS-2, twice the parts).
    for (const a of smsc.arrivals.slice(2)) t.is(a.pdu.data_coding, 0);
  });
});

test('a re-sent invitation carries a new link and the old one stops working', async (t) => {
  await withAppliance({}, async ({ app, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await waitForArrivals(smsc, 2);
    const first = linkToken(smsc.arrivals.slice(0, 2).map(textOf).join(''));
    const participantId = meeting.participants[0].id;
    const resend = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants/${participantId}/resend`, {
      json: { version: meeting.version },
    });
    t.true(resend.status < 300, resend.text);
    await waitForArrivals(smsc, 4);
    const second = linkToken(smsc.arrivals.slice(2, 4).map(textOf).join(''));
    t.not(second, first);
    t.true(present(await findLink(app.server.app.db, first), 'the first link').revoked);
    t.false(present(await findLink(app.server.app.db, second), 'the second link').revoked);
  });
});

test('an SMS the network cannot deliver goes by e-mail when the person gave an address', async (t) => {
  await withAppliance(
    { smscAnswer: (_, i) => ({ id: `u${i}`, receipt: { id: `u${i}`, stat: 'UNDELIV', err: '001' } }) },
    async ({ app, relay }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
      const failed = await messageWhere(app, meeting.id, (m) => m.channel === 'sms' && m.status === 'failed');
      t.regex(failed.lastError ?? '', /undeliverable/);
      const mail = await relay.waitForMail(1);
      t.regex(mail.subject ?? '', /^Inbjudan/);
      t.regex(mail.text ?? '', /\/j\/[\w-]{24}/);
      const fallback = await messageWhere(app, meeting.id, (m) => m.channel === 'email');
      t.is(fallback.fallbackOf, failed.id);
    },
  );
});

test('an invitation SMS reported undeliverable after the meeting was cancelled sends no invitation by e-mail in its place; the cancellation still falls back', async (t) => {
  await withAppliance({ smscAnswer: (_, i) => ({ id: `x${i}` }) }, async ({ app, relay, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
    const invitation = await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'sent');
    const cancelled = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
      json: { version: meeting.version, reason: 'Vi bokar en ny tid med dig.' },
    });
    t.is(cancelled.status, 200, cancelled.text);
    await messageWhere(app, meeting.id, (m) => m.kind === 'cancelled' && m.status === 'sent');
    // Sara's phone was off: hours later the network gives up on the invitation (and the cancellation).
    t.is(await smsc.receipt('x0', 'UNDELIV'), 0);
    await messageWhere(app, meeting.id, (m) => m.id === invitation.id && m.status === 'failed');
    t.is(await smsc.receipt('x2', 'UNDELIV'), 0);
    const mail = await relay.waitForMail(1);
    t.regex(mail.subject ?? '', /^Inställt/, 'the cancellation goes by e-mail');
    const emails = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(
      (m) => m.channel === 'email',
    );
    t.deepEqual(
      emails.map((m) => m.kind),
      ['cancelled'],
      'no invitation by e-mail to a meeting that is cancelled',
    );
  });
});

test('a receipt that says the SMS is on its way (ENROUTE, ACCEPTD) is not a failure: no e-mail in its place, and the delivery that follows counts', async (t) => {
  // Gateways and aggregators report a message they handed on to the operator before the phone has
  // it (SMPP 3.4 appendix B: ENROUTE; many use ACCEPTD); Kannel counts both as buffered, not failed.
  await withAppliance({ smscAnswer: (_, i) => ({ id: `e${i}` }) }, async ({ app, relay, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
    const sent = await messageWhere(app, meeting.id, (m) => m.channel === 'sms' && m.status === 'sent');
    t.is(smsc.arrivals.length, 2, 'the invitation is two parts');
    // Each receipt is answered once it is recorded.
    t.is(await smsc.receipt('e0', 'ENROUTE'), 0);
    t.is(await smsc.receipt('e1', 'ACCEPTD'), 0);
    const meanwhile = await messagesOf(app.server.app.db, { meetingId: meeting.id });
    t.deepEqual(
      meanwhile.map((m) => [m.channel, m.status]),
      [['sms', 'sent']],
      'still on its way: not failed, and no e-mail in its place',
    );
    t.is(await smsc.receipt('e0', 'DELIVRD'), 0);
    t.is(await smsc.receipt('e1', 'DELIVRD'), 0);
    const delivered = await messageWhere(app, meeting.id, (m) => m.id === sent.id && m.status !== 'sent');
    t.is(delivered.status, 'delivered');
    t.is(relay.received.length, 0);
  });
});

test('a gateway that gives hex ids and decimal receipts (SMPP_MESSAGE_IDS=hex-decimal): a receipt whose hex id has digits only finds its SMS', async (t) => {
  // "123456" in a submit_sm_resp is 1193046 in the receipt; by looking alone it reads as decimal,
  // and the receipt would find nothing: the SMS stays "sent", delivered or not, with no e-mail in
  // its place. The adapter can be told the radixes; the appliance takes them from the environment.
  const hexIds = ['123456', '123457'];
  await withAppliance(
    { smscAnswer: (_, i) => ({ id: hexIds[i] ?? 'ABCDEF' }), env: { SMPP_MESSAGE_IDS: 'hex-decimal' } },
    async ({ app, smsc }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
      const sent = await messageWhere(app, meeting.id, (m) => m.status === 'sent');
      t.is(smsc.arrivals.length, 2, 'the invitation is two parts');
      for (const id of hexIds) t.is(await smsc.receipt(String(parseInt(id, 16)), 'DELIVRD'), 0);
      t.is((await messageWhere(app, meeting.id, (m) => m.id === sent.id)).status, 'delivered');
    },
  );
});

test('a permanent gateway error without an e-mail address leaves the failed SMS, with its reason, for staff to call', async (t) => {
  await withAppliance({ smscAnswer: () => ({ status: smpp.errors.ESME_RINVDSTADR }) }, async ({ app, relay }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    const failed = await messageWhere(app, meeting.id, (m) => m.status === 'failed');
    t.regex(failed.lastError ?? '', /ESME_RINVDSTADR/);
    t.is(failed.attempts, 1, 'a permanent error is not retried');
    const listed = (await client.get(`/api/v1/meetings/${meeting.id}/messages`)).json();
    t.is(listed[0].recipient, '+46701234567');
    // The meeting page puts the task in front of staff: call the participant.
    await until('the task on the meeting page', async () =>
      /Sms:et till \+46701234567 kom inte fram \(ESME_RINVDSTADR/.test(
        (await client.get(`/meetings/${meeting.id}`)).text,
      ),
    );
    t.regex(
      (await client.get(`/meetings/${meeting.id}`)).text,
      /class="problem">Sms:et till \+46701234567 kom inte fram .*Ring deltagaren\./,
    );
    t.is(relay.received.length, 0);
  });
});

test('a receipt for a message this appliance never sent is acknowledged, so the gateway stops re-sending it, and logged once with its id', async (t) => {
  // A shared SMPP account or a database restored from a backup brings such receipts every day.
  await withAppliance({}, async ({ app, smsc }) => {
    await until('the SMPP bind', () => smsc.binds > 0);
    t.is(await smsc.receipt('77123456'), 0, 'deliver_sm_resp without error');
    t.is(await smsc.receipt('77123456', 'UNDELIV'), 0, 'the same id again: acknowledged again');
    const lines = app
      .logs()
      .split('\n')
      .filter((line) => line.includes('77123456'));
    t.is(lines.length, 1);
    t.regex(
      present(lines[0], 'the log line'),
      /receipt .* message id 77123456, which no message sent from here has: acknowledged/,
    );
  });
});

test('a PDU header claiming 2 GB drops the SMPP link at once; /health/ready shows the gap, and the appliance binds again', async (t) => {
  await withAppliance({}, async ({ app, smsc }) => {
    await until('the SMPP bind', () => smsc.binds > 0);
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x80000000, 0); // command_length: 2 GB
    header.writeUInt32BE(0x00000005, 4); // deliver_sm
    smsc.refuseBinds = true; // the gateway restarts: the gap lasts until it takes binds again
    smsc.writeRaw(header);
    const sms = async () =>
      (await app.client().get('/health/ready')).json().parts.sms as { ok: boolean; detail: string };
    const down = await until('readiness to show the lost link', async () => {
      const part = await sms();
      return part.ok ? undefined : part;
    });
    t.regex(down.detail, /^not bound to the SMPP gateway since \S+ \(link lost: PDU length was too large \(2147483648/);
    smsc.refuseBinds = false;
    const up = await until(
      'readiness to show the link bound again',
      async () => {
        const part = await sms();
        return part.ok ? part : undefined;
      },
      60_000,
    );
    t.regex(
      up.detail,
      /^bound; window 0\/10; link lost at \S+ \(PDU length was too large \(2147483648.*\), bound again at \S+$/,
    );
    t.is(smsc.binds, 2);
  });
});

test('with TLS_CA_FILE naming the hospital CA, invitations go by STARTTLS with a login and by SMPP over TLS; without it neither link is trusted', async (t) => {
  const certificates = makeCertificates();
  const relay = await startRelay({
    tls: certificates,
    auth: { username: 'samverka', password: 'hemligt', methods: ['PLAIN', 'LOGIN'] },
  });
  const smsc = await startSmsc(() => ({}), 0, { tls: certificates });
  const env = {
    SMTP_URL: relay.url.replace('://', '://samverka:hemligt@'),
    SMPP_URL: smsc.url,
    REMINDER_OFFSETS: 'none',
  };
  const untrusting = await startServer({ env });
  const app = await startServer({ env: { ...env, TLS_CA_FILE: certificates.caFile } });
  try {
    const parts = async (server: TestServer) => (await server.client().get('/health/ready')).json().parts;
    const refused = await until('the untrusting appliance to give up on both links', async () => {
      const p = await parts(untrusting);
      // A check that did not answer in time (a busy machine) is not yet the answer: wait for the reason.
      return !p.mail.ok && /TLS_CA_FILE/.test(p.mail.detail) && /TLS_CA_FILE/.test(p.sms.detail) && p;
    });
    t.regex(refused.mail.detail, /certificate.*TLS_CA_FILE/);
    t.deepEqual(relay.logins, [], 'no password went to a relay the appliance does not trust');
    const { client } = await loggedIn(app);
    const booked = await client.request('POST', '/api/v1/meetings', { json: booking() });
    t.is(booked.status, 201, booked.text);
    await relay.waitFor(1);
    await waitForArrivals(smsc, 2);
    t.true(relay.logins.every((login) => login.secure && login.accepted));
    // Readiness gives each check 3 s: on a busy machine a TLS handshake may take a second try.
    const trusted = await until('the trusting appliance to be ready', async () => {
      const p = await parts(app);
      return p.mail.ok && p.sms.ok && p;
    });
    t.regex(trusted.sms.detail, /^bound/);
  } finally {
    await app.stop();
    await untrusting.stop();
    await smsc.close();
    await relay.close();
    certificates.remove();
  }
});

test('while the relay is down the invitation waits in the queue, and it is delivered when the relay comes back', async (t) => {
  const first = await startRelay();
  const port = first.port;
  await first.close();
  const smsc = await startSmsc();
  const app = await startServer({
    env: { SMTP_URL: `smtp://127.0.0.1:${port}`, SMPP_URL: smsc.url, REMINDER_OFFSETS: 'none' },
  });
  let relay: Relay | undefined;
  try {
    const { client } = await loggedIn(app);
    const booked = await client.request('POST', '/api/v1/meetings', { json: booking() });
    t.is(booked.status, 201, booked.text);
    const meeting = booked.json();
    const waiting = await messageWhere(
      app,
      meeting.id,
      (m) => m.channel === 'email' && m.status === 'queued' && m.attempts >= 1,
    );
    t.truthy(waiting.lastError, 'the reason is kept');
    relay = await startRelay({ port });
    const mail = await relay.waitForMail(1, 20_000);
    t.regex(mail.subject ?? '', /^Inbjudan/);
    const sent = await messageWhere(app, meeting.id, (m) => m.channel === 'email' && m.status === 'sent');
    t.true(sent.attempts >= 2);
  } finally {
    await app.stop();
    await smsc.close();
    await relay?.close();
  }
});

test('a template override with a syntax error does not stop sending: the built-in template is used and the problem logged', async (t) => {
  const overrides = scratchDir('templates');
  mkdirSync(join(overrides, 'email', 'sv'), { recursive: true });
  mkdirSync(join(overrides, 'sms', 'sv'), { recursive: true });
  writeFileSync(join(overrides, 'email', 'sv', 'invitation.hbs'), 'Subject: Trasig {{#if}}\n--- text ---\n{{name');
  writeFileSync(join(overrides, 'sms', 'sv', 'invitation.hbs'), 'Välkommen {{name}} till {{unitName}}: {{link}}');
  await withAppliance({ env: { TEMPLATES_DIR: overrides } }, async ({ app, relay, smsc }) => {
    const { client } = await loggedIn(app);
    await client.request('POST', '/api/v1/meetings', { json: booking() });
    const mail = await relay.waitForMail(1);
    t.regex(mail.subject ?? '', /^Inbjudan till digitalt möte/, 'the built-in e-mail template');
    t.regex(app.logs(), /template override .*invitation\.hbs cannot be used/);
    await waitForArrivals(smsc, 2);
    t.regex(
      present([...smsTexts(smsc).values()][0], 'the SMS'),
      /^Välkommen .* till Barn- och ungdomsmedicin: http/,
      'the valid SMS override is used',
    );
  });
});

test('the admin outbox page lists every message and its status; the template preview renders any template', async (t) => {
  await withAppliance({}, async ({ app, relay }) => {
    const { client } = await loggedIn(app, 'admin');
    await client.request('POST', '/api/v1/meetings', { json: booking() });
    await relay.waitFor(1);
    const page = await client.get('/admin/outbox');
    t.is(page.status, 200);
    t.regex(page.text, /<h1>Utkorg<\/h1>/);
    t.regex(page.text, /eva\.ek@skola\.example/);
    t.regex(page.text, /Inbjudan \(sms\)/);
    t.notRegex(
      page.text,
      /Fångade i utvecklingsläget/,
      'with both real servers nothing is captured, so no such section',
    );
    const preview = await client.get('/admin/templates?channel=sms&language=en&kind=sms_code');
    t.is(preview.status, 200);
    t.regex(preview.text, /Your code for the digital meeting: 482910/);
    t.regex(preview.text, /tecken med exempeluppgifterna: 1 SMS-del\(ar\) i GSM-alfabetet/);
    const clinician = await loggedIn(app, 'clinician');
    t.is((await clinician.client.get('/admin/outbox')).status, 403);
  });
});

test('the outbox and the meeting page name the channel inside a phrase as each language writes it: "sms"/"mejl", "SMS"/"e-mail"', async (t) => {
  await withAppliance({}, async ({ app, relay }) => {
    const { client } = await loggedIn(app, 'admin');
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json<{ id: string }>();
    await relay.waitFor(1);
    const words = async (path: string) => (await client.get(path)).text.replace(/<[^>]+>/g, ' ');
    t.regex(await words(`/meetings/${meeting.id}`), /Inbjudan \(sms\)/);
    t.regex(await words(`/meetings/${meeting.id}`), /Inbjudan \(mejl\)/);
    t.notRegex(await words(`/meetings/${meeting.id}`), /\(Sms\)|\(Mejl\)/);
    await client.get('/lang/en?next=/admin/outbox');
    t.regex(await words('/admin/outbox'), /Invitation \(SMS\)/);
    t.regex(await words('/admin/outbox'), /Invitation \(e-mail\)/);
    t.regex(await words(`/meetings/${meeting.id}`), /Invitation \(SMS\)/);
    t.regex(await words(`/meetings/${meeting.id}`), /Invitation \(e-mail\)/);
  });
});

test('every reason Samverka withdraws a message for reads in words on the pages, in Swedish and in English', (t) => {
  for (const why of Object.values(notSentReasons))
    for (const lang of ['sv', 'en'] as const) {
      const text = reasonText(lang, { status: 'failed', lastError: notSentBecause(why) });
      t.true(typeof text === 'string' && text !== why && !text.startsWith('invites.'), `${why} (${lang}): ${text}`);
    }
});

test('the template preview has sample data for every field the templates use, for each kind of recipient', (t) => {
  const fields = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else
        for (const [, field] of readFileSync(join(dir, entry.name), 'utf8').matchAll(
          /\{\{\s*(?:#(?:if|unless)\s+)?([A-Za-z_]\w*)\s*\}\}/g,
        ))
          if (field !== 'else') fields.add(field!);
    }
  };
  walk(builtInTemplates);
  t.true(fields.has('hasMobile') && fields.has('colleague'), [...fields].join(', '));
  for (const recipient of sampleRecipients)
    for (const language of ['sv', 'en'] as const) {
      const data = sampleData(language, recipient);
      t.deepEqual(
        [...fields].filter((field) => !(field in data)),
        [],
        `${recipient}, ${language}`,
      );
    }
});

test('the template preview shows each branch of a template: to a colleague, to someone with a mobile number, to someone without', async (t) => {
  const app = await startServer();
  try {
    const { client } = await loggedIn(app, 'admin');
    const preview = async (recipient?: string) => {
      const page = await client.get(
        `/admin/templates?channel=email&language=sv&kind=invitation${recipient ? `&recipient=${recipient}` : ''}`,
      );
      t.is(page.status, 200);
      return page.text;
    };
    const byDefault = await preview();
    t.regex(byDefault, /<label for="recipient">Mottagare<\/label>/);
    t.regex(byDefault, /Får du tekniska problem under mötet, ring/);
    t.regex(byDefault, /\/j\/EXEMPEL/);
    const mobile = await preview('mobile');
    t.regex(mobile, /blir du uppringd på det nummer som finns i bokningen/);
    const colleague = await preview('colleague');
    t.regex(colleague, /Du är med som kollega/);
    t.regex(colleague, /samverka\.region\.se\/meetings\//, 'a colleague opens the staff meeting page');
    t.notRegex(colleague, /\/j\/EXEMPEL/);
    t.is((await client.get('/admin/templates?recipient=nobody')).status, 400);
  } finally {
    await app.stop();
  }
});

test('a participant booked in English gets the invitation in English, and English pages after the link', async (t) => {
  await withAppliance({}, async ({ app, relay }) => {
    const { client } = await loggedIn(app);
    const reply = await client.request('POST', '/api/v1/meetings', {
      json: booking({
        participants: [
          { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
          { kind: 'guest', name: 'John Smith', email: 'john@school.example', identification: 'none', language: 'en' },
        ],
      }),
    });
    t.is(reply.status, 201, reply.text);
    t.is(reply.json().participants[1].language, 'en');
    const mail = await relay.waitForMail(1);
    // "on" before the weekday, as the English body and SMS say it.
    t.regex(
      mail.subject ?? '',
      /^Invitation to a digital meeting on [A-Z][a-z]+day, \d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d$/,
    );
    t.regex(mail.text ?? '', /Hello John Smith,/);
    t.regex(mail.text ?? '', /Use a computer with the Chrome, Firefox or Edge browser\./);
    const path = present(/http:\/\/[^/]+(\/j\/[\w-]+)/.exec(mail.text ?? '')?.[1], 'the link in the e-mail');
    const guest = app.client();
    await guest.get(path, { 'user-agent': 'Mozilla/5.0 Chrome/126.0' });
    const entered = await guest.request('POST', '/j', {
      form: { crumb: guest.crumb!, token: path.slice(3), name: 'John Smith' },
    });
    t.is(entered.status, 200);
    t.regex(entered.text, /<html lang="en">/, 'the technical test, answered at once, in English');
    t.regex((await guest.get('/entry/test')).text, /<html lang="en">/);
  });
});

test('an invitation the gateway kept refusing goes out with the new time once the meeting is moved, not the old one, and alone: Sara was never told the old time', async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
    // The clinic moves the meeting from 09:00 to 13:00 (UTC) while Sara's invitation waits to be retried.
    const startsAt = inDays(3, 13);
    await move(client, meeting, meeting.version, startsAt);
    // The gateway takes messages again, and the invitation's back-off has run out.
    reopen();
    const tried = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
    // Anything else still due would go with it: give it the chance.
    await retryNow(app, meeting.id);
    const invitation = smsc.arrivals.slice(tried).map(textOf).join('');
    t.regex(invitation, /bjuder in dig/);
    t.true(invitation.includes(`bjuder in dig till ett digitalt möte ${saidSv(startsAt)}`), invitation);
    t.false(invitation.includes(saidSv(meeting.startsAt)), 'the old time nowhere');
    t.deepEqual(
      (await messagesOf(app.server.app.db, { meetingId: meeting.id })).map((m) => m.kind),
      ['invitation'],
      'no new-time message "from 09:00" to someone never told 09:00',
    );
  });
});

test('an invitation the gateway kept refusing does not go out after the meeting is cancelled: Sara gets the cancellation alone, and the meeting page asks nobody to call', async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
    const cancelled = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
      json: { version: meeting.version, reason: 'Vi bokar en ny tid med dig.' },
    });
    t.is(cancelled.status, 200, cancelled.text);
    reopen();
    const tried = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    await messageWhere(app, meeting.id, (m) => m.kind === 'cancelled' && m.status === 'delivered');
    // Anything still due now would have been claimed with the cancellation's retry: give it the chance.
    await retryNow(app, meeting.id);
    const invitation = await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'failed');
    t.regex(invitation.lastError ?? '', /cancelled/);
    const after = smsc.arrivals.slice(tried).map(textOf).join('');
    t.regex(after, /är inställt/);
    t.notRegex(after, /bjuder in dig/, 'no invitation after the cancellation');
    const page = await client.get(`/meetings/${meeting.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'no call asked for an invitation withdrawn on purpose');
  });
});

test('an invitation withdrawn because the meeting was cancelled reads "Inte skickat" and why, in words, in the outbox; the status page lists it as no failure', async (t) => {
  await withFullGateway(async ({ app, client }) => {
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
    await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
      json: { version: meeting.version, reason: 'Vi bokar en ny tid med dig.' },
    });
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'failed');
    const admin = (await loggedIn(app, 'admin')).client;
    const words = async (path: string) => (await admin.get(path)).text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    const outbox = await words('/admin/outbox');
    t.regex(outbox, /Inbjudan \(sms\) \+46701234567 Inte skickat \d+ Mötet ställdes in\./);
    t.notRegex(outbox, /not sent/);
    const status = await words('/admin/status');
    t.regex(status, /Misslyckade senaste dygnet 0/);
    t.regex(status, /Inga misslyckade meddelanden senaste dygnet\./);
    await admin.get('/lang/en?next=/admin/outbox');
    t.regex(await words('/admin/outbox'), /Invitation \(SMS\) \+46701234567 Not sent \d+ The meeting was cancelled\./);
  });
});

test('an invitation the gateway had in hand when the meeting was cancelled, and then refused for now, is not retried after the cancellation', async (t) => {
  // The gateway holds the invitation's two parts a while and then refuses them for now; the rest it takes.
  await withAppliance(
    {
      smscAnswer: (_, i) =>
        i < 2
          ? { status: smpp.errors.ESME_RMSGQFUL, delayMs: 3000 }
          : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } },
    },
    async ({ app, smsc }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
      await until('both parts at the gateway', () => smsc.arrivals.length >= 2);
      const inHand = await messageWhere(app, meeting.id, (m) => m.kind === 'invitation');
      t.is(inHand.status, 'sending', 'the gateway has it when the clinic cancels');
      const cancelled = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
        json: { version: meeting.version, reason: 'Vi bokar en ny tid med dig.' },
      });
      t.is(cancelled.status, 200, cancelled.text);
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
      await retryNow(app, meeting.id);
      const invitation = await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'failed');
      t.regex(invitation.lastError ?? '', /^not sent: the meeting was cancelled/);
      t.notRegex(smsc.arrivals.slice(2).map(textOf).join(''), /bjuder in dig/);
    },
  );
});

/** The patient and Olle, a guest invited by SMS: the booked meeting and Olle in it. */
async function bookWithOlle(client: Client) {
  const olle = { kind: 'guest', name: 'Olle Socialsekreterare', mobile: '0761234567', identification: 'sms' };
  const meeting = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [...patientAlone().participants, olle] }),
    })
  ).json();
  const guest = present(
    meeting.participants.find((p: { kind: string }) => p.kind === 'guest'),
    'Olle',
  );
  return { meeting, guest };
}

test('an invitation the gateway kept refusing does not go out to someone taken off the meeting meanwhile', async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const { meeting, guest } = await bookWithOlle(client);
    await messageWhere(
      app,
      meeting.id,
      (m) => m.participantId === guest.id && m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0,
    );
    const removed = await client.request(
      'DELETE',
      `/api/v1/meetings/${meeting.id}/participants/${guest.id}?version=${meeting.version}`,
      { headers: { 'x-csrf-token': client.crumb! } },
    );
    t.is(removed.status, 200, removed.text);
    reopen();
    const tried = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    await messageWhere(
      app,
      meeting.id,
      (m) => m.participantId === guest.id && m.kind === 'removed' && m.status === 'delivered',
    );
    await retryNow(app, meeting.id);
    const invitation = await messageWhere(
      app,
      meeting.id,
      (m) => m.participantId === guest.id && m.kind === 'invitation' && m.status === 'failed',
    );
    t.regex(invitation.lastError ?? '', /taken off/);
    const toOlle = smsc.arrivals
      .slice(tried)
      .filter((a) => String(a.pdu.destination_addr) === '46761234567')
      .map(textOf)
      .join('');
    t.notRegex(toOlle, /bjuder in dig/, 'no invitation to Olle after he was taken off');
  });
});

test('an invitation the gateway kept refusing to a mistyped number is withdrawn when the number is corrected: the new invitation reaches the new number, the old number nothing', async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const { meeting, guest } = await bookWithOlle(client);
    const old = await messageWhere(
      app,
      meeting.id,
      (m) => m.participantId === guest.id && m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0,
    );
    const changed = await client.request('PATCH', `/api/v1/meetings/${meeting.id}/participants/${guest.id}`, {
      json: { version: meeting.version, mobile: '076-111 11 11' },
    });
    t.is(changed.status, 200, changed.text);
    const withdrawn = present(await findMessage(app.server.app.db, old.id), 'the first invitation');
    t.is(withdrawn.status, 'failed');
    t.regex(withdrawn.lastError ?? '', /contact details were changed/);
    // Olle's links: the one the withdrawn invitation carried is revoked, the new invitation's is not.
    const links: { revoked_at: unknown }[] = await app.server.app
      .db('participant_links')
      .where({ participant_id: guest.id })
      .select('revoked_at');
    t.deepEqual(links.map((l) => (l.revoked_at === null ? 'valid' : 'revoked')).sort(), ['revoked', 'valid']);
    reopen();
    const tried = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    await messageWhere(
      app,
      meeting.id,
      (m) => m.participantId === guest.id && m.kind === 'invitation' && m.status === 'delivered',
    );
    const arrived = smsc.arrivals.slice(tried);
    const toNew = arrived
      .filter((a) => String(a.pdu.destination_addr) === '46761111111')
      .map(textOf)
      .join('');
    t.regex(toNew, /bjuder in dig/, 'the invitation reaches the corrected number');
    t.regex(toNew, /\/j\//, 'with a link');
    t.false(
      arrived.some((a) => String(a.pdu.destination_addr) === '46761234567'),
      'nothing went to the mistyped number',
    );
  });
});

test("a guest's e-mail address corrected: the new invitation arrives at the new address, with a link that works where the old one no longer does", async (t) => {
  await withAppliance({}, async ({ app, relay }) => {
    const { client } = await loggedIn(app);
    const eva = { kind: 'guest', name: 'Eva Ek', email: 'eva.ek@skola.example', identification: 'none' };
    const meeting = (
      await client.request('POST', '/api/v1/meetings', {
        json: booking({ participants: [...patientAlone().participants, eva] }),
      })
    ).json();
    const guest = meeting.participants[1];
    const first = await relay.waitForMail(1);
    t.regex(JSON.stringify(first.to), /eva\.ek@skola\.example/);
    const changed = await client.request('PATCH', `/api/v1/meetings/${meeting.id}/participants/${guest.id}`, {
      json: { version: meeting.version, email: 'eva.ek@skolan.example' },
    });
    t.is(changed.status, 200, changed.text);
    const second = await relay.waitForMail(2);
    t.regex(JSON.stringify(second.to), /eva\.ek@skolan\.example/);
    const oldToken = linkToken(first.text ?? '');
    const newToken = linkToken(second.text ?? '');
    t.not(newToken, oldToken);
    t.true(present(await findLink(app.server.app.db, oldToken), 'the old link').revoked);
    t.false(present(await findLink(app.server.app.db, newToken), 'the new link').revoked);
  });
});

test("only the proxy's number corrected, while both invitations wait for the gateway: the patient's invitation and link stay as they were, and the new invitation goes to the proxy's new number alone", async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const ella = {
      kind: 'patient_proxy',
      name: 'Ella Lind',
      mobile: '070-123 45 67',
      identification: 'sms',
      proxy: { name: 'Anna Lind', mobile: '073-123 45 67' },
    };
    const meeting = (
      await client.request('POST', '/api/v1/meetings', { json: booking({ participants: [ella] }) })
    ).json();
    const patient = meeting.participants[0];
    const waiting = (m: OutboxMessage) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0;
    await until(
      'both invitations refused for now',
      async () =>
        (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(waiting).length === 2 || undefined,
    );
    const changed = await client.request('PATCH', `/api/v1/meetings/${meeting.id}/participants/${patient.id}`, {
      json: { version: meeting.version, proxy: { mobile: '076-111 11 11' } },
    });
    t.is(changed.status, 200, changed.text);
    const invitations = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(
      (m) => m.kind === 'invitation',
    );
    t.deepEqual(
      invitations.map((m) => `${m.recipient} ${m.status === 'failed' ? 'withdrawn' : 'waiting'}`).sort(),
      ['+46701234567 waiting', '+46731234567 withdrawn', '+46761111111 waiting'],
      "Ella's invitation waits on; Anna's to the old number is withdrawn, one to her new number made",
    );
    const links: { person: string; revoked_at: unknown }[] = await app.server.app
      .db('participant_links')
      .where({ participant_id: patient.id })
      .select('person', 'revoked_at');
    t.deepEqual(
      links.map((l) => `${l.person} ${l.revoked_at === null ? 'valid' : 'revoked'}`).sort(),
      ['main valid', 'proxy revoked', 'proxy valid'],
      "Ella's link still works",
    );
    reopen();
    const tried = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    await until(
      'the invitations delivered',
      async () =>
        (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(
          (m) => m.kind === 'invitation' && m.status === 'delivered',
        ).length === 2 || undefined,
    );
    const to = (number: string) =>
      smsc.arrivals
        .slice(tried)
        .filter((a) => String(a.pdu.destination_addr) === number)
        .map(textOf)
        .join('');
    t.is(to('46701234567').match(/bjuder in dig/g)?.length, 1, 'Ella gets her invitation once');
    t.regex(to('46761111111'), /bjuder in dig/, "Anna's new number gets hers");
    t.is(to('46731234567'), '', "Anna's old number gets nothing");
  });
});

test('an invitation the gateway kept refusing until the meeting was over is not sent then, and the meeting page asks nobody to call', async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    const waiting = await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0,
    );
    // The gateway refused until after the meeting: moved back in time as the clock would move on.
    const db = app.server.app.db;
    const startsAt = new Date(Date.now() - 2 * 3_600_000);
    await db('meetings').where({ id: meeting.id }).update({ starts_at: startsAt.toISOString() });
    await db('outbox_messages')
      .where({ id: waiting.id })
      .update({
        data: JSON.stringify({
          ...waiting.data,
          startsAt: startsAt.toISOString(),
          endsAt: new Date(startsAt.getTime() + 45 * 60_000).toISOString(),
        }),
      });
    reopen();
    const tried = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    const invitation = await messageWhere(app, meeting.id, (m) => m.id === waiting.id && m.status === 'failed');
    t.regex(invitation.lastError ?? '', /^not sent: the meeting was over/);
    t.is(smsc.arrivals.length, tried, 'no invitation to a meeting that is over');
    const page = await client.get(`/meetings/${meeting.id}`);
    t.false(page.text.includes('Ring deltagaren'));
  });
});

test('"we are waiting for you" goes before the invitations waiting since earlier: the patient is waiting now', async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const book = async () => (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    const now = await book();
    const later = [await book(), await book()];
    const db = app.server.app.db;
    for (const m of [now, ...later])
      await messageWhere(app, m.id, (x) => x.kind === 'invitation' && x.status === 'queued' && x.attempts > 0);
    t.is(await nudge(app.server, now.id, now.participants[0].id), 1);
    await messageWhere(app, now.id, (x) => x.kind === 'nudge' && x.status === 'queued' && x.attempts > 0);
    // Nothing is due while the gateway comes back; then the invitations have waited longer than the nudge.
    await db('outbox_messages')
      .where({ status: 'queued' })
      .update({ next_attempt_at: new Date(Date.now() + 3_600_000).toISOString() });
    reopen();
    await db.transaction(async (trx) => {
      await trx('outbox_messages')
        .where({ status: 'queued', kind: 'invitation' })
        .update({ next_attempt_at: new Date(Date.now() - 60_000).toISOString() });
      await trx('outbox_messages')
        .where({ status: 'queued', kind: 'nudge' })
        .update({ next_attempt_at: new Date().toISOString() });
    });
    const tried = smsc.arrivals.length;
    app.server.plugins.invites.dispatcher()!.notify();
    await messageWhere(app, now.id, (x) => x.kind === 'nudge' && x.status === 'delivered');
    t.regex(textOf(present(smsc.arrivals[tried], 'the first SMS after the gateway came back')), /väntar på dig/);
  });
});

test('an SMS code the gateway kept refusing past its ten minutes is not sent then: it would no longer let anyone in', async (t) => {
  await withFullGateway(async ({ app, smsc, reopen }) => {
    const db = app.server.app.db;
    await queueCodes(db, app.config.dataKey, 1);
    app.server.plugins.invites.dispatcher()!.notify();
    const waiting = await until('the code waiting for its retry', async () =>
      (await recentMessages(db, 10)).find((m) => m.kind === 'sms_code' && m.status === 'queued' && m.attempts > 0),
    );
    // Eleven minutes on, as the clock would be after the gateway's outage.
    await db('outbox_messages')
      .where({ id: waiting.id })
      .update({ created_at: new Date(Date.now() - 11 * 60_000).toISOString() });
    reopen();
    const tried = smsc.arrivals.length;
    await db('outbox_messages').where({ id: waiting.id }).update({ next_attempt_at: new Date().toISOString() });
    app.server.plugins.invites.dispatcher()!.notify();
    const failed = await until('the code failed', async () => {
      const m = await findMessage(db, waiting.id);
      return m?.status === 'failed' ? m : undefined;
    });
    t.regex(failed.lastError ?? '', /^not sent: the code had expired/);
    t.is(smsc.arrivals.length, tried);
  });
});

test('an invitation whose second part the gateway refused for now is retried as that part alone, same reference, and counts as delivered once both parts are', async (t) => {
  await withAppliance(
    {
      smscAnswer: (_, i) =>
        i === 1 ? { status: smpp.errors.ESME_RMSGQFUL } : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } },
    },
    async ({ app, smsc }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
      await retryNow(app, meeting.id);
      // Part 1's receipt came before the message was sent whole; it still counts.
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
      t.is(smsc.arrivals.length, 3, 'part 1, part 2 refused, part 2 again: Sara gets part 1 once');
      const [first, refused, again] = smsc.arrivals.map((a) => [...a.octets.subarray(0, 6)]);
      const reference = present(first, 'part 1')[3];
      t.deepEqual(first, [5, 0, 3, reference, 2, 1]);
      t.deepEqual(refused, [5, 0, 3, reference, 2, 2]);
      t.deepEqual(again, [5, 0, 3, reference, 2, 2]);
      t.regex([0, 2].map((i) => textOf(present(smsc.arrivals[i], `part ${i}`))).join(''), /bjuder in dig/);
    },
  );
});

test('an invitation partly sent before the appliance restarts goes on after it as the missing part alone, same reference: Sara gets part 1 once, and it counts as delivered', async (t) => {
  const relay = await startRelay();
  const smsc = await startSmsc((_, i) =>
    i === 1 ? { status: smpp.errors.ESME_RMSGQFUL } : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } },
  );
  const database = await testDatabase();
  const env = {
    SMTP_URL: relay.url,
    SMPP_URL: smsc.url,
    REMINDER_OFFSETS: 'none',
    DATA_KEY: randomBytes(32).toString('hex'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
  };
  // The first run leaves the database for the second.
  let app = await startServer({ env, database: { ...database, drop: async () => undefined } });
  try {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
    t.is(smsc.arrivals.length, 2, 'part 1 taken, part 2 refused for now');
    // Restarted on the same address: the link in the text is the same.
    const port = new URL(app.url).port;
    await app.stop();
    app = await startServer({ env: { ...env, PORT: port }, database });
    await retryNow(app, meeting.id);
    await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'invitation' && m.status !== 'queued' && m.status !== 'sending',
    );
    t.is(smsc.arrivals.length, 3, 'part 1, part 2 refused, restart, part 2 again: Sara gets part 1 once');
    const [first, refused, again] = smsc.arrivals.map((a) => [...a.octets.subarray(0, 6)]);
    const reference = present(first, 'part 1')[3];
    t.deepEqual(first, [5, 0, 3, reference, 2, 1]);
    t.deepEqual(refused, [5, 0, 3, reference, 2, 2]);
    t.deepEqual(again, [5, 0, 3, reference, 2, 2], 'the same reference, so her phone joins it to part 1');
    t.regex([0, 2].map((i) => textOf(present(smsc.arrivals[i], `part ${i}`))).join(''), /bjuder in dig/);
    const row = await app.server.app
      .db('outbox_messages')
      .where({ meeting_id: meeting.id, kind: 'invitation' })
      .first();
    t.is(row.sms_parts, null, 'nothing kept once it is sent whole');
    // Part 1's receipt came before the restart: it still counts, so the invitation is delivered.
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
  } finally {
    await app.stop();
    await smsc.close();
    await relay.close();
  }
});

test('a long SMS whose part 1 the network could not deliver before the rest went counts as failed once sent whole, and goes by e-mail', async (t) => {
  await withAppliance(
    {
      smscAnswer: (_, i) =>
        i === 0
          ? { id: 'm0', receipt: { id: 'm0', stat: 'UNDELIV', err: '001' } }
          : i === 1
            ? { status: smpp.errors.ESME_RMSGQFUL }
            : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } },
    },
    async ({ app, relay }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
      await retryNow(app, meeting.id);
      const failed = await messageWhere(
        app,
        meeting.id,
        (m) => m.kind === 'invitation' && m.channel === 'sms' && m.status === 'failed',
      );
      // What the network said of part 1, as for a message of one part (not a generic reason).
      t.is(failed.lastError, 'undeliverable (UNDELIV err:001)');
      const mail = await relay.waitForMail(1);
      t.regex(mail.subject ?? '', /^Inbjudan/, 'the invitation by e-mail in its place');
    },
  );
});

test('an invitation partly sent and then moved goes whole with the new time, and counts as delivered by its new parts alone', async (t) => {
  // Part 1 is taken but its receipt never comes; part 2 is refused for now; then all goes.
  await withAppliance(
    {
      smscAnswer: (_, i) =>
        i === 0
          ? { id: 'm0' }
          : i === 1
            ? { status: smpp.errors.ESME_RMSGQFUL }
            : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } },
    },
    async ({ app, smsc }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'queued' && m.attempts > 0);
      const moved = await client.request('PATCH', `/api/v1/meetings/${meeting.id}`, {
        json: { version: meeting.version, startsAt: inDays(3, 13) },
      });
      t.is(moved.status, 200, moved.text);
      await retryNow(app, meeting.id);
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
      const udh = (a: Arrival) => [...a.octets.subarray(0, 6)];
      const first = udh(present(smsc.arrivals[0], 'the first part 1'));
      const again = present(
        smsc.arrivals.slice(2).find((a) => textOf(a).includes('bjuder in dig')),
        'the invitation again',
      );
      t.deepEqual(udh(again).slice(4), [2, 1], 'the new text goes whole, from its part 1');
      t.not(udh(again)[3], first[3], 'under a new reference');
    },
  );
});

test('the template preview counts what the SMS adapter sends: € as two septets, an é typed as e and accent as one, an emoji as two UCS-2 units', async (t) => {
  const overrides = scratchDir('templates');
  mkdirSync(join(overrides, 'sms', 'sv'), { recursive: true });
  const write = (kind: string, text: string) => writeFileSync(join(overrides, 'sms', 'sv', `${kind}.hbs`), text);
  // The messages that must carry their link do (templates.ts): the sample link is 51 characters.
  // 52 + 6 + 51 × 2 = 160 septets: one SMS; one more € and it is two parts.
  write('invitation', `{{link}} Pris: ${'€'.repeat(51)}`);
  write('reminder', `{{link}} Pris: ${'€'.repeat(52)}`);
  // "Välkommen, René" with the é as e + combining acute accent (as some keyboards send it): GSM, 15 septets.
  write('cancelled', 'Välkommen, Rene\u0301');
  // The link and a space, 16 letters and one emoji (two UTF-16 units): 70 units, one UCS-2 SMS; one
  // more letter and it is two.
  write('nudge', `{{link}} ${'a'.repeat(16)}😀`);
  write('rescheduled', `{{link}} ${'a'.repeat(17)}😀`);
  const app = await startServer({ env: { TEMPLATES_DIR: overrides } });
  try {
    const { client } = await loggedIn(app, 'admin');
    const size = async (kind: string) => {
      const page = await client.get(`/admin/templates?channel=sms&language=sv&kind=${kind}`);
      t.is(page.status, 200);
      const [, n, parts, alphabet] = present(
        /(\d+) tecken med exempeluppgifterna: (\d+) SMS-del\(ar\) i ([\w-]+)/.exec(page.text),
        `the size of ${kind}`,
      );
      return [Number(n), Number(parts), alphabet];
    };
    t.deepEqual(await size('invitation'), [160, 1, 'GSM-alfabetet']);
    t.deepEqual(await size('reminder'), [162, 2, 'GSM-alfabetet']);
    t.deepEqual(await size('cancelled'), [15, 1, 'GSM-alfabetet']);
    t.deepEqual(await size('nudge'), [70, 1, 'UCS-2']);
    t.deepEqual(await size('rescheduled'), [71, 2, 'UCS-2']);
  } finally {
    await app.stop();
  }
});

test('the template preview tells IT what an SMS template costs in parts, and that one typographic apostrophe makes it UCS-2', async (t) => {
  const overrides = scratchDir('templates');
  mkdirSync(join(overrides, 'sms', 'sv'), { recursive: true });
  // The same words as the built-in invitation, but with a typographic apostrophe (’) typed by a word processor.
  writeFileSync(
    join(overrides, 'sms', 'sv', 'invitation.hbs'),
    'Hej {{name}}! {{unitName}} bjuder in dig till ett digitalt möte {{date}} kl. {{time}}. Anslut i mobilen via länken (skriv ditt namn som i detta SMS): {{link}} Frågor: ring {{unitPhone}}. Välkommen’',
  );
  const builtIn = await startServer();
  const overridden = await startServer({ env: { TEMPLATES_DIR: overrides } });
  try {
    const size = async (app: TestServer) => {
      const { client } = await loggedIn(app, 'admin');
      const page = await client.get('/admin/templates?channel=sms&language=sv&kind=invitation');
      t.is(page.status, 200);
      return present(/(\d+) tecken med exempeluppgifterna: (\d+) SMS-del\(ar\) i ([\w-]+)/.exec(page.text), 'the size');
    };
    const [, , gsmParts, gsm] = await size(builtIn);
    const [, , ucsParts, ucs] = await size(overridden);
    t.is(gsm, 'GSM-alfabetet');
    t.is(ucs, 'UCS-2');
    t.true(Number(ucsParts) > Number(gsmParts), `${ucsParts} parts as UCS-2 against ${gsmParts} in GSM`);
  } finally {
    await builtIn.stop();
    await overridden.stop();
  }
});

test('a person taken off a meeting that goes on is told they are no longer invited, not that it is cancelled: by SMS in Swedish, by e-mail in English', async (t) => {
  await withAppliance({}, async ({ app, relay, smsc }) => {
    const { client } = await loggedIn(app);
    const john = {
      kind: 'guest',
      name: 'John Smith',
      email: 'john@school.example',
      identification: 'none',
      language: 'en',
    };
    const olle = { kind: 'guest', name: 'Olle Socialsekreterare', mobile: '0761234567', identification: 'sms' };
    let meeting = (
      await client.request('POST', '/api/v1/meetings', {
        json: booking({ participants: [...patientAlone().participants, olle, john] }),
      })
    ).json();
    await relay.waitFor(1);
    await waitForArrivals(smsc, 4);
    const invited = smsc.arrivals.length;
    const when = await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.channel === 'sms');
    for (const name of ['Olle Socialsekreterare', 'John Smith']) {
      const person = present(
        meeting.participants.find((p: { name: string }) => p.name === name),
        name,
      );
      const removed = await client.request(
        'DELETE',
        `/api/v1/meetings/${meeting.id}/participants/${person.id}?version=${meeting.version}`,
        { headers: { 'x-csrf-token': client.crumb! } },
      );
      t.is(removed.status, 200, removed.text);
      meeting = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
    }
    const toOlle = await until('the SMS to Olle', () => {
      const text = smsc.arrivals
        .slice(invited)
        .filter((a) => String(a.pdu.destination_addr) === '46761234567')
        .map(textOf)
        .join('');
      return /Frågor: ring/.test(text) && text;
    });
    t.regex(
      toOlle,
      new RegExp(
        `^Du är inte längre inbjuden till det digitala mötet med Barn- och ungdomsmedicin ${String(when.data.date)} kl\\. ${String(when.data.time)}\\.`,
      ),
    );
    t.notRegex(toOlle, /inställt/);
    t.notRegex(toOlle, /Samordnad planering/, 'no health information');
    const mail = await relay.waitForMail(2);
    t.regex(mail.subject ?? '', /^No longer invited: digital meeting /);
    t.regex(mail.text ?? '', /^Hello John Smith,\s+You are no longer invited to the digital meeting with /);
    t.notRegex(mail.text ?? '', /cancelled/);
    t.is(ics(calendarOf(mail), 'METHOD'), 'CANCEL', 'off his calendar');
    const messages = await messagesOf(app.server.app.db, { meetingId: meeting.id });
    t.deepEqual(
      messages.filter((m) => m.kind !== 'invitation').map((m) => m.kind),
      ['removed', 'removed'],
      'nothing to Sara, whose meeting goes on',
    );
  });
});

/**
 * Sara booked and her invitation delivered; then the gateway refuses for now until `reopen()`: for
 * the messages of changes made after the invitation went.
 */
async function withInvitationThenFullGateway(
  scenario: (parts: {
    app: TestServer;
    smsc: TestSmsc;
    client: Client;
    meeting: { id: string; version: number; startsAt: string };
    reopen: () => void;
  }) => Promise<void>,
) {
  let queueFull = false;
  await withAppliance(
    {
      smscAnswer: (_, i) => (queueFull ? { status: 0x14 } : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } }),
    },
    async ({ app, smsc }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
      queueFull = true;
      await scenario({ app, smsc, client, meeting, reopen: () => (queueFull = false) });
    },
  );
}

/** Resolves once `count` new-time messages of the meeting are delivered. */
const newTimesDelivered = (app: TestServer, meetingId: string, count: number) =>
  until(
    `${count} new-time messages delivered`,
    async () =>
      (await messagesOf(app.server.app.db, { meetingId })).filter(
        (m) => m.kind === 'rescheduled' && m.status === 'delivered',
      ).length === count,
  );

test('a meeting moved twice while its new-time SMS still waits: Sara gets one, with the latest time, and as "tidigare" the time she was last told', async (t) => {
  await withInvitationThenFullGateway(async ({ app, smsc, client, meeting, reopen }) => {
    const version = await move(client, meeting, meeting.version, inDays(3, 13));
    await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'queued' && m.attempts > 0);
    const latest = inDays(4, 11);
    await move(client, meeting, version, latest);
    reopen();
    const before = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    const told = await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'delivered');
    // Anything else still due would go with this: give it the chance.
    await retryNow(app, meeting.id);
    const newTimes = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(
      (m) => m.kind === 'rescheduled',
    );
    t.deepEqual(
      newTimes.map((m) => m.id),
      [told.id],
      'one new-time message',
    );
    const text = smsc.arrivals.slice(before).map(textOf).join('');
    t.true(text.includes(`${saidSv(latest)}-`), text);
    t.true(text.includes(`(tidigare ${saidSv(meeting.startsAt)}-`), `the time of the invitation: ${text}`);
  });
});

/**
 * Moves the meeting to a later day: the one new-time SMS that follows names that day, and as
 * "tidigare" `earlier` (`whose` time that is, for the failure's message).
 */
async function movedAndToldOnce(
  t: ExecutionContext,
  parts: { app: TestServer; smsc: TestSmsc; client: Client; meeting: { id: string } },
  version: number,
  earlier: string,
  whose: string,
) {
  const answered = parts.smsc.arrivals.length;
  const latest = inDays(4, 11);
  await move(parts.client, parts.meeting, version, latest);
  await newTimesDelivered(parts.app, parts.meeting.id, 1);
  const told = newTimesIn(parts.smsc, answered);
  t.is(told.length, 1, told.join('\n'));
  t.true(told[0]!.includes(`${saidSv(latest)}-`), told[0]);
  t.true(told[0]!.includes(`(tidigare ${saidSv(earlier)}-`), `${whose}: ${told[0]}`);
}

test('a new-time SMS waiting out its back-off while a re-sent invitation tells Sara the first new time, then moved again: it names as "tidigare" the time the invitation told her, not the one before it', async (t) => {
  await withInvitationThenFullGateway(async ({ app, smsc, client, meeting, reopen }) => {
    const first = inDays(3, 13);
    const version = await move(client, meeting, meeting.version, first);
    const waiting = await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'rescheduled' && m.status === 'queued' && m.attempts > 0,
    );
    const sara = (await client.get(`/api/v1/meetings/${meeting.id}`)).json<{ participants: { id: string }[] }>()
      .participants[0]!;
    const resend = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants/${sara.id}/resend`, {
      json: { version },
    });
    t.true(resend.status < 300, resend.text);
    const again = await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'invitation' && m.id !== waiting.id && m.attempts > 0 && m.status === 'queued',
    );
    // The gateway takes messages again: the invitation is due, the new-time SMS still waits out its back-off.
    reopen();
    const db = app.server.app.db;
    await db('outbox_messages')
      .where({ id: waiting.id })
      .update({ next_attempt_at: new Date(Date.now() + 3_600_000).toISOString() });
    await db('outbox_messages').where({ id: again.id }).update({ next_attempt_at: new Date().toISOString() });
    app.server.plugins.invites.dispatcher()!.notify();
    await messageWhere(app, meeting.id, (m) => m.id === again.id && m.status === 'delivered');
    await movedAndToldOnce(t, { app, smsc, client, meeting }, version, first, 'the time of the re-sent invitation');
  });
});

test('a meeting moved twice after its first new-time SMS went: the second says the latest time, and as "tidigare" the first new time', async (t) => {
  await withAppliance({}, async ({ app, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
    const first = inDays(3, 13);
    const version = await move(client, meeting, meeting.version, first);
    await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'delivered');
    const before = smsc.arrivals.length;
    const latest = inDays(4, 11);
    await move(client, meeting, version, latest);
    await newTimesDelivered(app, meeting.id, 2);
    const text = smsc.arrivals.slice(before).map(textOf).join('');
    t.true(text.includes(`${saidSv(latest)}-`), text);
    t.true(text.includes(`(tidigare ${saidSv(first)}-`), text);
  });
});

test('a meeting moved and moved back while its new-time SMS still waits: Sara, who was told the time that holds again, gets no new-time message', async (t) => {
  await withInvitationThenFullGateway(async ({ app, smsc, client, meeting, reopen }) => {
    const version = await move(client, meeting, meeting.version, inDays(3, 13));
    await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'queued' && m.attempts > 0);
    await move(client, meeting, version, meeting.startsAt);
    reopen();
    const before = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    const newTime = await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'failed');
    t.regex(newTime.lastError ?? '', /^not sent: the meeting was moved back/);
    t.is(
      (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter((m) => m.kind === 'rescheduled').length,
      1,
    );
    t.is(smsc.arrivals.length, before);
    const page = await client.get(`/meetings/${meeting.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call for a message withdrawn on purpose');
  });
});

/**
 * Sara booked and her invitation delivered; then the gateway takes what comes (every part) and holds
 * its answer until `answer(outcome)`: for a change made while a message is being sent.
 */
async function withInvitationThenHeldGateway(
  scenario: (parts: {
    app: TestServer;
    smsc: TestSmsc;
    relay: Relay;
    client: Client;
    meeting: { id: string; version: number; startsAt: string };
    hold: () => void;
    answer: (outcome: 'accept' | 'refuse for now' | 'refuse for good') => void;
  }) => Promise<void>,
  booked: () => ReturnType<typeof booking> = patientAlone,
) {
  let held: { reply: Answer; index: number }[] | undefined;
  let release = () => {};
  const accepted = (i: number): Answer => ({ id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } });
  const gate = () => new Promise<void>((resolve) => (release = resolve));
  let after = Promise.resolve();
  await withAppliance(
    {
      smscAnswer: (_, i) => {
        if (!held) return accepted(i);
        const reply: Answer = { after };
        held.push({ reply, index: i });
        return reply;
      },
    },
    async ({ app, smsc, relay }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: booked() })).json();
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
      await scenario({
        app,
        smsc,
        relay,
        client,
        meeting,
        hold: () => {
          held = [];
          after = gate();
        },
        answer: (outcome) => {
          for (const { reply, index } of held ?? []) {
            if (outcome === 'accept') Object.assign(reply, accepted(index));
            else reply.status = outcome === 'refuse for now' ? smpp.errors.ESME_RMSGQFUL : smpp.errors.ESME_RINVDSTADR;
          }
          held = undefined;
          release();
        },
      });
    },
  );
}

/** Texts of the arrivals from `from` on that tell a new time. */
const newTimesIn = (smsc: TestSmsc, from: number) =>
  smsc.arrivals
    .slice(from)
    .map(textOf)
    .join('')
    .split(/(?=Ny tid för)/)
    .filter((text) => text.startsWith('Ny tid för'));

/** Every part of the new-time SMS being sent has reached the gateway (its last part ends with the link). */
const newTimeAtGateway = (smsc: TestSmsc) =>
  until('the new-time SMS at the gateway', () => newTimesIn(smsc, 0).some((text) => /\/j\/[\w-]+$/.test(text)));

/** Every message of the meeting has had its outcome: nothing is waiting or being sent. */
const settled = (app: TestServer, meetingId: string) =>
  until('nothing left to send', async () =>
    (await messagesOf(app.server.app.db, { meetingId })).every((m) => !['queued', 'sending'].includes(m.status)),
  );

/**
 * Moves the meeting to `first`, and to `second` while the gateway holds (`hold`) the new-time SMS of
 * the first move: returns that message, as the second move found it, being sent.
 */
async function moveTwiceWhileHeld(
  parts: {
    app: TestServer;
    smsc: TestSmsc;
    client: Client;
    meeting: { id: string; version: number };
    hold: () => void;
  },
  first: string,
  second: string,
): Promise<OutboxMessage> {
  const { app, smsc, client, meeting, hold } = parts;
  hold();
  const version = await move(client, meeting, meeting.version, first);
  const inHand = await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'sending');
  await newTimeAtGateway(smsc);
  await move(client, meeting, version, second);
  return inHand;
}

test('a meeting moved again while the gateway holds its first new-time SMS, which it then refuses for now: Sara gets one new-time SMS, the latest time, and as "tidigare" the time she was told', async (t) => {
  await withInvitationThenHeldGateway(async (parts) => {
    const { app, smsc, client, meeting, answer } = parts;
    const first = inDays(3, 13);
    const latest = inDays(4, 11);
    const inHand = await moveTwiceWhileHeld(parts, first, latest);
    const answered = smsc.arrivals.length;
    answer('refuse for now');
    await messageWhere(app, meeting.id, (m) => m.id === inHand.id && m.status !== 'sending');
    await retryNow(app, meeting.id);
    await settled(app, meeting.id);
    // Anything else still due would go with it: give it the chance.
    await retryNow(app, meeting.id);
    await settled(app, meeting.id);
    const told = newTimesIn(smsc, answered);
    t.is(told.length, 1, told.join('\n'));
    t.true(told[0]!.includes(`${saidSv(latest)}-`), told[0]);
    t.true(told[0]!.includes(`(tidigare ${saidSv(meeting.startsAt)}-`), `the time of the invitation: ${told[0]}`);
    const page = await client.get(`/meetings/${meeting.id}`);
    t.false(page.text.includes('Ring deltagaren'));
  });
});

test('a meeting moved again while the gateway holds its first new-time SMS, which it then takes: Sara is told the latest time next, with the first new time as "tidigare"', async (t) => {
  await withInvitationThenHeldGateway(async (parts) => {
    const { app, smsc, meeting, answer } = parts;
    const first = inDays(3, 13);
    const latest = inDays(4, 11);
    await moveTwiceWhileHeld(parts, first, latest);
    answer('accept');
    await newTimesDelivered(app, meeting.id, 2);
    await retryNow(app, meeting.id);
    await settled(app, meeting.id);
    const told = newTimesIn(smsc, 0);
    t.is(told.length, 2, told.join('\n'));
    t.true(
      told[0]!.includes(`${saidSv(first)}-`) && told[0]!.includes(`(tidigare ${saidSv(meeting.startsAt)}-`),
      told[0],
    );
    t.true(told[1]!.includes(`${saidSv(latest)}-`) && told[1]!.includes(`(tidigare ${saidSv(first)}-`), told[1]);
  });
});

test('a meeting moved again while the gateway holds its first new-time SMS, which it then refuses for good: Sara gets the latest time by e-mail, with as "tidigare" the time she was told, and nothing else', async (t) => {
  await withInvitationThenHeldGateway(async (parts) => {
    const { app, smsc, relay, meeting, answer } = parts;
    const first = inDays(3, 13);
    const latest = inDays(4, 11);
    await moveTwiceWhileHeld(parts, first, latest);
    const answered = smsc.arrivals.length;
    answer('refuse for good');
    await settled(app, meeting.id);
    await retryNow(app, meeting.id);
    await settled(app, meeting.id);
    const newTimes = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(
      (m) => m.kind === 'rescheduled' && m.status !== 'failed',
    );
    t.deepEqual(
      newTimes.map((m) => m.channel),
      ['email'],
      'one new-time message, by e-mail',
    );
    t.deepEqual(newTimesIn(smsc, answered), []);
    const mail = await relay.waitForMail(1);
    t.true((mail.text ?? '').includes(saidSv(latest).split(' kl. ')[0]!), mail.text);
    t.false(
      (mail.text ?? '').includes(saidSv(first).split(' kl. ')[0]!),
      `the first new time, never told: ${mail.text}`,
    );
  }, patientWithAddress);
});

test('a meeting moved again after its first new-time SMS was refused for good: the second says the latest time, and as "tidigare" the time Sara was told, not the one that never reached her', async (t) => {
  await withInvitationThenHeldGateway(async ({ app, smsc, client, meeting, hold, answer }) => {
    hold();
    const version = await move(client, meeting, meeting.version, inDays(3, 13));
    await newTimeAtGateway(smsc);
    answer('refuse for good');
    await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'failed');
    await movedAndToldOnce(t, { app, smsc, client, meeting }, version, meeting.startsAt, 'the time of the invitation');
    const page = await client.get(`/meetings/${meeting.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call: the latest time went');
  });
});

test('a meeting moved again while the gateway holds its first new-time SMS, which it takes, and the latest time after it is refused for good: a third move names as "tidigare" the first new time, the one Sara was told', async (t) => {
  await withInvitationThenHeldGateway(async (parts) => {
    const { app, smsc, client, meeting, hold, answer } = parts;
    const first = inDays(3, 13);
    const inHand = await moveTwiceWhileHeld(parts, first, inDays(4, 11));
    answer('accept');
    hold();
    await until('the latest time after it at the gateway', () => newTimesIn(smsc, 0).length === 2);
    answer('refuse for good');
    await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'failed');
    await messageWhere(app, meeting.id, (m) => m.id === inHand.id && m.status === 'delivered');
    const answered = smsc.arrivals.length;
    const latest = inDays(5, 9);
    const version = (await client.get(`/api/v1/meetings/${meeting.id}`)).json<{ version: number }>().version;
    await move(client, meeting, version, latest);
    await newTimesDelivered(app, meeting.id, 2);
    const told = newTimesIn(smsc, answered);
    t.is(told.length, 1, told.join('\n'));
    t.true(told[0]!.includes(`${saidSv(latest)}-`) && told[0]!.includes(`(tidigare ${saidSv(first)}-`), told[0]);
  });
});

test('a new-time SMS the network gives up on while the next one, of a later move, still waits for the gateway: that one names as "tidigare" the time Sara was told, not the one that never reached her', async (t) => {
  let gateway: 'delivers' | 'takes without a word' | 'is full' = 'delivers';
  let taken: string | undefined;
  await withAppliance(
    {
      smscAnswer: (_, i) => {
        if (gateway === 'is full') return { status: smpp.errors.ESME_RMSGQFUL };
        if (gateway === 'delivers') return { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } };
        taken = `x${i}`;
        return { id: taken };
      },
    },
    async ({ app, smsc }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
      gateway = 'takes without a word';
      const version = await move(client, meeting, meeting.version, inDays(3, 13));
      const first = await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'sent');
      gateway = 'is full';
      const latest = inDays(4, 11);
      await move(client, meeting, version, latest);
      await messageWhere(app, meeting.id, (m) => m.id !== first.id && m.status === 'queued' && m.attempts > 0);
      // Sara's phone was off: the network gives up on the first new time.
      t.is(await smsc.receipt(present(taken, 'the first new time'), 'UNDELIV'), 0);
      gateway = 'delivers';
      const answered = smsc.arrivals.length;
      await retryNow(app, meeting.id);
      await newTimesDelivered(app, meeting.id, 1);
      const told = newTimesIn(smsc, answered);
      t.is(told.length, 1, told.join('\n'));
      t.true(told[0]!.includes(`${saidSv(latest)}-`), told[0]);
      t.true(told[0]!.includes(`(tidigare ${saidSv(meeting.startsAt)}-`), `the time of the invitation: ${told[0]}`);
    },
  );
});

test('a meeting moved and moved back while the gateway holds its new-time SMS, which it then refuses for now: Sara, who was told the time that holds again, gets no new-time message', async (t) => {
  await withInvitationThenHeldGateway(async (parts) => {
    const { app, smsc, client, meeting, answer } = parts;
    const inHand = await moveTwiceWhileHeld(parts, inDays(3, 13), parts.meeting.startsAt);
    const answered = smsc.arrivals.length;
    answer('refuse for now');
    await messageWhere(app, meeting.id, (m) => m.id === inHand.id && m.status !== 'sending');
    await retryNow(app, meeting.id);
    await settled(app, meeting.id);
    const newTime = await messageWhere(app, meeting.id, (m) => m.id === inHand.id);
    t.regex(newTime.lastError ?? '', /^not sent: the meeting was moved back/);
    t.deepEqual(newTimesIn(smsc, answered), []);
    const page = await client.get(`/meetings/${meeting.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call for a message withdrawn on purpose');
  });
});

test('a new-time SMS refused for good, whose e-mail in its place still waits for the relay when the meeting is moved back: the e-mail is withdrawn, and nobody is asked to call Sara, who knows the time that holds', async (t) => {
  let refuse = false;
  await withAppliance(
    {
      smscAnswer: (_, i) =>
        refuse ? { status: smpp.errors.ESME_RINVDSTADR } : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } },
      relayOptions: { refuse: { 'sara@example.se': [451, '4.2.1 Mailbox busy, try again later'] } },
    },
    async ({ app, relay }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
      await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
      refuse = true;
      const version = await move(client, meeting, meeting.version, inDays(3, 13));
      const sms = await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'failed');
      await messageWhere(app, meeting.id, (m) => m.fallbackOf === sms.id && m.status === 'queued' && m.attempts > 0);
      await move(client, meeting, version, meeting.startsAt);
      const email = await messageWhere(app, meeting.id, (m) => m.fallbackOf === sms.id && m.status === 'failed');
      t.regex(email.lastError ?? '', /^not sent: the meeting was moved back/);
      t.is(relay.received.length, 0);
      const page = await client.get(`/meetings/${meeting.id}`);
      t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call: Sara knows the time that holds');
    },
  );
});

test('a new-time SMS reported undeliverable after the meeting was moved again goes by e-mail no more: the later new-time message tells the latest time, and nobody is asked to call', async (t) => {
  await withAppliance({ smscAnswer: (_, i) => ({ id: `x${i}` }) }, async ({ app, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'sent');
    const firstPart = smsc.arrivals.length;
    const version = await move(client, meeting, meeting.version, inDays(3, 13));
    const first = await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'sent');
    await move(client, meeting, version, inDays(4, 11));
    await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.id !== first.id && m.status === 'sent');
    // Sara's phone was off: the network gives up on the first new time, sent before the second move.
    t.is(await smsc.receipt(`x${firstPart}`, 'UNDELIV'), 0);
    await messageWhere(app, meeting.id, (m) => m.id === first.id && m.status === 'failed');
    const messages = await messagesOf(app.server.app.db, { meetingId: meeting.id });
    t.deepEqual(
      messages.filter((m) => m.fallbackOf === first.id).map((m) => m.data),
      [],
      'no e-mail in place of a new time the next one replaced',
    );
    const page = await client.get(`/meetings/${meeting.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call: the latest time went');
  });
});

test('an invitation SMS reported undeliverable after the meeting was moved goes by e-mail with the new time, not the time the SMS had', async (t) => {
  await withAppliance({ smscAnswer: (_, i) => ({ id: `x${i}` }) }, async ({ app, relay, smsc }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'sent');
    const startsAt = inDays(3, 13);
    await move(client, meeting, meeting.version, startsAt);
    await messageWhere(app, meeting.id, (m) => m.kind === 'rescheduled' && m.status === 'sent');
    // Sara's phone was off: the network gives up on the invitation, sent before the move.
    t.is(await smsc.receipt('x0', 'UNDELIV'), 0);
    const mail = await relay.waitForMail(1);
    t.regex(mail.subject ?? '', /^Inbjudan/, 'the invitation by e-mail in its place');
    t.true((mail.subject ?? '').endsWith(saidSv(startsAt)), mail.subject);
    t.false((mail.text ?? '').includes(saidSv(meeting.startsAt).split(' kl. ')[0]!), 'the old day nowhere');
  });
});

test('"we are waiting for you" still waiting for the gateway when the meeting is moved to another day does not go: the meeting has not begun', async (t) => {
  await withFullGateway(async ({ app, smsc, client, reopen }) => {
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientAlone() })).json();
    t.is(await nudge(app.server, meeting.id, meeting.participants[0].id), 1);
    const waiting = await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'nudge' && m.status === 'queued' && m.attempts > 0,
    );
    await move(client, meeting, meeting.version, inDays(3, 13));
    reopen();
    const tried = smsc.arrivals.length;
    await retryNow(app, meeting.id);
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
    await retryNow(app, meeting.id);
    const nudged = await messageWhere(app, meeting.id, (m) => m.id === waiting.id && m.status === 'failed');
    t.regex(nudged.lastError ?? '', /^not sent: the meeting was moved/);
    t.notRegex(smsc.arrivals.slice(tried).map(textOf).join(''), /vi väntar på dig/);
  });
});

/**
 * Sara (who gave an address) invited by SMS that the network later gives up on (`x0`, no receipt of
 * its own), every later SMS delivered; the relay refuses her address for now while `relayBusy`.
 */
async function withUndeliveredInvitation(
  scenario: (parts: {
    app: TestServer;
    relay: Relay;
    smsc: TestSmsc;
    client: Client;
    meeting: { id: string; version: number; participants: { id: string }[] };
    invitation: OutboxMessage;
    relayFree: () => void;
  }) => Promise<void>,
) {
  const refuse: Record<string, [number, string]> = { 'sara@example.se': [451, '4.2.1 Mailbox busy, try again later'] };
  await withAppliance(
    {
      smscAnswer: (_, i) => (i < 2 ? { id: `x${i}` } : { id: `m${i}`, receipt: { id: `m${i}`, stat: 'DELIVRD' } }),
      relayOptions: { refuse },
    },
    async ({ app, relay, smsc }) => {
      const { client } = await loggedIn(app);
      const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
      const invitation = await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'sent');
      await scenario({
        app,
        relay,
        smsc,
        client,
        meeting,
        invitation,
        relayFree: () => delete refuse['sara@example.se'],
      });
    },
  );
}

test('an e-mail in place of an invitation SMS, still waiting for the relay when a re-sent invitation reaches Sara by SMS, is not sent: the page and the API say why', async (t) => {
  await withUndeliveredInvitation(async ({ app, relay, smsc, client, meeting, invitation, relayFree }) => {
    // Sara's phone was off: the network gives up on the invitation; the e-mail in its place waits for the relay.
    t.is(await smsc.receipt('x0', 'UNDELIV'), 0);
    const fallback = await messageWhere(
      app,
      meeting.id,
      (m) => m.fallbackOf === invitation.id && m.status === 'queued' && m.attempts > 0,
    );
    // The clinician sends the invitation again; this time it reaches Sara's phone.
    const sara = meeting.participants[0]!;
    const resent = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants/${sara.id}/resend`, {
      json: { version: meeting.version },
    });
    t.true(resent.status < 300, resent.text);
    await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'invitation' && m.channel === 'sms' && m.status === 'delivered',
    );
    relayFree();
    await retryNow(app, meeting.id);
    const settled = await messageWhere(
      app,
      meeting.id,
      (m) => m.id === fallback.id && m.status !== 'queued' && m.status !== 'sending',
    );
    t.is(settled.status, 'failed', 'the old invitation, with a link that no longer works, does not go');
    t.regex(settled.lastError ?? '', /^not sent: a later message reached the person/);
    t.is(relay.received.length, 0);
    const listed: { id: string; status: string; lastError: string }[] = (
      await client.get(`/api/v1/meetings/${meeting.id}/messages`)
    ).json();
    t.like(
      listed.find((m) => m.id === fallback.id),
      { status: 'failed', lastError: 'not sent: a later message reached the person' },
    );
    const page = (await client.get(`/meetings/${meeting.id}`)).text;
    t.false(page.includes('Ring deltagaren'), 'nobody asked to call: the invitation reached Sara');
  });
});

test('an invitation SMS the network gives up on after a re-sent invitation reached Sara by SMS brings no e-mail in its place', async (t) => {
  await withUndeliveredInvitation(async ({ app, relay, smsc, client, meeting, invitation, relayFree }) => {
    relayFree();
    const sara = meeting.participants[0]!;
    const resent = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants/${sara.id}/resend`, {
      json: { version: meeting.version },
    });
    t.true(resent.status < 300, resent.text);
    await messageWhere(
      app,
      meeting.id,
      (m) => m.kind === 'invitation' && m.channel === 'sms' && m.status === 'delivered',
    );
    // Hours later the network gives up on the first invitation: Sara has the second one.
    t.is(await smsc.receipt('x0', 'UNDELIV'), 0);
    await messageWhere(app, meeting.id, (m) => m.id === invitation.id && m.status === 'failed');
    const emails = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(
      (m) => m.channel === 'email',
    );
    t.deepEqual(emails, [], 'no e-mail in place of an invitation a later one replaced');
    t.is(relay.received.length, 0);
    const page = (await client.get(`/meetings/${meeting.id}`)).text;
    t.false(page.includes('Ring deltagaren'));
  });
});

test('only the e-mail address of someone invited by SMS corrected: no new invitation, the link Sara has still works, and the page says the invitation stands at her number', async (t) => {
  await withAppliance({}, async ({ app, smsc, relay }) => {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: patientWithAddress() })).json();
    const sara = meeting.participants[0];
    await messageWhere(app, meeting.id, (m) => m.kind === 'invitation' && m.status === 'delivered');
    const token = linkToken(smsTexts(smsc).get('46701234567') ?? '');
    const arrived = smsc.arrivals.length;
    const corrected = await client.request('POST', `/meetings/${meeting.id}/participants/${sara.id}/contact`, {
      form: {
        crumb: client.crumb!,
        version: String(meeting.version),
        country: 'SE',
        mobile: '070-123 45 67',
        email: 'sara.lind@example.se',
      },
    });
    t.is(corrected.status, 302, corrected.text.slice(0, 2000));
    const page = (await client.get(present(corrected.headers.get('location'), 'the meeting page'))).text;
    const notice = present(/<p class="notice" role="status">([^<]*)<\/p>/.exec(page)?.[1], 'the notice');
    t.regex(notice, /^Kontaktuppgifterna är ändrade/);
    t.false(notice.includes('ny inbjudan'), 'no new invitation is promised');
    t.regex(notice, /Inbjudan gäller som förut/);
    t.true(page.includes('sara.lind@example.se'), 'the page shows the new address');
    const invitations = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).filter(
      (m) => m.kind === 'invitation',
    );
    t.is(invitations.length, 1, 'no second invitation');
    t.false(present(await findLink(app.server.app.db, token), "Sara's link").revoked, 'her link still works');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.is(smsc.arrivals.length, arrived, 'nothing more reached her phone');
    t.is(relay.received.length, 0);
  });
});

test('an e-mail waiting in place of an invitation SMS when the address it was for is corrected does not go there, and the page asks staff to call Sara: nothing has reached her', async (t) => {
  await withUndeliveredInvitation(async ({ app, relay, smsc, client, meeting, invitation, relayFree }) => {
    t.is(await smsc.receipt('x0', 'UNDELIV'), 0);
    const fallback = await messageWhere(
      app,
      meeting.id,
      (m) => m.fallbackOf === invitation.id && m.status === 'queued' && m.attempts > 0,
    );
    const sara = meeting.participants[0]!;
    const arrived = smsc.arrivals.length;
    const corrected = await client.request('PATCH', `/api/v1/meetings/${meeting.id}/participants/${sara.id}`, {
      json: { version: meeting.version, email: 'sara.lind@example.se' },
    });
    t.is(corrected.status, 200, corrected.text);
    const withdrawn = present(await findMessage(app.server.app.db, fallback.id), 'the e-mail');
    t.is(withdrawn.status, 'failed');
    t.regex(withdrawn.lastError ?? '', /^not sent: the contact details were changed/);
    relayFree();
    await retryNow(app, meeting.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.is(relay.received.length, 0, 'nothing to the old address');
    t.is(smsc.arrivals.length, arrived, 'no new invitation by SMS: the number is the same');
    const page = (await client.get(`/meetings/${meeting.id}`)).text;
    t.regex(page, /Sms:et till \+46701234567 kom inte fram .*Ring deltagaren\./);
  });
});

test('a proxy is invited as a patient with the same contacts is: by e-mail when they gave only an address, by SMS with the address as the fallback when they gave both', async (t) => {
  await withAppliance(
    { smscAnswer: (_, i) => ({ id: `u${i}`, receipt: { id: `u${i}`, stat: 'UNDELIV', err: '001' } }) },
    async ({ app, relay }) => {
      const { client } = await loggedIn(app);
      // Ella (a child, no contacts of her own) comes with Anna, who gave both; Olle's proxy Per gave only an address.
      const ella = {
        kind: 'patient_proxy',
        name: 'Ella Lind',
        identification: 'sms',
        proxy: { name: 'Anna Lind', mobile: '073-123 45 67', email: 'anna@example.se' },
      };
      const withBoth = (
        await client.request('POST', '/api/v1/meetings', { json: booking({ participants: [ella] }) })
      ).json();
      const fallback = await messageWhere(app, withBoth.id, (m) => m.channel === 'email');
      t.like(fallback, { kind: 'invitation', recipient: 'anna@example.se' });
      t.is(
        present(await findMessage(app.server.app.db, present(fallback.fallbackOf, 'its SMS')), 'the SMS').recipient,
        '+46731234567',
      );
      t.is(fallback.data.person, 'proxy');
      const olle = {
        kind: 'patient_proxy',
        name: 'Olle Berg',
        identification: 'bankid',
        personalNumber: '19121212-1212',
        proxy: { name: 'Per Berg', email: 'per@example.se', personalNumber: '19121212-1212' },
      };
      const emailOnly = (
        await client.request('POST', '/api/v1/meetings', { json: booking({ participants: [olle] }) })
      ).json();
      t.truthy(emailOnly.id, JSON.stringify(emailOnly));
      const invitation = await messageWhere(app, emailOnly.id, (m) => m.kind === 'invitation');
      t.like(invitation, { channel: 'email', recipient: 'per@example.se' });
      const mails = await relay.waitFor(2);
      t.deepEqual(
        mails
          .map((m) => JSON.stringify(m.to))
          .map((to) => /anna@|per@/.exec(to)?.[0])
          .sort(),
        ['anna@', 'per@'],
      );
    },
  );
});

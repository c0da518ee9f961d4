// Reminders 24 hours and 15 minutes before the start (REMINDER_OFFSETS), driven with an explicit
// clock; they reach the real SMSC and relay through the outbox.
import test, { type ExecutionContext } from 'ava';
import smpp from 'smpp';
import { messagesOf } from '../../appliance/src/invites/outbox.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { startRelay } from '../helpers/relay.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { startSmsc, waitForArrivals } from '../helpers/smsc.ts';
import { present } from '../helpers/present.ts';
import { until } from '../helpers/wait.ts';

const minutes = (n: number) => n * 60_000;

test('reminders go out 24 hours and 15 minutes before the start, once each, with the link', async (t) => {
  const relay = await startRelay();
  const smsc = await startSmsc();
  const app = await startServer({ env: { SMTP_URL: relay.url, SMPP_URL: smsc.url } });
  try {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
    const start = new Date(meeting.startsAt).getTime();
    const reminders = app.server.plugins.invites.reminders;

    t.is(await reminders.due(new Date(start - minutes(24 * 60 + 5))), 0, 'not yet');
    t.is(await reminders.due(new Date(start - minutes(24 * 60 - 1))), 3, 'one per participant');
    t.is(await reminders.due(new Date(start - minutes(24 * 60 - 2))), 0, 'only once');
    t.is(await reminders.due(new Date(start - minutes(14))), 3, 'and 15 minutes before');
    t.is(await reminders.due(new Date(start - minutes(13))), 0);

    app.server.plugins.invites.dispatcher()!.notify();
    const mails = await relay.waitFor(3); // the invitation and two reminders to the teacher
    const reminder = mails.find((m) => /^Påminnelse/.test(m.subject ?? ''));
    t.truthy(reminder);
    t.regex(reminder!.text ?? '', /\/j\/[\w-]{24}/);
    await waitForArrivals(smsc, 4 + 2 * 2);
    const kinds = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).map((m) => m.kind);
    t.is(kinds.filter((k) => k === 'reminder').length, 6);
  } finally {
    await app.stop();
    await smsc.close();
    await relay.close();
  }
});

test('a meeting booked inside an offset gets no reminder for that offset', async (t) => {
  const app = await startServer({ env: { REMINDER_OFFSETS: '1440,15' } });
  try {
    const { client } = await loggedIn(app);
    const startsAt = new Date(Date.now() + minutes(10 * 60));
    startsAt.setUTCSeconds(0, 0);
    const meeting = (
      await client.request('POST', '/api/v1/meetings', { json: booking({ startsAt: startsAt.toISOString() }) })
    ).json();
    const reminders = app.server.plugins.invites.reminders;
    const start = new Date(meeting.startsAt).getTime();
    t.is(await reminders.due(new Date(start - minutes(9 * 60))), 0, 'no 24-hour reminder: booked 10 hours ahead');
    t.is(await reminders.due(new Date(start - minutes(10))), 3, 'the 15-minute reminder still goes');
  } finally {
    await app.stop();
  }
});

test('a cancelled meeting is not reminded of', async (t) => {
  const app = await startServer();
  try {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
    await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
      json: { version: meeting.version, reason: 'Flyttas' },
    });
    const start = new Date(meeting.startsAt).getTime();
    t.is(await app.server.plugins.invites.reminders.due(new Date(start - minutes(10))), 0);
  } finally {
    await app.stop();
  }
});

test('after downtime a person gets the latest reminder that applies, not every one at once', async (t) => {
  const app = await startServer({ env: { REMINDER_OFFSETS: '15,1440' } });
  try {
    const { client } = await loggedIn(app);
    const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
    const start = new Date(meeting.startsAt).getTime();
    const reminders = app.server.plugins.invites.reminders;
    // The appliance was down from the day before until ten minutes before the start.
    t.is(await reminders.due(new Date(start - minutes(10))), 3, 'the 15-minute reminder, one per participant');
    t.is(await reminders.due(new Date(start - minutes(9))), 0, 'and not the 24-hour one after it');
    const kinds = (await messagesOf(app.server.app.db, { meetingId: meeting.id })).map((m) => m.kind);
    t.is(kinds.filter((k) => k === 'reminder').length, 3);
  } finally {
    await app.stop();
  }
});

test('a meeting moved to within a day gets no 24-hour reminder on top of its new-time message', async (t) => {
  const app = await startServer({ env: { REMINDER_OFFSETS: '1440,15' } });
  try {
    const { client } = await loggedIn(app);
    const booked = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
    // It was booked, and its invitations sent, a week ago.
    const db = app.server.app.db;
    await until('the invitations sent', async () =>
      (await messagesOf(db, { meetingId: booked.id })).every((m) => m.status === 'sent' || m.status === 'delivered'),
    );
    const weekAgo = new Date(Date.now() - minutes(7 * 24 * 60)).toISOString();
    await db('meetings').where({ id: booked.id }).update({ created_at: weekAgo });
    await db('outbox_messages')
      .where({ meeting_id: booked.id })
      .update({ created_at: weekAgo, next_attempt_at: weekAgo, sent_at: weekAgo });
    // Moved to ten hours from now: everyone is sent the new time.
    const startsAt = new Date(Date.now() + minutes(10 * 60));
    startsAt.setUTCMinutes(0, 0, 0);
    const moved = await client.request('PATCH', `/api/v1/meetings/${booked.id}`, {
      json: { version: booked.version, startsAt: startsAt.toISOString() },
    });
    t.is(moved.status, 200, moved.text);
    const start = startsAt.getTime();
    const reminders = app.server.plugins.invites.reminders;
    t.is(await reminders.due(new Date(start - minutes(9 * 60))), 0, 'the new-time message is fresh enough');
    t.is(await reminders.due(new Date(start - minutes(10))), 3, 'the 15-minute reminder still goes');
  } finally {
    await app.stop();
  }
});

/**
 * Sara booked alone, by SMS, with a gateway whose queue is full (ESME_RMSGQFUL, temporary): her
 * messages wait to be retried.
 */
async function withFullGateway(
  scenario: (parts: {
    app: TestServer;
    client: Client;
    booked: { id: string; version: number; startsAt: string };
  }) => Promise<void>,
) {
  const smsc = await startSmsc(() => ({ status: 0x14 }));
  const app = await startServer({ env: { SMPP_URL: smsc.url, REMINDER_OFFSETS: '1440,15' } });
  try {
    const { client } = await loggedIn(app);
    const patient = { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' };
    const booked = (
      await client.request('POST', '/api/v1/meetings', { json: booking({ participants: [patient] }) })
    ).json();
    await scenario({ app, client, booked });
  } finally {
    await app.stop();
    await smsc.close();
  }
}

test('a reminder still waiting for the gateway when the meeting is moved does not go as well as the reminder of the new time: one reminder per person and time', async (t) => {
  await withFullGateway(async ({ app, client, booked }) => {
    const reminders = app.server.plugins.invites.reminders;
    const start = new Date(booked.startsAt).getTime();
    t.is(await reminders.due(new Date(start - minutes(24 * 60 - 1))), 1, 'the 24-hour reminder, waiting');
    // Moved an hour later: Sara is sent the new time; a day before it, its reminder falls due.
    const startsAt = new Date(start + minutes(60));
    const moved = await client.request('PATCH', `/api/v1/meetings/${booked.id}`, {
      json: { version: booked.version, startsAt: startsAt.toISOString() },
    });
    t.is(moved.status, 200, moved.text);
    t.is(await reminders.due(new Date(startsAt.getTime() - minutes(24 * 60 - 1))), 1, 'the reminder of the new time');
    const toGo = (await messagesOf(app.server.app.db, { meetingId: booked.id })).filter(
      (m) => m.kind === 'reminder' && m.status !== 'failed' && m.data.withdrawn === undefined,
    );
    t.is(toGo.length, 1, 'one reminder of the new time, not the old one refreshed beside it');
    t.is(toGo[0]?.data.startsAt, startsAt.toISOString());
  });
});

test('an invitation waiting for the gateway since a week ago, when the meeting is moved to within a day, goes with the new time and no 24-hour reminder beside it', async (t) => {
  await withFullGateway(async ({ app, client, booked }) => {
    const db = app.server.app.db;
    await until('the invitation refused, waiting to be retried', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some((m) => m.status === 'queued' && m.attempts > 0),
    );
    // Booked a week ago; the invitation has waited since.
    const weekAgo = new Date(Date.now() - minutes(7 * 24 * 60)).toISOString();
    await db('outbox_messages').where({ meeting_id: booked.id }).update({ created_at: weekAgo });
    const startsAt = new Date(Date.now() + minutes(10 * 60));
    startsAt.setUTCMinutes(0, 0, 0);
    const moved = await client.request('PATCH', `/api/v1/meetings/${booked.id}`, {
      json: { version: booked.version, startsAt: startsAt.toISOString() },
    });
    t.is(moved.status, 200, moved.text);
    const kinds = (await messagesOf(db, { meetingId: booked.id })).map((m) => m.kind);
    t.deepEqual(kinds, ['invitation'], 'the invitation says the new time: no new-time message beside it');
    const reminders = app.server.plugins.invites.reminders;
    t.is(await reminders.due(new Date(startsAt.getTime() - minutes(9 * 60))), 0, 'the invitation is fresh enough');
  });
});

/**
 * Sara (SMS, and what `more` adds: an e-mail address, a proxy) booked for `inMinutes` from now, and her invitation delivered;
 * then made to look as if booked and invited a week ago.
 */
async function saraInvitedWeekAgo(app: TestServer, inMinutes: number, more: Record<string, unknown>) {
  const { client } = await loggedIn(app);
  const db = app.server.app.db;
  const patient = { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms', ...more };
  const startsAt = new Date(Date.now() + minutes(inMinutes));
  startsAt.setUTCSeconds(0, 0);
  const booked = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [patient], startsAt: startsAt.toISOString() }),
    })
  ).json<{ id: string; version: number; participants: { id: string }[] }>();
  await until('the invitations delivered', async () =>
    (await messagesOf(db, { meetingId: booked.id })).every((m) => m.status === 'delivered'),
  );
  const weekAgo = new Date(Date.now() - minutes(7 * 24 * 60)).toISOString();
  await db('outbox_messages')
    .where({ meeting_id: booked.id })
    .update({ created_at: weekAgo, next_attempt_at: weekAgo, sent_at: weekAgo });
  return { client, db, booked, start: startsAt.getTime() };
}

test('reminders held up by a gateway outage: once the 15-minute reminder is due, the 24-hour one is withdrawn as stale, not sent with it', async (t) => {
  let down = false;
  const smsc = await startSmsc((_, i) =>
    down ? { status: 0x14 } : { id: `r${i}`, receipt: { id: `r${i}`, stat: 'DELIVRD' } },
  );
  const app = await startServer({ env: { SMPP_URL: smsc.url, REMINDER_OFFSETS: '1440,15' } });
  try {
    // Booked, and invited, a week ago; the gateway has been down since the day before.
    const { client, db, booked, start } = await saraInvitedWeekAgo(app, 10, {});
    down = true;
    const reminders = app.server.plugins.invites.reminders;
    t.is(await reminders.due(new Date(start - minutes(24 * 60 - 1))), 1, 'the 24-hour reminder, the day before');
    t.is(await reminders.due(new Date()), 1, 'the 15-minute reminder, now');
    // The gateway is back, and whatever waited is due.
    const before = smsc.arrivals.length;
    down = false;
    await db('outbox_messages')
      .where({ meeting_id: booked.id, status: 'queued' })
      .update({ next_attempt_at: new Date().toISOString() });
    app.server.plugins.invites.dispatcher()!.notify();
    const settled = await until('both reminders final', async () => {
      const sent = (await messagesOf(db, { meetingId: booked.id })).filter((m) => m.kind === 'reminder');
      return sent.every((m) => m.status === 'delivered' || m.status === 'failed') && sent;
    });
    const [dayBefore, quarter] = settled;
    t.is(dayBefore?.status, 'failed');
    t.regex(dayBefore?.lastError ?? '', /^not sent: a later reminder was due before it could go/);
    t.is(quarter?.status, 'delivered');
    const texts = smsc.arrivals.slice(before).map((a) => (a.pdu.short_message as { message?: string }).message ?? '');
    t.is(texts.filter((text) => text.includes('Påminnelse')).length, 1, texts.join('\n'));
    const page = await client.get(`/meetings/${booked.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call for a reminder withdrawn as stale');
  } finally {
    await app.stop();
    await smsc.close();
  }
});

/** The 24-hour reminder, the day before `start`: one message, sent off and waited for until it is `status`. */
async function remindDayBefore(
  t: ExecutionContext,
  app: TestServer,
  meetingId: string,
  start: number,
  status: 'sent' | 'failed',
) {
  t.is(
    await app.server.plugins.invites.reminders.due(new Date(start - minutes(24 * 60 - 1))),
    1,
    'the 24-hour reminder, the day before',
  );
  app.server.plugins.invites.dispatcher()!.notify();
  return until(`the 24-hour reminder ${status}`, async () =>
    (await messagesOf(app.server.app.db, { meetingId })).find((m) => m.kind === 'reminder' && m.status === status),
  );
}

test('a 24-hour reminder SMS the network gives up on after the 15-minute one reached Sara: no e-mail goes in its place, and nobody is asked to call Sara', async (t) => {
  // The gateway takes the 24-hour reminder and reports on it only later; everything else is delivered.
  let heldId: string | undefined;
  let holdNext = false;
  const smsc = await startSmsc((_, i) => {
    if (!holdNext) return { id: `r${i}`, receipt: { id: `r${i}`, stat: 'DELIVRD' } };
    holdNext = false;
    heldId = `held${i}`;
    return { id: heldId };
  });
  const app = await startServer({ env: { SMPP_URL: smsc.url, REMINDER_OFFSETS: '1440,15' } });
  try {
    const { client, db, booked, start } = await saraInvitedWeekAgo(app, 20, { email: 'sara@example.se' });
    const reminders = app.server.plugins.invites.reminders;
    holdNext = true;
    const dayBefore = await remindDayBefore(t, app, booked.id, start, 'sent');
    // A day passes while the network tries Sara's phone: the 15-minute reminder's time comes, and it goes.
    await db('outbox_messages')
      .where({ id: dayBefore.id })
      .update({
        data: JSON.stringify({ ...dayBefore.data, laterReminderAt: new Date(Date.now() - minutes(1)).toISOString() }),
      });
    t.is(await reminders.due(new Date(start - minutes(14))), 1, 'the 15-minute reminder');
    app.server.plugins.invites.dispatcher()!.notify();
    await until('the 15-minute reminder delivered', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some((m) => m.kind === 'reminder' && m.status === 'delivered'),
    );
    t.is(await smsc.receipt(present(heldId, 'the held id'), 'UNDELIV'), 0);
    await until('the 24-hour reminder failed', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some((m) => m.id === dayBefore.id && m.status === 'failed'),
    );
    // The 15-minute reminder reached her first: she has the time and a way in (made in the batch
    // that records the failure, an e-mail in its place would exist by now).
    t.deepEqual(
      (await messagesOf(db, { meetingId: booked.id })).filter((m) => m.fallbackOf === dayBefore.id),
      [],
      'no e-mail in place of a reminder a later one that reached her answered',
    );
    const page = await client.get(`/meetings/${booked.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call: the 15-minute reminder reached Sara');
  } finally {
    await app.stop();
    await smsc.close();
  }
});

test('a 24-hour reminder SMS refused for good, whose e-mail in its place the relay refused too, asks staff to call Sara only until the 15-minute reminder reaches her', async (t) => {
  // The gateway refuses the 24-hour reminder for good (a number it will not take now); everything else is delivered.
  let refuseNext = false;
  const smsc = await startSmsc((_, i) => {
    if (!refuseNext) return { id: `r${i}`, receipt: { id: `r${i}`, stat: 'DELIVRD' } };
    refuseNext = false;
    return { status: smpp.errors.ESME_RINVDSTADR };
  });
  const relay = await startRelay({
    refuse: { 'sara@example.se': [550, '5.1.1 <sara@example.se>: Recipient address rejected: User unknown'] },
  });
  const app = await startServer({ env: { SMPP_URL: smsc.url, SMTP_URL: relay.url, REMINDER_OFFSETS: '1440,15' } });
  try {
    const { client, db, booked, start } = await saraInvitedWeekAgo(app, 20, { email: 'sara@example.se' });
    const reminders = app.server.plugins.invites.reminders;
    refuseNext = true;
    const dayBefore = await remindDayBefore(t, app, booked.id, start, 'failed');
    await until('its e-mail refused too', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some(
        (m) => m.fallbackOf === dayBefore.id && m.status === 'failed',
      ),
    );
    const asked = await client.get(`/meetings/${booked.id}`);
    t.true(asked.text.includes('Ring deltagaren'), 'Sara has not been reached: staff are asked to call');
    // The made-up day passes: the 24-hour reminder's messages were made then.
    await db('outbox_messages')
      .where({ meeting_id: booked.id, kind: 'reminder' })
      .update({ created_at: new Date(start - minutes(24 * 60 - 1)).toISOString() });
    t.is(await reminders.due(new Date(start - minutes(14))), 1, 'the 15-minute reminder');
    app.server.plugins.invites.dispatcher()!.notify();
    await until('the 15-minute reminder delivered', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some((m) => m.kind === 'reminder' && m.status === 'delivered'),
    );
    const page = await client.get(`/meetings/${booked.id}`);
    t.false(page.text.includes('Ring deltagaren'), 'nobody asked to call: the 15-minute reminder reached Sara');
  } finally {
    await app.stop();
    await smsc.close();
    await relay.close();
  }
});

/** The reminders of a meeting: to which number or address, and whether they wait, went or were withdrawn. */
async function remindersOf(db: TestServer['server']['app']['db'], meetingId: string) {
  return (await messagesOf(db, { meetingId }))
    .filter((m) => m.kind === 'reminder')
    .map(
      (m) =>
        `${m.recipient} ${m.status === 'failed' ? 'withdrawn' : m.status === 'delivered' ? 'delivered' : 'waiting'}`,
    );
}

test("a 24-hour reminder waiting for the gateway when Sara's number is corrected is withdrawn with the old number: the new invitation, made after its time, takes its place, and the 15-minute reminder reaches the new number", async (t) => {
  let down = false;
  const smsc = await startSmsc((_, i) =>
    down ? { status: 0x14 } : { id: `r${i}`, receipt: { id: `r${i}`, stat: 'DELIVRD' } },
  );
  const app = await startServer({ env: { SMPP_URL: smsc.url, REMINDER_OFFSETS: '1440,15' } });
  try {
    const { client, db, booked, start } = await saraInvitedWeekAgo(app, 20, {});
    down = true;
    const reminders = app.server.plugins.invites.reminders;
    t.is(await reminders.due(new Date(start - minutes(24 * 60 - 1))), 1, 'the 24-hour reminder, the day before');
    app.server.plugins.invites.dispatcher()!.notify();
    await until('the 24-hour reminder refused for now', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some(
        (m) => m.kind === 'reminder' && m.attempts > 0 && m.status === 'queued',
      ),
    );
    const sara = present(booked.participants[0], 'Sara');
    const changed = await client.request('PATCH', `/api/v1/meetings/${booked.id}/participants/${sara.id}`, {
      json: { version: booked.version, mobile: '076-111 11 11' },
    });
    t.is(changed.status, 200, changed.text);
    t.deepEqual(await remindersOf(db, booked.id), ['+46701234567 withdrawn']);
    down = false;
    await db('outbox_messages')
      .where({ meeting_id: booked.id, status: 'queued' })
      .update({ next_attempt_at: new Date().toISOString() });
    app.server.plugins.invites.dispatcher()!.notify();
    await until('the new invitation delivered', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some(
        (m) => m.kind === 'invitation' && m.recipient === '+46761111111' && m.status === 'delivered',
      ),
    );
    t.is(await reminders.due(new Date()), 0, 'no 24-hour reminder on top of the invitation made after its time');
    t.is(await reminders.due(new Date(start - minutes(14))), 1, 'the 15-minute reminder');
    app.server.plugins.invites.dispatcher()!.notify();
    await until('the 15-minute reminder delivered', async () =>
      (await remindersOf(db, booked.id)).includes('+46761111111 delivered'),
    );
    t.deepEqual(await remindersOf(db, booked.id), ['+46701234567 withdrawn', '+46761111111 delivered']);
  } finally {
    await app.stop();
    await smsc.close();
  }
});

test("only the proxy's number corrected before the day's reminders went (the appliance was down): the patient is still reminded, and the proxy, invited anew since, is not", async (t) => {
  const smsc = await startSmsc((_, i) => ({ id: `r${i}`, receipt: { id: `r${i}`, stat: 'DELIVRD' } }));
  const app = await startServer({ env: { SMPP_URL: smsc.url, REMINDER_OFFSETS: '1440,15' } });
  try {
    const { client, db, booked } = await saraInvitedWeekAgo(app, 20, {
      kind: 'patient_proxy',
      proxy: { name: 'Anna Lind', mobile: '073-123 45 67' },
    });
    const sara = present(booked.participants[0], 'Sara');
    const changed = await client.request('PATCH', `/api/v1/meetings/${booked.id}/participants/${sara.id}`, {
      json: { version: booked.version, proxy: { mobile: '076-111 11 11' } },
    });
    t.is(changed.status, 200, changed.text);
    t.is(await app.server.plugins.invites.reminders.due(new Date()), 1, 'the 24-hour reminder, still due');
    t.deepEqual(await remindersOf(db, booked.id), ['+46701234567 waiting'], 'to Sara, told a week ago');
  } finally {
    await app.stop();
    await smsc.close();
  }
});

test('a new-time SMS the network gave up on told Sara nothing: the 24-hour reminder of the new time goes to her, and once it reaches her nobody is asked to call', async (t) => {
  // Everything is delivered but the new-time SMS, which the network gives up on (Sara's phone off).
  let undeliverable = false;
  const smsc = await startSmsc((_, i) =>
    undeliverable
      ? { id: `u${i}`, receipt: { id: `u${i}`, stat: 'UNDELIV' } }
      : { id: `r${i}`, receipt: { id: `r${i}`, stat: 'DELIVRD' } },
  );
  const app = await startServer({ env: { SMPP_URL: smsc.url, REMINDER_OFFSETS: '1440,15' } });
  try {
    // Booked, and invited, a week ago, for two days from now.
    const { client, db, booked } = await saraInvitedWeekAgo(app, 2 * 24 * 60, {});
    // Moved to ten hours from now: the new-time SMS does not arrive.
    undeliverable = true;
    const startsAt = new Date(Date.now() + minutes(10 * 60));
    startsAt.setUTCSeconds(0, 0);
    const moved = await client.request('PATCH', `/api/v1/meetings/${booked.id}`, {
      json: { version: booked.version, startsAt: startsAt.toISOString() },
    });
    t.is(moved.status, 200, moved.text);
    await until('the new-time SMS failed', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some((m) => m.kind === 'rescheduled' && m.status === 'failed'),
    );
    t.regex((await client.get(`/meetings/${booked.id}`)).text, /kom inte fram .*Ring deltagaren\./);
    undeliverable = false;
    const reminders = app.server.plugins.invites.reminders;
    t.is(
      await reminders.due(new Date(startsAt.getTime() - minutes(9 * 60))),
      1,
      'the 24-hour reminder: Sara was never told the new time',
    );
    app.server.plugins.invites.dispatcher()!.notify();
    await until('the reminder delivered', async () =>
      (await messagesOf(db, { meetingId: booked.id })).some((m) => m.kind === 'reminder' && m.status === 'delivered'),
    );
    t.false(
      (await client.get(`/meetings/${booked.id}`)).text.includes('Ring deltagaren'),
      'the reminder told her the time',
    );
  } finally {
    await app.stop();
    await smsc.close();
  }
});

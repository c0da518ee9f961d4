// A change to a meeting and the outbox's batch take the rows they both write in one order: a
// person's messages first, then their participant row. PostgreSQL locks rows, and two transactions
// that take the same two rows in opposite orders wait for each other until it fails one of them as
// a deadlock: a clinician's change answered 500, or the outbox's batch recorded again later. (SQLite
// runs one writer at a time: there the order cannot matter, and these tests are PostgreSQL's.)
import test from 'ava';
import { lockMessages } from '../../appliance/src/invites/outbox.ts';
import { backendOf, passEngine, someoneWaitsFor } from '../helpers/databases.ts';
import { present } from '../helpers/present.ts';
import { startServer, type Reply, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { booking, loggedIn, teacherByEmail } from './_booking.ts';

const postgresTest = passEngine() === 'postgres' ? test : test.skip;

let app: TestServer | undefined;
test.before(async () => {
  if (passEngine() !== 'postgres') return;
  // A relay that is not there: the invitations wait in the queue, never sent.
  app = await startServer({ env: { SMTP_URL: 'smtp://127.0.0.1:9' } });
});
test.after.always(() => app?.stop());

/**
 * A booked meeting whose teacher's invitation waits in the queue, and `act` run while the outbox's
 * batch records that invitation: the batch holds the message's row, and moves the teacher's status
 * (the part the meetings domain registers for it) only once `act`'s request waits for that row.
 */
async function whileTheOutboxRecords(act: (meetingId: string, version: number, teacherId: string) => Promise<Reply>) {
  const { server } = present(app, 'the appliance');
  const db = server.app.db;
  const { client } = await loggedIn(present(app, 'the appliance'));
  const booked = await client.request('POST', '/api/v1/meetings', { json: booking() });
  if (booked.status !== 201) throw new Error(booked.text);
  const meeting = booked.json<{ id: string; version: number; participants: { id: string; name: string }[] }>();
  const teacher = present(
    meeting.participants.find((p) => p.name === teacherByEmail.name),
    'the teacher',
  );
  // Tried once, and then put off for an hour: the outbox leaves the row alone meanwhile.
  const invitation = await until('the teacher’s invitation back in the queue', async () => {
    const [row] = await db('outbox_messages')
      .where({ participant_id: teacher.id, kind: 'invitation', status: 'queued' })
      .andWhere('attempts', '>=', 1)
      .update({ next_attempt_at: new Date(Date.now() + 3600_000).toISOString() })
      .returning<{ id: string }[]>('id');
    return row;
  });
  let answer: Promise<Reply> | undefined;
  await db.transaction(async (trx) => {
    await trx('outbox_messages').where({ id: invitation.id }).forUpdate().select('id');
    const holder = await backendOf(trx);
    answer = act(meeting.id, meeting.version, teacher.id);
    await until('the request to wait for the message', () => someoneWaitsFor(db, holder));
    await server.app.bus.emitAllIn(trx, 'participant.status', [
      { meetingId: meeting.id, participantId: teacher.id, status: 'delivered' },
    ]);
  });
  return { reply: await present(answer, 'the answer'), teacherId: teacher.id, invitationId: invitation.id };
}

postgresTest(
  'a guest taken off a meeting while the outbox records a message of theirs: both go through, neither fails as a deadlock',
  async (t) => {
    const { client } = await loggedIn(present(app, 'the appliance'));
    const { reply, teacherId, invitationId } = await whileTheOutboxRecords((meetingId, version, teacher) =>
      client.request('DELETE', `/api/v1/meetings/${meetingId}/participants/${teacher}?version=${version}`, {
        headers: { 'x-csrf-token': present(client.crumb, 'the crumb') },
      }),
    );
    t.is(reply.status, 200, reply.text);
    const db = present(app, 'the appliance').server.app.db;
    const row = await db('participants').where({ id: teacherId }).first<{ removed_at: unknown }>('removed_at');
    t.truthy(row?.removed_at, 'the teacher is off the meeting');
    const message = await db('outbox_messages').where({ id: invitationId }).first<{ status: string }>('status');
    t.is(message?.status, 'failed', 'and their invitation will not go');
  },
);

postgresTest(
  "a guest's e-mail address corrected while the outbox records a message of theirs: both go through, neither fails as a deadlock",
  async (t) => {
    const { client } = await loggedIn(present(app, 'the appliance'));
    const { reply, teacherId, invitationId } = await whileTheOutboxRecords((meetingId, version, teacher) =>
      client.request('PATCH', `/api/v1/meetings/${meetingId}/participants/${teacher}`, {
        json: { version, email: 'eva.ek@skolan.example' },
      }),
    );
    t.is(reply.status, 200, reply.text);
    const db = present(app, 'the appliance').server.app.db;
    const row = await db('participants').where({ id: teacherId }).first<{ email: unknown }>('email');
    t.is(row?.email, 'eva.ek@skolan.example', 'the teacher has the new address');
    const message = await db('outbox_messages').where({ id: invitationId }).first<{ status: string }>('status');
    t.is(message?.status, 'failed', 'and the invitation to the old one will not go');
  },
);

postgresTest(
  "a guest's contact data erased while the outbox records a message of theirs: both go through, neither fails as a deadlock",
  async (t) => {
    const { client: admin } = await loggedIn(present(app, 'the appliance'), 'admin');
    const { reply, teacherId, invitationId } = await whileTheOutboxRecords(async (meetingId, _version, teacher) => {
      await admin.get(`/admin/privacy?meeting=${meetingId}`);
      return admin.submit(`/admin/privacy/participants/${teacher}/erase`, { confirm: 'yes' });
    });
    t.is(reply.status, 302, reply.text);
    const db = present(app, 'the appliance').server.app.db;
    const row = await db('participants').where({ id: teacherId }).first<{ email: unknown }>('email');
    t.is(row?.email ?? null, null, "the teacher's address is erased");
    const message = await db('outbox_messages').where({ id: invitationId }).first<{ recipient: string }>('recipient');
    t.is(message?.recipient, '', 'from their invitation too');
  },
);

postgresTest(
  'a meeting cancelled while the outbox holds some of its messages: the cancellation takes them in the outbox’s order and goes through',
  async (t) => {
    const { server } = present(app, 'the appliance');
    const db = server.app.db;
    const { client } = await loggedIn(present(app, 'the appliance'));
    const booked = await client.request('POST', '/api/v1/meetings', {
      json: booking({
        participants: [
          {
            kind: 'patient',
            name: 'Tolvan Tolvansson',
            personalNumber: '19121212-1212',
            identification: 'bankid',
            email: 'tolvan@example.se',
          },
          teacherByEmail,
          { kind: 'guest', name: 'Kurator Kim', email: 'kim@skola.example', identification: 'none' },
        ],
      }),
    });
    t.is(booked.status, 201, booked.text);
    const meeting = booked.json<{ id: string; version: number }>();
    // Each tried once, then put off for an hour: the outbox leaves them alone meanwhile.
    const ids = await until('the three invitations back in the queue', async () => {
      const rows = await db('outbox_messages')
        .where({ meeting_id: meeting.id, status: 'queued' })
        .andWhere('attempts', '>=', 1)
        .update({ next_attempt_at: new Date(Date.now() + 3600_000).toISOString() })
        .returning<{ id: string }[]>('id');
      return rows.length === 3 && rows.map((r) => r.id).sort();
    });
    // The first by id written again, to the end of the table (a change to an indexed column is a
    // new row version there): a statement that takes the rows as it finds them takes it last.
    const [first, ...rest] = ids;
    await db('outbox_messages')
      .where({ id: first })
      .update({ next_attempt_at: new Date(Date.now() + 7200_000).toISOString() });
    t.is(
      (
        await db('outbox_messages')
          .where({ meeting_id: meeting.id })
          .whereNotIn('status', ['sent', 'failed'])
          .pluck('id')
      ).at(-1),
      first,
      'found last',
    );

    let cancelled: Promise<Reply> | undefined;
    await db.transaction(async (trx) => {
      // A batch that holds the first and goes on to the others, in the outbox's order.
      await lockMessages(trx, [present(first, 'the first id')]);
      const holder = await backendOf(trx);
      cancelled = client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
        json: { version: meeting.version, reason: 'Patienten är inlagd' },
        headers: { 'x-csrf-token': present(client.crumb, 'the crumb') },
      });
      await until('the cancellation to wait for the first', () => someoneWaitsFor(db, holder));
      await lockMessages(trx, rest);
    });
    const reply = await present(cancelled, 'the cancellation');
    t.is(reply.status, 200, reply.text);
    t.deepEqual(
      await db('outbox_messages').whereIn('id', ids).pluck('status'),
      ['failed', 'failed', 'failed'],
      'no invitation goes',
    );
  },
);

// What a data protection officer checks after an erasure request: the person's e-mail address,
// phone number and personal identity number are found in no table at all - not in the messages'
// records, not in the relay's reasons for refusing them, not in the connection log.
import test from 'ava';
import type { Knex } from 'knex';
import { isSqlite } from '../../appliance/src/db/knex.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';

const refused = 'eva.okand@skola.example';
let relay: Relay;
let app: TestServer;
test.before(async () => {
  // The relay refuses the address with a reply that repeats it, as Postfix does.
  relay = await startRelay({
    refuse: { [refused]: [550, `5.1.1 <${refused}>: Recipient address rejected: User unknown`] },
  });
  app = await startServer({ env: { REMINDER_OFFSETS: 'none', SMTP_URL: relay.url } });
});
test.after.always(async () => {
  await app?.stop();
  await relay?.close();
});

/** Every table and column where one of these texts (any case) still stands. */
async function whereFound(db: Knex, texts: string[]): Promise<string[]> {
  const tables: string[] = isSqlite(db)
    ? await db('sqlite_master').where({ type: 'table' }).andWhereNot('name', 'like', 'sqlite_%').pluck('name')
    : await db('pg_tables').where('schemaname', db.raw('current_schema()')).pluck('tablename');
  const found = new Set<string>();
  for (const table of tables) {
    for (const row of (await db(table).select()) as Record<string, unknown>[]) {
      for (const [column, value] of Object.entries(row)) {
        const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).toLowerCase();
        if (texts.some((needle) => text.includes(needle.toLowerCase()))) found.add(`${table}.${column}`);
      }
    }
  }
  return [...found].sort();
}

test("after an erasure request the person's address and numbers are found nowhere", async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        patientWithBankId('Tolvan Tolvansson', '19121212-1212'),
        { kind: 'guest', name: 'Eva Okänd', email: refused, identification: 'none' },
      ],
    }),
  });
  t.is(reply.status, 201);
  const guestId = reply.json<{ participants: { id: string }[] }>().participants[1]?.id ?? '';
  const db = app.server.app.db;
  await until('the relay to refuse the invitation', () =>
    db('outbox_messages').where({ participant_id: guestId, status: 'failed' }).first(),
  );
  t.deepEqual(await whereFound(db, [refused]).then((found) => found.length > 0), true, 'held before the request');

  const { client: admin } = await loggedIn(app, 'admin');
  await admin.get(`/admin/privacy?meeting=${reply.json<{ id: string }>().id}`);
  const erased = await admin.submit(`/admin/privacy/participants/${guestId}/erase`, { confirm: 'yes' });
  t.is(erased.status, 302);
  t.deepEqual(await whereFound(db, [refused]), [], 'the e-mail address is gone from every table');
  const [failed] = await db('connlog_entries').where({ participant_id: guestId, type: 'message_failed' });
  t.regex(JSON.parse(failed.details).reason, /Recipient address rejected/, "support still reads the relay's reason");

  const patientId = reply.json<{ participants: { id: string }[] }>().participants[0]?.id ?? '';
  t.is((await admin.submit(`/admin/privacy/participants/${patientId}/erase`, { confirm: 'yes' })).status, 302);
  t.deepEqual(
    await whereFound(db, ['+46707654321', '0707654321', '191212121212', '1212121212']),
    [],
    "the patient's mobile and personal number are gone from every table",
  );
});

test('a participant removed from the meeting is on the privacy page, to export and erase', async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const booked = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        // Not the other test's patient: that test looks for its numbers in every table.
        { kind: 'patient', name: 'Per Persson', mobile: '0701112233', identification: 'sms' },
        { kind: 'guest', name: 'Lärare Borttagen', email: 'borttagen@skola.example', identification: 'none' },
      ],
    }),
  });
  const meeting = booked.json<{ id: string; version: number; participants: { id: string }[] }>();
  const removedId = meeting.participants[1]?.id ?? '';
  const removed = await client.request(
    'DELETE',
    `/api/v1/meetings/${meeting.id}/participants/${removedId}?version=${meeting.version}`,
    { headers: { 'x-csrf-token': client.crumb ?? '' } },
  );
  t.is(removed.status, 200);

  const { client: admin } = await loggedIn(app, 'admin');
  const page = await admin.get(`/admin/privacy?meeting=${meeting.id}`);
  t.true(page.text.includes('Lärare Borttagen'), 'the removed guest is listed');
  t.regex(page.text, /borttagen ur mötet/);
  t.true(page.text.includes('borttagen@skola.example'), 'with the contact data the meeting still holds');
  t.is((await admin.submit(`/admin/privacy/participants/${removedId}/erase`, { confirm: 'yes' })).status, 302);
  t.deepEqual(await whereFound(app.server.app.db, ['borttagen@skola.example']), []);
});

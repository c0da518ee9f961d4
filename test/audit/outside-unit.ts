// The log check's first question (Patientdatalagen 4 kap. 3 §): who opened meetings of another care
// unit than their own. Each such access is marked as it is recorded; the records from before the
// marks are marked by migration 0022 by the same rule; the search reads the marks, not the whole
// log (test/db/plans.ts reads its plan); the retention purge takes a record's mark with it.
import test from 'ava';
import { purgeAudit, retentionCutoff } from '../../appliance/src/audit/retention.ts';
import { findAudit, insertAudit } from '../../appliance/src/audit/store.ts';
import * as marks from '../../appliance/src/db/migrations/0022_audit_outside_unit.ts';
import { countRows } from '../helpers/databases.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

/** A meeting booked in Kardiologi, opened by a clinician there and by support (another unit). */
async function openedFromOutside() {
  const { client: booker, staff: clinician } = await loggedIn(app, 'clinician', 'Kardiologi');
  const reply = await booker.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [{ kind: 'patient', name: 'Olle Hjärta', mobile: '070-222 33 44', identification: 'sms' }],
    }),
  });
  if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.text}`);
  const meetingId = reply.json<{ id: string }>().id;
  const { client: support, staff: supporter } = await loggedIn(app, 'support', 'IT-support');
  if ((await booker.get(`/meetings/${meetingId}`)).status !== 200) throw new Error('the booker could not open it');
  if ((await support.get(`/meetings/${meetingId}`)).status !== 200) throw new Error('support could not open it');
  return { meetingId, clinician, supporter };
}

const outsideOf = (meetingId: string) => findAudit(app.server.app.db, { outsideUnit: true, meetingId });

test.serial(
  "support's reading of another unit's meeting is found, the booking unit's own accesses are not",
  async (t) => {
    const { meetingId, clinician, supporter } = await openedFromOutside();
    const found = await outsideOf(meetingId);
    t.true(found.length > 0);
    t.true(found.every((r) => r.staffId === supporter.id && r.unitId === supporter.unitId));
    t.true(found.some((r) => r.action === 'meeting.read'));
    const all = await findAudit(app.server.app.db, { meetingId });
    t.true(
      all.some((r) => r.staffId === clinician.id && r.action === 'meeting.read'),
      'the booker read it too',
    );
  },
);

test.serial('records written before the marks existed are marked by the migration, by the same rule', async (t) => {
  const db = app.server.app.db;
  const { meetingId } = await openedFromOutside();
  const before = (await outsideOf(meetingId)).map((r) => r.id);
  t.true(before.length > 0);
  // The log as it was before migration 0022: no marks. Then the migration.
  await marks.down(db);
  await marks.up(db);
  t.deepEqual(
    (await outsideOf(meetingId)).map((r) => r.id),
    before,
  );
});

test.serial('the retention purge removes the marks of the records it removes, and keeps the others', async (t) => {
  const db = app.server.app.db;
  const { meetingId, supporter } = await openedFromOutside();
  const recent = (await outsideOf(meetingId)).map((r) => r.id);
  const old = new Date(retentionCutoff().getTime() - 86_400_000);
  await insertAudit(
    db,
    { action: 'meeting.read', staffId: supporter.id, staffRole: 'support', unitId: supporter.unitId, meetingId },
    old,
  );
  t.is((await outsideOf(meetingId)).length, recent.length + 1, 'the old access is marked as it is recorded');
  t.true((await purgeAudit(db)) >= 1);
  t.deepEqual(
    (await outsideOf(meetingId)).map((r) => r.id),
    recent,
  );
  const orphans = await countRows(
    db('audit_outside_unit as o').whereNotExists((q) =>
      q.select(db.raw('1')).from('audit_log as a').whereRaw('a.id = o.audit_id'),
    ),
  );
  t.is(orphans, 0, 'no mark is left without its record');
});

import { randomUUID } from 'node:crypto';
import test from 'ava';
import { auditActions } from '../../appliance/src/audit/index.ts';
import { stringKeys } from '../../appliance/src/http/i18n.ts';
import { findAccesses, findAudit, insertAudit } from '../../appliance/src/audit/store.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
  // A stand-in for any route that reads meeting data: it calls the one audit helper.
  app.server.route({
    method: 'GET',
    path: '/api/v1/test-meetings/{id}',
    async handler(request) {
      const id = String(request.params.id);
      await request.audit('meeting.read', { meetingId: id, targetType: 'meeting', targetId: id });
      return { id: request.params.id };
    },
  });
});
test.after.always(() => app?.stop());

test('a staff read of meeting data writes an audit record with who, what, when and from where', async (t) => {
  const { staff, password } = await app.staff('clinician', 'Habilitering');
  const browser = app.client();
  await browser.login(staff.email, password);
  const before = Date.now();
  t.is((await browser.get('/api/v1/test-meetings/m-123')).status, 200);
  const record = present((await findAudit(app.server.app.db, { meetingId: 'm-123' }))[0], 'an audit record');
  t.is(record.action, 'meeting.read');
  t.is(record.staffId, staff.id);
  t.is(record.staffRole, 'clinician');
  t.is(record.unitId, staff.unitId);
  t.is(record.targetType, 'meeting');
  t.is(record.ip, '127.0.0.1');
  t.true(record.at.getTime() >= before - 1000);
});

test('reads through an API token are audited as that staff member', async (t) => {
  const { staff } = await app.staff('admin');
  const { createToken } = await import('../../appliance/src/staff/service.ts');
  const { token } = await createToken(app.server.app.db, staff.email, 'audit');
  await app.client().get('/api/v1/test-meetings/m-456', { authorization: `Bearer ${token}` });
  const record = present((await findAudit(app.server.app.db, { meetingId: 'm-456' }))[0], 'an audit record');
  t.is(record.staffId, staff.id);
  t.is(record.staffRole, 'admin');
});

test('a refused request writes no access record', async (t) => {
  await app.client().get('/api/v1/test-meetings/m-789');
  t.deepEqual(await findAudit(app.server.app.db, { meetingId: 'm-789' }), []);
});

test('failed logins are audited without the password', async (t) => {
  await app.client().login('someone@region.example', 'hemligt-lösen');
  const records = await findAudit(app.server.app.db, { action: 'login.failed' });
  const mine = records.find((r) => r.details?.email === 'someone@region.example');
  t.truthy(mine);
  t.false(JSON.stringify(records).includes('hemligt-lösen'));
});

test('every action the log can record has words in Swedish and English for the viewer and the extract', (t) => {
  for (const lang of ['sv', 'en'] as const) {
    const keys = new Set(stringKeys(lang));
    t.deepEqual(
      auditActions.filter((action) => !keys.has(`admin.action.${action}`)),
      [],
      lang,
    );
  }
});

test("the log extract's search reads the log a slice of ids at a time and finds what one read finds, oldest first", async (t) => {
  const db = app.server.app.db;
  const { staff } = await app.staff('clinician', 'Skivor');
  const [meeting, participant, other] = [randomUUID(), randomUUID(), randomUUID()];
  const who = { staffId: staff.id, staffRole: 'clinician', unitId: staff.unitId };
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 12, 8, minute));
  await insertAudit(db, { ...who, action: 'meeting.read', meetingId: meeting }, at(0));
  await insertAudit(db, { ...who, action: 'meeting.read', meetingId: other }, at(1));
  await insertAudit(db, { ...who, action: 'meeting.list', details: { meetingIds: [other, meeting] } }, at(2));
  await insertAudit(db, { action: 'meeting.read', meetingId: meeting }, at(3)); // no one's: not an access
  for (let i = 0; i < 5; i++)
    await insertAudit(db, { ...who, action: 'meeting.list', details: { meetingIds: [other] } }, at(4 + i));
  await insertAudit(db, { ...who, action: 'participant.remove', meetingId: other, participantId: participant }, at(9));
  await insertAudit(db, { ...who, action: 'meeting.update', meetingId: meeting }, at(10));
  const about = { meetingIds: [meeting], participantIds: [participant] };
  const whole = await findAccesses(db, about);
  t.deepEqual(
    whole.map((r) => r.action),
    ['meeting.read', 'meeting.list', 'participant.remove', 'meeting.update'],
  );
  for (const slice of [1, 2, 3, 7]) t.deepEqual(await findAccesses(db, about, slice), whole, `slices of ${slice}`);
});

test("the log extract's search starts at the meetings' bookings, or at the log's beginning when one of them has no booking record", async (t) => {
  const db = app.server.app.db;
  const { staff } = await app.staff('clinician', 'Början');
  const [meeting, patient, unbooked] = [randomUUID(), randomUUID(), randomUUID()];
  const who = { staffId: staff.id, staffRole: 'clinician', unitId: staff.unitId };
  const at = (minute: number) => new Date(Date.UTC(2025, 5, 2, 10, minute));
  // Records about a meeting or its patient written before the booking's cannot be: here they show
  // where the search began.
  await insertAudit(db, { ...who, action: 'meeting.read', participantId: patient }, at(0));
  await insertAudit(db, { ...who, action: 'meeting.list', details: { meetingIds: [meeting, unbooked] } }, at(1));
  await insertAudit(db, { ...who, action: 'meeting.book', meetingId: meeting }, at(2));
  await insertAudit(db, { ...who, action: 'meeting.list', details: { meetingIds: [meeting] } }, at(3));
  await insertAudit(db, { ...who, action: 'meeting.update', meetingId: meeting, participantId: patient }, at(4));
  // A meeting whose first record is not its booking (booked before records were kept, or the
  // booking's record purged).
  await insertAudit(db, { ...who, action: 'meeting.read', meetingId: unbooked }, at(5));
  const about = { meetingIds: [meeting], participantIds: [patient] };
  const fromBooking = await findAccesses(db, about);
  t.deepEqual(
    fromBooking.map((r) => r.action),
    ['meeting.book', 'meeting.list', 'meeting.update'],
  );
  for (const slice of [1, 2, 3, 7])
    t.deepEqual(await findAccesses(db, about, slice), fromBooking, `slices of ${slice}`);
  // With that meeting too, nothing tells where its accesses begin: the whole log is searched.
  t.deepEqual(
    (await findAccesses(db, { meetingIds: [meeting, unbooked], participantIds: [patient] })).map((r) => r.action),
    ['meeting.read', 'meeting.list', 'meeting.book', 'meeting.list', 'meeting.update', 'meeting.read'],
  );
});

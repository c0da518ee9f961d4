// The patient's log extract is owed for as long as the audit log keeps the accesses (ten years),
// while the patient's personal identity number is erased 90 days after each meeting
// (RETENTION_CONTACTS_DAYS). The extract must still find the patient's older meetings.
import test from 'ava';
import { purge, purgeAuditLog } from '../../appliance/src/admin/retention.ts';
import { findPatient } from '../../appliance/src/meetings/patients.ts';
import {
  fillPatientRefs,
  findParticipant,
  insertMeeting,
  insertParticipants,
} from '../../appliance/src/meetings/store.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test.serial(
  "the log extract still finds a patient's meetings after retention erased their personal number",
  async (t) => {
    const { client: booker, staff: bookerStaff } = await loggedIn(app, 'clinician', 'Barnhabilitering');
    const book = async () => {
      const reply = await booker.request('POST', '/api/v1/meetings', {
        json: booking({ participants: [patientWithBankId('Greta Gammal', '19121212-1212')] }),
      });
      t.is(reply.status, 201);
      return reply.json<{ id: string; startsAt: string; participants: { id: string }[] }>();
    };
    const first = await book();
    const second = await book();
    const { client: colleague, staff: reader } = await loggedIn(app, 'clinician', 'Barnhabilitering');
    t.is((await colleague.get(`/meetings/${first.id}`)).status, 200);

    // A hundred days after the meetings: their contact data and personal numbers are gone.
    const later = new Date(new Date(first.startsAt).getTime() + 100 * 86_400_000);
    await purge(app.server.app.db, app.config.retention, 'cli', later);
    const erased = await findParticipant(app.server.app.db, first.participants[0]?.id ?? '');
    t.is(erased?.personalNumberMasked, null, 'retention erased the number');

    const { client: admin } = await loggedIn(app, 'admin');
    await admin.get('/admin/audit/extract');
    const reply = await admin.submit('/admin/audit/extract', {
      name: 'Greta Gammal',
      personalNumber: '19121212-1212',
      format: 'html',
    });
    t.is(reply.status, 200, 'the patient is found');
    t.true(reply.text.includes(first.id) && reply.text.includes(second.id), 'both meetings are in the extract');
    t.true(reply.text.includes(reader.name), 'the colleague who opened the meeting is named');
    t.true(reply.text.includes(bookerStaff.name));
    t.regex(reply.text, /Greta Gammal, 19121212-\*\*\*\*/);

    const fromMeeting = await admin.get(`/admin/audit/extract?meeting=${second.id}`);
    t.is(fromMeeting.status, 200);
    t.true(fromMeeting.text.includes(first.id), "the extract from one meeting finds the patient's other meetings");

    const wrongName = await admin.submit('/admin/audit/extract', {
      name: 'Någon Annan',
      personalNumber: '19121212-1212',
      format: 'html',
    });
    t.is(wrongName.status, 404, 'the name must match too');
  },
);

test.serial(
  'patients booked before the keyed number existed get theirs at start, and it goes with the audit log',
  async (t) => {
    const db = app.server.app.db;
    const { client: booker } = await loggedIn(app, 'clinician', 'Barnhabilitering');
    const reply = await booker.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [patientWithBankId('Olle Tidig', '19121212-1212')] }),
    });
    const meeting = reply.json<{ id: string; startsAt: string; participants: { id: string }[] }>();
    const patientId = meeting.participants[0]?.id ?? '';
    /** A patient with a personal number, written straight into a meeting; their id. */
    const patientIn = async (meetingId: string, name: string, position: number) =>
      (
        await insertParticipants(
          db,
          meetingId,
          [
            {
              kind: 'patient',
              identification: 'bankid',
              name,
              country: 'SE',
              mobile: null,
              email: null,
              personalNumber: '191212121212',
              staffId: null,
              proxy: null,
              language: 'sv',
            },
          ],
          position,
          app.config.dataKey,
        )
      )[0];
    // As a row booked before migration 0020 stands: the number sealed, no keyed number.
    await db('participants').where({ id: patientId }).update({ patient_ref: null });
    // A damaged sealed number elsewhere does not stop the others (nor the start).
    const damaged = await patientIn(meeting.id, 'Skadad Rad', 5);
    await db('participants').where({ id: damaged }).update({ patient_ref: null, personal_number_sealed: 'v1.x.y.z' });
    t.is(await fillPatientRefs(db, app.config.dataKey), 1);
    t.truthy((await db('participants').where({ id: patientId }).first()).patient_ref);

    const start = new Date(meeting.startsAt).getTime();
    await purge(db, app.config.retention, 'cli', new Date(start + 100 * 86_400_000));
    const found = await findPatient(db, app.config.dataKey, 'Olle Tidig', '191212121212');
    t.deepEqual(
      found.map((p) => p.meetingId),
      [meeting.id],
    );

    // A meeting past the audit log's ten years: its records go, and its patient's keyed number with them.
    const { staff } = await app.staff('clinician');
    const ancient = await insertMeeting(db, {
      unitId: staff.unitId,
      title: 'Uppföljning',
      startsAt: new Date(Date.now() - 11 * 366 * 86_400_000),
      durationMinutes: 60,
      bookedBy: staff.id,
      ledBy: staff.id,
      documentationPlan: 'Journal',
      testMeeting: false,
    });
    const ancientPatient = await patientIn(ancient, 'Olle Tidig', 0);
    t.is((await findPatient(db, app.config.dataKey, 'Olle Tidig', '191212121212')).length, 2);
    await purgeAuditLog(db);
    t.is((await db('participants').where({ id: ancientPatient }).first()).patient_ref, null);
    t.deepEqual(
      (await findPatient(db, app.config.dataKey, 'Olle Tidig', '191212121212')).map((p) => p.meetingId),
      [meeting.id],
      'the younger meeting stays findable',
    );
  },
);

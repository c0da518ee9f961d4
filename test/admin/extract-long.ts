// A patient with many meetings on a busy unit's calendar gathers many accesses: every calendar
// listing that showed a meeting counts. The extract must not end silently part-way.
import test from 'ava';
import { chunks } from '../../appliance/src/db/values.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test('an extract of more accesses than one page shows says so, and its CSV holds them all, the newest included', async (t) => {
  const { client: booker, staff: bookerStaff } = await loggedIn(app, 'clinician', 'Habilitering');
  const reply = await booker.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [patientWithBankId('Tove Tät', '19121212-1212')] }),
  });
  t.is(reply.status, 201);
  const meetingId = reply.json<{ id: string }>().id;
  // Ten thousand calendar listings that showed the meeting, as a unit's calendar gathers them.
  const db = app.server.app.db;
  const listing = {
    at: new Date().toISOString(),
    staff_id: bookerStaff.id,
    staff_role: 'clinician',
    unit_id: bookerStaff.unitId,
    action: 'meeting.list',
    target_type: 'calendar',
    details: JSON.stringify({ meetingIds: [meetingId] }),
  };
  for (const part of chunks(
    Array.from({ length: 10_000 }, () => listing),
    200,
  ))
    await db('audit_log').insert(part);
  // The newest access of all, by a colleague.
  const { client: colleague, staff: reader } = await loggedIn(app, 'clinician', 'Habilitering');
  t.is((await colleague.get(`/meetings/${meetingId}`)).status, 200);

  const { client: admin } = await loggedIn(app, 'admin');
  const page = await admin.get(`/admin/audit/extract?meeting=${meetingId}`);
  t.is(page.status, 200);
  t.regex(page.text, /10\s002 åtkomster/, 'the page says how many there are');
  t.regex(page.text, /CSV-filen har alla/);
  const csv = await admin.get(`/admin/audit/extract.csv?meeting=${meetingId}`);
  t.is(csv.status, 200);
  const lines = csv.text.trim().split('\n');
  t.is(lines.length, 1 + 10_002, 'a header and every access: the booking, the listings, the colleague');
  t.true(lines.at(-1)?.includes(reader.name), 'the newest access is there');
});

// The patient's log extract (Patientdatalagen) counts every staff access that showed the patient's
// data: also support's search of the connection logs, whose result lists the meeting with the
// participants' names and phone numbers.
import test from 'ava';
import { searchLog } from '../connlog/_search.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test("a support search of the connection logs that showed the patient's meeting is in the patient's extract", async (t) => {
  const { client: booker } = await loggedIn(app, 'clinician', 'Logghantering');
  const reply = await booker.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [patientWithBankId('Sigrid Sökbar', '19121212-1212')] }),
  });
  t.is(reply.status, 201);
  const meetingId = reply.json<{ id: string }>().id;

  const { client: support, staff: supporter } = await loggedIn(app, 'support');
  const { page: found } = await searchLog(support, { name: 'Sigrid' });
  t.is(found.status, 200);
  t.true(found.text.includes('Sigrid Sökbar'), "the search shows the patient's name");

  const { client: admin } = await loggedIn(app, 'admin');
  const extract = await admin.get(`/admin/audit/extract?meeting=${meetingId}`);
  t.is(extract.status, 200);
  t.regex(extract.text, /Sökte i anslutningsloggar/);
  t.true(extract.text.includes(supporter.name), 'the support member who saw the meeting is named');
});

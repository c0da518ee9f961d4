// The patient's log extract (Patientdatalagen) counts every staff access that showed the patient's
// data: also support's search of the connection logs, whose result lists the meeting with the
// participants' names and phone numbers, and the admin's outbox, which shows their numbers.
import test, { type ExecutionContext } from 'ava';
import { searchLog } from '../connlog/_search.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

/** A meeting booked for a patient identified with BankID; its id. */
async function bookPatient(t: ExecutionContext, name: string): Promise<string> {
  const { client: booker } = await loggedIn(app, 'clinician', 'Logghantering');
  const reply = await booker.request('POST', '/api/v1/meetings', {
    json: booking({ participants: [patientWithBankId(name, '19121212-1212')] }),
  });
  t.is(reply.status, 201);
  return reply.json<{ id: string }>().id;
}

test("a support search of the connection logs that showed the patient's meeting is in the patient's extract", async (t) => {
  const meetingId = await bookPatient(t, 'Sigrid Sökbar');

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

test("an admin's look at the outbox, which showed the patient's number, is in the patient's extract", async (t) => {
  const meetingId = await bookPatient(t, 'Ulla Utkorg');

  const { client: reader, staff: readerStaff } = await loggedIn(app, 'admin');
  const outbox = await reader.get('/admin/outbox');
  t.is(outbox.status, 200);
  t.true(
    outbox.text.includes('+46707654321') || outbox.text.includes('070-765 43 21'),
    "the page shows the patient's number",
  );

  const { client: admin } = await loggedIn(app, 'admin');
  const extract = await admin.get(`/admin/audit/extract?meeting=${meetingId}`);
  t.is(extract.status, 200);
  t.regex(extract.text, /Öppnade utkorgen/);
  t.true(extract.text.includes(readerStaff.name), 'the admin who saw the meeting in the outbox is named');
});

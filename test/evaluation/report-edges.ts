// The evaluation report at its edges: meetings just after midnight on the clinic's clock, a period
// where people were asked but nobody answered, a question whose type an admin changed after
// answers came in, and the CSV as Excel with Swedish settings opens it.
import test from 'ava';
import { addDays, fromClinicTime, today } from '../../appliance/src/common/clock.ts';
import { purgeAnswers } from '../../appliance/src/evaluation/index.ts';
import { answer, offerToParticipant } from '../../appliance/src/evaluation/service.ts';
import { findMeeting } from '../../appliance/src/meetings/store.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

type Client = Awaited<ReturnType<typeof loggedIn>>['client'];

/** Books a meeting with one patient, held (someone came into its room), and returns it as the store has it. */
async function book(clinician: Client, startsAt: Date) {
  const reply = await clinician.request('POST', '/api/v1/meetings', {
    json: booking({
      startsAt: startsAt.toISOString(),
      participants: [{ kind: 'patient', name: 'Per Persson', mobile: '0701112233', identification: 'sms' }],
    }),
  });
  if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.text}`);
  const { id } = reply.json<{ id: string }>();
  // An evaluation is of a meeting held: before that nobody is asked.
  await app.server.plugins.meetings.service.advanceStatus(id, 'in_progress');
  return present(await findMeeting(app.server.app.db, id), 'the booked meeting');
}

/** The patient is offered the form (asked) and, with a form, answers it. */
async function patientOf(meeting: Awaited<ReturnType<typeof book>>, form?: Record<string, string>) {
  const db = app.server.app.db;
  const offer = await offerToParticipant(db, meeting, present(meeting.participants[0], 'the patient'), 'main');
  if (form) await answer(db, offer.respondent, offer.set.id, form);
  return offer;
}

const stat = (html: string, label: string) =>
  present(new RegExp(`${label}</dt><dd>([^<]*)<`).exec(html)?.[1], `the figure ${label}`);

test("a meeting at half past midnight counts on its own day on the clinic's clock", async (t) => {
  const { client } = await loggedIn(app, 'clinician', 'Nattmottagningen');
  // Two days ahead at 00:30 in Stockholm: the evening before in UTC.
  const day = addDays(today(), 2);
  const meeting = await book(client, fromClinicTime(day, '00:30'));
  await patientOf(meeting, { q_sound_picture: '4' });

  const onTheDay = await client.get(`/evaluation/results?from=${day}&to=${day}`);
  t.is(onTheDay.status, 200);
  t.is(stat(onTheDay.text, 'Tillfrågade'), '1', 'asked on the day of the meeting');
  t.is(stat(onTheDay.text, 'Svar'), '1', 'answered on the day of the meeting');
  const dayBefore = await client.get(`/evaluation/results?from=${addDays(day, -1)}&to=${addDays(day, -1)}`);
  t.is(stat(dayBefore.text, 'Tillfrågade'), '0');
  t.is(stat(dayBefore.text, 'Svar'), '0', 'nothing on the evening before');

  // Retention cuts at the same midnight: answers of the meeting's day stay while that day is kept.
  const purged = await purgeAnswers(app.server.app.db, fromClinicTime(day, '12:00'));
  t.deepEqual(purged, { responses: 0, respondents: 0 });
  t.is(stat((await client.get(`/evaluation/results?from=${day}&to=${day}`)).text, 'Svar'), '1');
  const later = await purgeAnswers(app.server.app.db, fromClinicTime(addDays(day, 1), '00:00'));
  t.true(later.responses >= 1 && later.respondents >= 1, 'and go once the day has passed');
});

test('people asked and nobody answering is a response rate of 0 %, not no rate at all', async (t) => {
  const { client } = await loggedIn(app, 'clinician', 'Tystmottagningen');
  const day = addDays(today(), 10);
  await patientOf(await book(client, fromClinicTime(day, '10:00')));
  const page = await client.get(`/evaluation/results?from=${day}&to=${day}`);
  t.is(stat(page.text, 'Tillfrågade'), '1');
  t.is(stat(page.text, 'Svar'), '0');
  t.is(stat(page.text, 'Svarsfrekvens'), '0 %');
  const nobodyAsked = await client.get(`/evaluation/results?from=${addDays(day, 1)}&to=${addDays(day, 1)}`);
  t.is(stat(nobodyAsked.text, 'Svarsfrekvens'), '–', 'without anyone asked there is no rate');
});

test('a question whose type an admin changed after answers came in reports each answer under the question it answered', async (t) => {
  const { client, staff } = await loggedIn(app, 'clinician', 'Ändringsmottagningen');
  const day = addDays(today(), 12);
  await patientOf(await book(client, fromClinicTime(day, '09:00')), { q_sound_picture: '4' });
  const { client: admin } = await loggedIn(app, 'admin');
  const editor = `/evaluation/sets/${staff.unitId}/patient`;
  await admin.get(editor);
  const saved = await admin.submit(
    editor,
    {
      q0_id: 'sound_picture',
      q0_type: 'yes_no',
      q0_sv: 'Fungerade ljud och bild?',
      q0_en: 'Did sound and picture work?',
    },
    editor,
  );
  t.is(saved.status, 302);
  await patientOf(await book(client, fromClinicTime(day, '11:00')), { q_sound_picture: 'yes' });

  const csv = (await client.get(`/evaluation/results.csv?from=${day}&to=${day}`)).text;
  const line = (question: string) =>
    present(
      csv.split('\r\n').find((l) => l.startsWith(question)),
      `the line of ${question}`,
    ).split(/[,;]/);
  // question, type, answered, average, 1–5, yes, no
  t.deepEqual(line('Hur fungerade ljud och bild?').slice(1, 11), ['scale', '1', '4', '0', '0', '0', '1', '0', '', '']);
  t.deepEqual(line('Fungerade ljud och bild?').slice(1, 11), ['yes_no', '1', '', '', '', '', '', '', '1', '0']);
});

test('the CSV opens in Excel with Swedish settings: a byte-order mark, semicolons and decimal commas', async (t) => {
  const { client } = await loggedIn(app, 'clinician', 'Kalkylmottagningen');
  const day = addDays(today(), 14);
  await patientOf(await book(client, fromClinicTime(day, '09:00')), { q_could_say: '4' });
  await patientOf(await book(client, fromClinicTime(day, '10:00')), { q_could_say: '5' });
  // The bytes as Excel reads them (fetch's text() would drop the byte-order mark).
  const reply = await fetch(new URL(`/evaluation/results.csv?from=${day}&to=${day}`, client.base), {
    headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  t.is(reply.status, 200);
  const bytes = Buffer.from(await reply.arrayBuffer());
  t.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 said with a byte-order mark: "ä" stays "ä"');
  const lines = bytes.subarray(3).toString('utf8').split('\r\n');
  t.is(lines[0], 'question;type;answered;average;1;2;3;4;5;yes;no;text');
  t.true(lines.includes('Kunde du säga det du ville under mötet?;scale;2;4,5;0;0;0;1;1;;;'), lines.join('\n'));
});

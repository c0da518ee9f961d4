// The audit viewer and the patient's log extract (Patientdatalagen): who accessed which patient's
// meeting data, found by name and personal identity number or from a meeting; and the log itself
// cannot be changed or deleted.
import test from 'ava';
import { findAudit, insertAudit } from '../../appliance/src/audit/store.ts';
import { purgeAudit, retentionCutoff } from '../../appliance/src/audit/retention.ts';
import { toClinicTime } from '../../appliance/src/common/clock.ts';
import { createDb } from '../../appliance/src/db/knex.ts';
import { everyDatabase } from '../helpers/databases.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { booking, loggedIn, patientWithBankId } from '../meetings/_booking.ts';

// Decided before any test is declared: ava wants every test declared synchronously after this.
const databases = await everyDatabase();

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

/** The result table of the audit viewer (the search form lists every action's words too). */
const results = (html: string) => /<table class="audit">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';

async function bookFor(client: Awaited<ReturnType<typeof loggedIn>>['client'], patient: Record<string, unknown>) {
  const reply = await client.request('POST', '/api/v1/meetings', { json: booking({ participants: [patient] }) });
  if (reply.status !== 201) throw new Error(`booking failed: ${reply.status} ${reply.text}`);
  return reply.json<{ id: string; participants: { id: string }[] }>();
}

test('a patient log extract lists every staff access to their meetings, found by name and personal number', async (t) => {
  const { client: booker, staff: bookerStaff } = await loggedIn(app, 'clinician', 'Habilitering');
  const first = await bookFor(booker, patientWithBankId('Tolvan Tolvansson', '19121212-1212'));
  const second = await bookFor(booker, patientWithBankId('Tolvan Tolvansson', '191212121212'));
  // Someone else born the same day: their meeting must stay out of Tolvan's extract.
  const other = await bookFor(booker, patientWithBankId('Annan Person', '19121212-1220'));
  const { client: colleague } = await loggedIn(app, 'clinician', 'Habilitering');
  t.is((await colleague.get(`/meetings/${second.id}`)).status, 200);
  t.is((await booker.get(`/meetings/${other.id}`)).status, 200);

  const { client: admin, staff: adminStaff } = await loggedIn(app, 'admin');
  await admin.get('/admin/audit/extract');
  const reply = await admin.submit('/admin/audit/extract', {
    name: ' tolvan  TOLVANSSON',
    personalNumber: '19121212-1212',
    format: 'html',
  });
  t.is(reply.status, 200);
  t.regex(reply.text, /Tolvan Tolvansson, 19121212-\*\*\*\*/);
  t.notRegex(reply.text, /19121212-1212/, 'the full number is never shown');
  t.regex(reply.text, new RegExp(bookerStaff.name));
  t.regex(reply.text, /Habilitering/);
  t.regex(reply.text, /Öppnade mötet/);
  t.regex(reply.text, /Bokade mötet/);
  t.true(reply.text.includes(first.id) && reply.text.includes(second.id));
  t.false(reply.text.includes(other.id));

  const csv = await admin.submit('/admin/audit/extract', {
    name: 'Tolvan Tolvansson',
    personalNumber: '191212121212',
    format: 'csv',
  });
  t.is(csv.status, 200);
  t.regex(csv.headers.get('content-type') ?? '', /text\/csv/);
  t.regex(csv.headers.get('content-disposition') ?? '', /attachment; filename="loggutdrag-\d{4}-\d{2}-\d{2}\.csv"/);
  const lines = csv.text
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n');
  t.is(lines[0], 'Tid;Personal;HSA-id;Vårdenhet;Roll;Händelse;Möte;Mötets rubrik och tid;Deltagare');
  t.true(lines.some((l) => l.includes('Öppnade mötet') && l.includes(second.id)));
  // Each row names its meeting as staff know it, beside the id: the title and its start.
  t.true(
    lines.some((l) => l.includes(`${second.id};Samordnad planering inför skolstart, 20`)),
    lines.slice(1, 3).join('\n'),
  );
  t.regex(reply.text, /Samordnad planering inför skolstart, \d{4}-\d{2}-\d{2} \d{2}:\d{2} <span class="muted">\(/);

  // The audit viewer too: the meeting's title and start link to its records, not a bare id.
  const viewer = await admin.get(`/admin/audit?meeting=${second.id}`);
  t.is(viewer.status, 200);
  t.regex(
    viewer.text,
    new RegExp(
      `<a href="/admin/audit\\?meeting=${second.id}">Samordnad planering inför skolstart, \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}</a>`,
    ),
  );

  // Producing the extract is itself in the log, with ids only.
  const records = await findAudit(app.server.app.db, { staffId: adminStaff.id, action: 'audit.extract' });
  t.true(records.length >= 2);
  t.false(JSON.stringify(records).includes('1212-1212'));
});

/** The check digit that completes nine digits YYMMDDNNN (Luhn, as the Tax Agency computes it). */
function withCheckDigit(nine: string): string {
  const sum = [...nine].reduce((acc, c, i) => {
    const d = Number(c) * (i % 2 === 0 ? 2 : 1);
    return acc + (d > 9 ? d - 9 : d);
  }, 0);
  return `${nine}${(10 - (sum % 10)) % 10}`;
}

test('a patient of 99 booked by a ten-digit number is found by their full number', async (t) => {
  // Born on New Year's Eve a hundred years ago: 99 years old all year, written YYMMDD-NNNC.
  const year = new Date().getUTCFullYear() - 100;
  const digits = withCheckDigit(`${String(year).slice(2)}1231238`);
  const { client: booker } = await loggedIn(app, 'clinician', 'Geriatrik');
  const meeting = await bookFor(booker, patientWithBankId('Greta Åström', `${digits.slice(0, 6)}-${digits.slice(6)}`));
  const page = await booker.get(`/meetings/${meeting.id}`);
  t.true(page.text.includes(`${year}1231-****`), 'the meeting shows the birth date a hundred years back');

  const { client: admin } = await loggedIn(app, 'admin');
  await admin.get('/admin/audit/extract');
  const reply = await admin.submit('/admin/audit/extract', {
    name: 'Greta Åström',
    personalNumber: `${year}${digits.slice(2, 6)}-${digits.slice(6)}`,
    format: 'html',
  });
  t.is(reply.status, 200);
  t.true(reply.text.includes(meeting.id));
});

test('a wrong name or number finds nobody, and a mistyped number says what is wrong', async (t) => {
  const { client: booker } = await loggedIn(app, 'clinician');
  await bookFor(booker, patientWithBankId('Sven Svensson', '19121212-1212'));
  const { client: admin } = await loggedIn(app, 'admin');
  await admin.get('/admin/audit/extract');
  const wrongName = await admin.submit('/admin/audit/extract', {
    name: 'Tolvan Tolvansson',
    personalNumber: '19121212-1238',
  });
  t.is(wrongName.status, 404);
  t.regex(wrongName.text, /Ingen patient med det namnet och personnumret/);
  const checksum = await admin.submit('/admin/audit/extract', {
    name: 'Sven Svensson',
    personalNumber: '19121212-1213',
  });
  t.is(checksum.status, 400);
  t.regex(checksum.text, /kontrollsiffran/);
  const empty = await admin.submit('/admin/audit/extract', { name: '', personalNumber: '' });
  t.is(empty.status, 400);
});

test('the extract from a meeting covers the patient, the calendar listings that showed the meeting, and downloads as CSV', async (t) => {
  const { client: booker, staff } = await loggedIn(app, 'clinician', 'Ortopedi');
  const meeting = await bookFor(booker, {
    kind: 'patient',
    name: 'Sara Lind',
    mobile: '070-123 45 67',
    identification: 'sms',
  });
  const day = new Date(booking().startsAt).toISOString().slice(0, 10);
  t.is((await booker.get(`/calendar?date=${day}`)).status, 200);
  const { client: admin } = await loggedIn(app, 'admin');
  const page = await admin.get(`/admin/audit/extract?meeting=${meeting.id}`);
  t.is(page.status, 200);
  t.regex(page.text, /Sara Lind/);
  t.regex(page.text, /Såg mötet i kalendern/);
  t.regex(page.text, new RegExp(staff.name));
  const csv = await admin.get(`/admin/audit/extract.csv?meeting=${meeting.id}`);
  t.is(csv.status, 200);
  t.true(csv.text.includes('Bokade mötet'));
  t.is((await admin.get('/admin/audit/extract?meeting=00000000-0000-4000-8000-000000000000')).status, 404);
});

test('the audit viewer searches by staff member, meeting, action and period, and records the search', async (t) => {
  const { client: booker, staff } = await loggedIn(app, 'clinician', 'Logopedi');
  const meeting = await bookFor(booker, {
    kind: 'patient',
    name: 'Per Ek',
    mobile: '070-111 22 33',
    identification: 'sms',
  });
  const { client: admin, staff: adminStaff } = await loggedIn(app, 'admin');
  // Today on the clinic's clock, as the admin's search means it (from 23:00 UTC it is already tomorrow).
  const today = toClinicTime(new Date()).date;
  const byStaff = await admin.get(`/admin/audit?staff=${staff.id}&action=meeting.book&from=${today}&to=${today}`);
  t.is(byStaff.status, 200);
  t.true(byStaff.text.includes(meeting.id));
  t.regex(results(byStaff.text), /Bokade mötet/);
  t.notRegex(results(byStaff.text), /Loggade in/);
  const byMeeting = await admin.get(`/admin/audit?meeting=${meeting.id}&staff=&action=&from=&to=`);
  t.true(byMeeting.text.includes(staff.name));
  const yesterday = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
  const none = await admin.get(`/admin/audit?meeting=${meeting.id}&to=${yesterday}`);
  t.regex(none.text, /Inga loggposter/);
  t.is((await admin.get('/admin/audit?from=2026-02-30')).status, 400);
  const searches = await findAudit(app.server.app.db, { staffId: adminStaff.id, action: 'audit.search' });
  t.is(searches.length, 3);
  t.is(
    (present(searches.at(-1), 'the record of the last search').details as { query: { staff: string } }).query.staff,
    staff.id,
  );
});

test('a meeting id pasted into the audit viewer with spaces around it finds the meeting’s records', async (t) => {
  const { client: booker } = await loggedIn(app, 'clinician', 'Logopedi');
  const meeting = await bookFor(booker, {
    kind: 'patient',
    name: 'Per Ek',
    mobile: '070-111 22 33',
    identification: 'sms',
  });
  const { client: admin } = await loggedIn(app, 'admin');
  const reply = await admin.get(`/admin/audit?meeting=${encodeURIComponent(` ${meeting.id}  `)}`);
  t.is(reply.status, 200);
  t.regex(results(reply.text), /Bokade mötet/);
});

test('the audit viewer finds a staff member by a part of the name, and offers a choice when it fits several', async (t) => {
  const { client: admin } = await loggedIn(app, 'admin');
  const { staff: one, password } = await app.staff('clinician', 'Dietist', { name: 'Örjan Blomdahl' });
  const first = app.client();
  t.is((await first.login(one.email, password)).status, 302);
  await app.staff('clinician', 'Dietist', { name: 'Maja Lindqvist' });
  const { staff: two } = await app.staff('clinician', 'Fysioterapi', { name: 'Maja Lindqvist' });
  await first.get('/calendar');
  const meeting = await bookFor(first, {
    kind: 'patient',
    name: 'Ida Ek',
    mobile: '070-111 22 34',
    identification: 'sms',
  });

  // One account fits: its records, and who that is.
  const byName = await admin.get(`/admin/audit?person=${encodeURIComponent('ÖRJAN BLOMD')}&action=meeting.book`);
  t.is(byName.status, 200);
  t.true(results(byName.text).includes(meeting.id));
  t.true(byName.text.includes(`Loggposter för Örjan Blomdahl (${one.email}, Dietist).`));

  // Two fit: nothing is searched yet; each is a link to the same search for them.
  const several = await admin.get(`/admin/audit?person=${encodeURIComponent('maja lindqvist')}&action=meeting.read`);
  t.regex(several.text, /2 personer matchar ”maja lindqvist”\. Välj vem du söker:/);
  t.regex(results(several.text), /Inga loggposter/);
  const choice = /<a href="([^"]+)">Maja Lindqvist \([^,]+, Fysioterapi\)<\/a>/.exec(several.text)?.[1];
  t.truthy(choice);
  const chosen = new URL(choice!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '='), app.url);
  t.is(chosen.searchParams.get('staff'), two.id);
  t.is(chosen.searchParams.get('action'), 'meeting.read');
  t.is(chosen.searchParams.get('person'), null);
  const hers = await admin.get(chosen.pathname + chosen.search);
  t.true(hers.text.includes(`Loggposter för Maja Lindqvist (${two.email}, Fysioterapi).`));
  // The field shows her by her address, which the form sent again finds her alone by.
  t.true(hers.text.includes(`value="${two.email}"`));

  // None fits: the page says so.
  const none = await admin.get(`/admin/audit?person=${encodeURIComponent('ingen med det namnet')}`);
  t.regex(none.text, /Ingen personal matchar ”ingen med det namnet”/);
});

test('only admins reach the audit pages', async (t) => {
  for (const role of ['clinician', 'support'] as const) {
    const { client } = await loggedIn(app, role);
    t.is((await client.get('/admin/audit')).status, 403, role);
    t.is((await client.get('/admin/audit/extract')).status, 403, role);
  }
  const anonymous = await app.client().get('/admin/audit');
  t.is(anonymous.status, 302);
});

for (const database of databases) {
  test.serial(
    `audit records cannot be changed or deleted, and the purge keeps ${10} years (${database.kind})`,
    async (t) => {
      const db = createDb(database.url);
      try {
        await db.migrate.latest();
        const now = new Date();
        const old = new Date(retentionCutoff(now).getTime() - 86_400_000);
        const recent = new Date(retentionCutoff(now).getTime() + 86_400_000);
        await insertAudit(db, { action: 'meeting.read', meetingId: 'm-old' }, old);
        await insertAudit(db, { action: 'meeting.read', meetingId: 'm-recent' }, recent);
        await insertAudit(db, { action: 'meeting.read', meetingId: 'm-now' }, now);
        await t.throwsAsync(db('audit_log').update({ action: 'nothing' }), { any: true, message: /append-only/ });
        await t.throwsAsync(db('audit_log').where({ meeting_id: 'm-now' }).delete(), {
          any: true,
          message: /append-only/,
        });
        if (database.kind === 'postgres') {
          await t.throwsAsync(db.raw('truncate audit_log'), { any: true, message: /append-only/ });
          await t.throwsAsync(db.raw(`select purge_audit_log(now() - interval '1 year')`), {
            any: true,
            message: /kept 10 years/,
          });
        }
        t.is(await purgeAudit(db, now), 1);
        const left = (await findAudit(db, {})).map((r) => r.meetingId).sort();
        t.deepEqual(left, ['m-now', 'm-recent']);
        await t.throwsAsync(
          db('audit_log').delete(),
          { any: true, message: /append-only/ },
          'the guard is back after the purge',
        );
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );
}

test('the daily purge records what it removed, as a system action', async (t) => {
  const { scheduleRetention } = await import('../../appliance/src/admin/retention.ts');
  const db = app.server.app.db;
  const ancient = new Date(retentionCutoff().getTime() - 7 * 86_400_000);
  await insertAudit(db, { action: 'meeting.read', meetingId: 'm-ancient' }, ancient);
  const logged: string[] = [];
  const audited = (m: string) => /^audit log:/.test(m);
  const stop = scheduleRetention(db, app.config.retention, (_level, m) => logged.push(m), 50, 0);
  try {
    // The run reads every retained table first: on a loaded machine that took longer than the 2 s
    // this loop once allowed.
    await until('the purge logged', () => logged.some(audited));
  } finally {
    await stop();
  }
  t.regex(logged.find(audited) ?? '', /1 record\(s\) older than 10 years purged/);
  t.deepEqual(await findAudit(db, { meetingId: 'm-ancient' }), []);
  const [purge] = await findAudit(db, { action: 'audit.purge' });
  t.is((purge?.details as { removed: number }).removed, 1);
  t.is(purge?.staffId, null);
});

test('the audit viewer pages back through a long log, 200 records at a time', async (t) => {
  const { client: admin, staff } = await loggedIn(app, 'admin');
  const db = app.server.app.db;
  for (let i = 0; i < 450; i++)
    await insertAudit(db, { action: 'meeting.read', staffId: staff.id, meetingId: `m-page-${i}` });
  const first = await admin.get(`/admin/audit?staff=${staff.id}&action=meeting.read`);
  t.true(first.text.includes('m-page-449'));
  t.false(first.text.includes('m-page-249'));
  // The link as a browser reads it: Handlebars escapes & and = in attributes.
  const olderLink = (html: string) =>
    /href="(\/admin\/audit\?[^"]+)">Visa äldre poster/
      .exec(html)?.[1]
      ?.replace(/&amp;/g, '&')
      .replace(/&#x3D;/g, '=');
  const older = olderLink(first.text);
  t.regex(older ?? '', /before=\d+/);
  const second = await admin.get(older!);
  t.true(second.text.includes('m-page-249') && !second.text.includes('m-page-250'));
  const third = await admin.get(olderLink(second.text)!);
  t.true(third.text.includes('m-page-0'));
  t.notRegex(third.text, /Visa äldre poster/, 'the end of the log');
});

test("the systematic check finds accesses to another care unit's meetings", async (t) => {
  const { client: booker } = await loggedIn(app, 'clinician', 'Kardiologi');
  const meeting = await bookFor(booker, {
    kind: 'patient',
    name: 'Olle Hjärta',
    mobile: '070-222 33 44',
    identification: 'sms',
  });
  const { client: support, staff: supporter } = await loggedIn(app, 'support', 'IT-support');
  t.is((await support.get(`/meetings/${meeting.id}`)).status, 200);
  const { client: admin } = await loggedIn(app, 'admin');
  const outside = await admin.get(`/admin/audit?meeting=${meeting.id}&outside=true`);
  t.true(outside.text.includes(supporter.name), 'support read a meeting of another unit');
  t.regex(results(outside.text), /Öppnade mötet/);
  t.notRegex(results(outside.text), /Bokade mötet/, "the booking was within the booker's own unit");
  t.regex(results((await admin.get(`/admin/audit?meeting=${meeting.id}`)).text), /Bokade mötet/);
});

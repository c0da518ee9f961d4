// Support's search for a meeting: what support types is never in an address (the server's access
// log, the browser's history), a number typed wrong is said on the form, and a busy period comes a
// page at a time.
import test from 'ava';
import { addDays, fromClinicTime, today } from '../../appliance/src/common/clock.ts';
import { insertMeeting, insertParticipants } from '../../appliance/src/meetings/store.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { searchLog } from './_search.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

/** Meetings on one day, each with one patient of this name and number. */
async function meetingsOn(day: string, count: number, name: string, mobile: string): Promise<string[]> {
  const db = app.server.app.db;
  const { staff } = await app.staff('clinician');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = await insertMeeting(db, {
      unitId: staff.unitId,
      title: `Möte ${i + 1}`,
      startsAt: new Date(fromClinicTime(day, '08:00').getTime() + i * 60_000),
      durationMinutes: 30,
      bookedBy: staff.id,
      ledBy: staff.id,
      documentationPlan: 'Journal',
      testMeeting: false,
    });
    await insertParticipants(
      db,
      id,
      [
        {
          kind: 'patient',
          identification: 'sms',
          name,
          country: 'SE',
          mobile,
          email: null,
          personalNumber: null,
          staffId: null,
          proxy: null,
          language: 'sv',
        },
      ],
      0,
      app.config.dataKey,
    );
    ids.push(id);
  }
  return ids;
}

const inputValue = (html: string, name: string) =>
  new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];

test('a phone number with letters is said on the form, in Swedish and English, with what was typed kept', async (t) => {
  const { client: support } = await loggedIn(app, 'support');
  const { posted } = await searchLog(support, { from: today(), to: today(), name: 'Sara', phone: '070-12a 45 67' });
  t.is(posted.status, 400);
  t.regex(posted.text, /role="alert"[^>]*>[^<]*[Tt]elefonnumret/);
  t.is(inputValue(posted.text, 'phone'), '070-12a 45 67');
  t.is(inputValue(posted.text, 'name'), 'Sara');
  t.is(inputValue(posted.text, 'from'), today());
  // Too few digits to find anyone by is said too, not answered with an empty list.
  const short = await searchLog(support, { phone: '12' });
  t.is(short.posted.status, 400);
  t.regex(short.posted.text, /minst fyra siffror/);
  await support.get('/lang/en?next=/');
  const english = await searchLog(support, { phone: 'abc' });
  t.is(english.posted.status, 400);
  t.regex(english.posted.text, /role="alert"[^>]*>[^<]*phone number/);
  t.is(inputValue(english.posted.text, 'phone'), 'abc');
});

test('a malformed meeting id or date is said on the form, not as a bare error page', async (t) => {
  const { client: support } = await loggedIn(app, 'support');
  const badId = await searchLog(support, { meetingId: 'not-an-id', name: 'Sara' });
  t.is(badId.posted.status, 400);
  t.regex(badId.posted.text, /role="alert"[^>]*>[^<]*id/);
  t.is(inputValue(badId.posted.text, 'meetingId'), 'not-an-id');
  t.is(inputValue(badId.posted.text, 'name'), 'Sara');
  const badDay = await searchLog(support, { from: '2026-02-30', name: 'Sara' });
  t.is(badDay.posted.status, 400);
  t.regex(badDay.posted.text, /role="alert"[^>]*>[^<]*datum/);
  t.is(inputValue(badDay.posted.text, 'name'), 'Sara');
});

test('the number and name searched for never stand in an address, and the result can be gone back to', async (t) => {
  const day = addDays(today(), 4);
  const [id] = await meetingsOn(day, 1, 'Adress Adressdotter', '+46701239876');
  const { client: support } = await loggedIn(app, 'support');
  const { posted, location, page } = await searchLog(support, {
    from: day,
    to: day,
    name: 'Adressdotter',
    phone: '070-123 98 76',
  });
  t.is(posted.status, 303);
  const address = present(location, 'the result address');
  t.true(address.startsWith('/connlog?'), address);
  t.notRegex(address, /9876|98%20|Adress/i, 'neither number nor name in the address');
  t.is(page.status, 200);
  t.true(page.text.includes(`/connlog/meetings/${present(id, 'the meeting')}`));
  // The form shows what was searched for, and back and forward (the same address again) show the same.
  t.is(inputValue(page.text, 'phone'), '070-123 98 76');
  t.true((await support.get(address)).text.includes(`/connlog/meetings/${id}`));
  // The form itself is sent in the body.
  t.regex(page.text, /<form method="post" action="\/connlog"/);
  // The address is this support member's: another's session does not open it.
  const { client: colleague } = await loggedIn(app, 'support');
  const theirs = await colleague.get(address);
  t.is(theirs.status, 400);
  t.false(theirs.text.includes(`/connlog/meetings/${id}`));
  t.regex(theirs.text, /role="alert"/);
});

test('a busy period comes fifty meetings a page, saying how many there are, with pages to go on to', async (t) => {
  const day = addDays(today(), 5);
  const ids = await meetingsOn(day, 60, 'Sida Sidesson', '+46701110000');
  const { client: support } = await loggedIn(app, 'support');
  const { page, location } = await searchLog(support, { from: day, to: day, name: 'Sidesson' });
  const shown = (html: string) => ids.filter((id) => html.includes(`/connlog/meetings/${id}`));
  t.deepEqual(shown(page.text), ids.slice(0, 50));
  t.regex(page.text, /Visar 1–50 av 60 möten/);
  // The link as a browser reads it from the page (Handlebars writes = and & as entities).
  const next = present(/<a href="([^"]+)"[^>]*>Nästa sida/.exec(page.text)?.[1], 'the link to the next page')
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
  t.true(next.startsWith(present(location, 'the result').split('&')[0] ?? ''));
  const second = await support.get(next);
  t.deepEqual(shown(second.text), ids.slice(50));
  t.regex(second.text, /Visar 51–60 av 60 möten/);
  t.notRegex(second.text, /Nästa sida/);
  t.regex(second.text, /Föregående sida/);
  // A page past the end (an address edited, fewer meetings since) shows the last page, not "no meetings".
  const beyond = await support.get(next.replace(/page=\d+/, 'page=9'));
  t.is(beyond.status, 200);
  t.deepEqual(shown(beyond.text), ids.slice(50));
  t.regex(beyond.text, /Visar 51–60 av 60 möten/);
});

test('support finds a meeting by someone removed from it, who shows as removed', async (t) => {
  const { client: booker } = await loggedIn(app, 'clinician');
  const day = addDays(today(), 7);
  const reply = await booker.request('POST', '/api/v1/meetings', {
    json: booking({
      startsAt: fromClinicTime(day, '10:00').toISOString(),
      participants: [
        { kind: 'patient', name: 'Kvar Kvarsson', mobile: '0701112233', identification: 'sms' },
        { kind: 'guest', name: 'Borta Bortasson', mobile: '0702223344', identification: 'sms' },
      ],
    }),
  });
  t.is(reply.status, 201, reply.text);
  const meeting = reply.json<{ id: string; participants: { id: string }[] }>();
  const removedId = present(meeting.participants[1], 'the guest').id;
  const removed = await booker.request('DELETE', `/api/v1/meetings/${meeting.id}/participants/${removedId}?version=1`, {
    headers: { 'x-csrf-token': booker.crumb ?? '' },
  });
  t.is(removed.status, 200, removed.text);
  const { client: support } = await loggedIn(app, 'support');
  // "I was invited but my link no longer works": found by their name, and by their number.
  for (const fields of [{ name: 'Bortasson' }, { phone: '070-222 33 44' }] as Record<string, string>[]) {
    const { page } = await searchLog(support, { from: day, to: day, ...fields });
    t.true(page.text.includes(`/connlog/meetings/${meeting.id}`), JSON.stringify(fields));
    t.regex(page.text, /Borta Bortasson[^<]*\(borttagen ur mötet\)/);
  }
});

test("a cancelled meeting says so in the results and on its timeline: the guest's link leads nowhere because of it", async (t) => {
  const { client: booker } = await loggedIn(app, 'clinician');
  const day = addDays(today(), 8);
  const reply = await booker.request('POST', '/api/v1/meetings', {
    json: booking({
      startsAt: fromClinicTime(day, '11:00').toISOString(),
      participants: [{ kind: 'patient', name: 'Inst Inställdsson', mobile: '0703334455', identification: 'sms' }],
    }),
  });
  t.is(reply.status, 201, reply.text);
  const id = reply.json<{ id: string }>().id;
  const cancelled = await booker.request('POST', `/api/v1/meetings/${id}/cancel`, {
    json: { version: 1, reason: 'Patienten är inlagd' },
  });
  t.is(cancelled.status, 200, cancelled.text);
  const { client: support } = await loggedIn(app, 'support');
  const { page } = await searchLog(support, { from: day, to: day, name: 'Inställdsson' });
  const row = present(
    [...page.text.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1] ?? '').find((r) => r.includes(id)),
    "the meeting's row",
  );
  t.regex(row, /inställt/);
  const timeline = (await support.get(`/connlog/meetings/${id}`)).text;
  t.regex(timeline, /<p>[^<]*inställt[^<]*<\/p>/);
});

test('a meeting id pasted in capitals, or with spaces around it, finds the meeting', async (t) => {
  const [id] = await meetingsOn(addDays(today(), 9), 1, 'Versal Versalsson', '+46705556677');
  const { client: support } = await loggedIn(app, 'support');
  const { page } = await searchLog(support, { meetingId: ` ${present(id, 'the meeting').toUpperCase()} ` });
  t.is(page.status, 200);
  t.true(page.text.includes(`/connlog/meetings/${id}`));
});

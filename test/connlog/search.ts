// Support's search for a meeting: what support types is never in an address (the server's access
// log, the browser's history), a number typed wrong is said on the form, and a busy period comes a
// page at a time.
import test from 'ava';
import { addDays, fromClinicTime, today } from '../../appliance/src/common/clock.ts';
import { insertEntry } from '../../appliance/src/connlog/store.ts';
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

/** A link's address as a browser reads it from the page (Handlebars writes = and & as entities). */
const hrefOf = (html: string, label: RegExp): string | undefined => {
  const link = [...html.matchAll(/<a href="([^"]+)"[^>]*>([\s\S]*?)<\/a>/g)].find((m) => label.test(m[2] ?? ''));
  return link?.[1]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
};

test("a meeting's timeline leads back to the results it was opened from, on their page, not to an empty search", async (t) => {
  const day = addDays(today(), 11);
  const ids = await meetingsOn(day, 55, 'Tillbaka Tillbakasson', '+46701117777');
  const { client: support } = await loggedIn(app, 'support');
  const { location } = await searchLog(support, { from: day, to: day, name: 'Tillbakasson' });
  const results = present(location, 'the result address');
  const second = `${results}&page=2`;
  const page = await support.get(second);
  t.regex(page.text, /Visar 51–55 av 55 möten/);
  const last = present(ids[54], 'the last meeting');
  const open = present(hrefOf(page.text, new RegExp(`Visa logg[\\s\\S]*${'Möte 55'}`)), 'the link to the last meeting');
  t.true(open.startsWith(`/connlog/meetings/${last}`), open);
  const timeline = await support.get(open);
  t.is(timeline.status, 200);
  const back = present(hrefOf(timeline.text, /Tillbaka till sökningen/), 'the way back');
  t.is(back, second, 'the results page it came from');
  const again = await support.get(back);
  t.regex(again.text, /Visar 51–55 av 55 möten/);
  t.true(again.text.includes(`/connlog/meetings/${last}`));
  // Read for another participant, or only errors: the way back stays.
  const filtered = await support.get(`${open}&errors=1`);
  t.is(hrefOf(filtered.text, /Tillbaka till sökningen/), second);
  // Opened without a search (a link passed on), or with one sealed for someone else: the empty form.
  t.is(hrefOf((await support.get(`/connlog/meetings/${last}`)).text, /Tillbaka till sökningen/), '/connlog');
  const { client: colleague } = await loggedIn(app, 'support');
  const theirs = await colleague.get(open);
  t.is(theirs.status, 200);
  t.is(hrefOf(theirs.text, /Tillbaka till sökningen/), '/connlog');
});

test("a long meeting's timeline comes fifty entries a page, saying how many, and paging keeps the participant chosen", async (t) => {
  const [id] = await meetingsOn(addDays(today(), 12), 1, 'Lång Långsson', '+46701118888');
  const meetingId = present(id, 'the meeting');
  const db = app.server.app.db;
  const [participant] = await db('participants').where({ meeting_id: meetingId }).pluck('id');
  const start = fromClinicTime(addDays(today(), 12), '08:00').getTime();
  // 140 reconnects of the patient and 10 of the meeting's own entries between them.
  const at = (i: number) => new Date(start + i * 1000).toISOString();
  for (let i = 0; i < 150; i++)
    await insertEntry(db, {
      at: new Date(at(i)),
      meetingId,
      participantId: i % 15 === 14 ? null : (participant as string),
      type: i % 15 === 14 ? 'room_opened' : 'client_reconnect',
      details: {},
    });
  const { client: support } = await loggedIn(app, 'support');
  const times = (html: string) => [...html.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
  const first = await support.get(`/connlog/meetings/${meetingId}`);
  t.regex(first.text, /Visar 1–50 av 150 händelser/);
  t.deepEqual(
    times(first.text),
    Array.from({ length: 50 }, (_, i) => at(i)),
  );
  const next = present(hrefOf(first.text, /Nästa sida/), 'the next page');
  const third = await support.get(present(hrefOf((await support.get(next)).text, /Nästa sida/), 'the third page'));
  t.regex(third.text, /Visar 101–150 av 150 händelser/);
  t.deepEqual(
    times(third.text),
    Array.from({ length: 50 }, (_, i) => at(100 + i)),
  );
  t.is(hrefOf(third.text, /Nästa sida/), undefined);
  t.truthy(hrefOf(third.text, /Föregående sida/));
  // One participant's steps (with the meeting's own around them) are paged the same way, keeping the choice.
  const theirs = await support.get(`/connlog/meetings/${meetingId}?participantId=${participant as string}`);
  t.regex(theirs.text, /Visar 1–50 av 150 händelser/);
  const theirNext = present(hrefOf(theirs.text, /Nästa sida/), 'their next page');
  t.true(theirNext.includes(`participantId=${participant as string}`), theirNext);
  // Only errors: the 140 reconnects (each a lost connection), paged the same way, without the meeting's own entries.
  const errors = await support.get(`/connlog/meetings/${meetingId}?errors=1`);
  t.regex(errors.text, /Visar 1–50 av 140 händelser/);
  t.notRegex(errors.text, /data-type="room_opened"/);
  const errorsNext = present(hrefOf(errors.text, /Nästa sida/), 'the next page of errors');
  t.true(errorsNext.includes('errors=1'), errorsNext);
  // The exports hold every entry, not a page.
  const csv = await support.get(`/connlog/meetings/${meetingId}?format=csv`);
  t.is(csv.text.trim().split('\n').length, 151);
});

test.serial(
  "a results page reads that page's meetings, not every meeting of the period: by name, by number, or by period alone",
  async (t) => {
    const day = addDays(today(), 13);
    await meetingsOn(day, 120, 'Hö Stacksson', '+46701230000');
    const needles = await meetingsOn(day, 3, 'Nål Nålsson', '+46709998877');
    const db = app.server.app.db;
    const { client: support } = await loggedIn(app, 'support');
    /** The most rows any one statement on meetings or participants returned while `read` ran. */
    const mostRowsRead = async (read: () => Promise<unknown>) => {
      let most = 0;
      const count = (response: unknown, q: { sql: string }) => {
        if (/meetings|participants/.test(q.sql) && Array.isArray(response)) most = Math.max(most, response.length);
      };
      db.on('query-response', count);
      try {
        await read();
      } finally {
        db.removeListener('query-response', count);
      }
      return most;
    };
    const shown = (html: string) => needles.filter((id) => html.includes(`/connlog/meetings/${id}`));
    // The name as a caller spells it out, in capitals: the name rule holds in the database too.
    for (const fields of [{ name: 'NÅLSSON' }, { name: 'Nålsson Nål' }, { phone: '070-999 88 77' }] as Record<
      string,
      string
    >[]) {
      let page = '';
      const most = await mostRowsRead(async () => {
        page = (await searchLog(support, { from: day, to: day, ...fields })).page.text;
      });
      if (fields.name === 'Nålsson Nål') {
        t.deepEqual(shown(page), [], 'a name the meetings do not have');
        continue;
      }
      t.deepEqual(shown(page), needles, JSON.stringify(fields));
      t.regex(page, /Visar 1–3 av 3 möten/);
      t.true(most <= 10, `${JSON.stringify(fields)}: ${most} rows read for 3 meetings`);
    }
    let second = '';
    const most = await mostRowsRead(async () => {
      const { location } = await searchLog(support, { from: day, to: day });
      second = (await support.get(`${present(location, 'the result')}&page=2`)).text;
    });
    t.regex(second, /Visar 51–100 av 123 möten/);
    t.true(most <= 50, `${most} rows read for a page of 50`);
  },
);

test('the English switch on a results page or a timeline comes back to the same results and the same timeline page', async (t) => {
  const day = addDays(today(), 14);
  const [id] = await meetingsOn(day, 52, 'Språk Språksson', '+46701114444');
  const { client: support } = await loggedIn(app, 'support');
  const { location } = await searchLog(support, { from: day, to: day, name: 'Språksson' });
  const second = `${present(location, 'the result')}&page=2`;
  const page = await support.get(second);
  const toEnglish = present(hrefOf(page.text, /In English/), 'the English switch');
  const switched = await support.get(toEnglish);
  t.is(switched.headers.get('location'), second);
  const english = await support.get(second);
  t.regex(english.text, /Showing 51–52 of 52 meetings/);
  // A timeline read for one participant comes back as it was, in the other language.
  const db = app.server.app.db;
  const [participant] = await db('participants')
    .where({ meeting_id: present(id, 'the meeting') })
    .pluck('id');
  const timeline = `/connlog/meetings/${id}?participantId=${participant as string}&errors=1`;
  const toSwedish = present(hrefOf((await support.get(timeline)).text, /På svenska/), 'the Swedish switch');
  t.is((await support.get(toSwedish)).headers.get('location'), timeline);
  // A long search's address (the longest name the form takes) comes back too.
  const long = present((await searchLog(support, { from: day, to: day, name: 'å'.repeat(200) })).location, 'long');
  t.true(long.length > 500, `${long.length}`);
  const back = present(hrefOf((await support.get(long)).text, /In English|På svenska/), 'the switch');
  t.is((await support.get(back)).headers.get('location'), long);
});

test('a name searched for with % or _ in it finds the names that hold them, not every name', async (t) => {
  const day = addDays(today(), 15);
  const [marked] = await meetingsOn(day, 1, 'Pro_cent %Namn', '+46701115555');
  const [plain] = await meetingsOn(day, 1, 'Vanlig Vanligsson', '+46701116666');
  const { client: support } = await loggedIn(app, 'support');
  for (const name of ['%', '_', 'o_c']) {
    const { page } = await searchLog(support, { from: day, to: day, name });
    t.true(page.text.includes(`/connlog/meetings/${present(marked, 'the marked meeting')}`), name);
    t.false(page.text.includes(`/connlog/meetings/${present(plain, 'the plain meeting')}`), name);
  }
});

test('one meeting found, or one entry, is said in the singular', async (t) => {
  const day = addDays(today(), 16);
  const [id] = await meetingsOn(day, 1, 'Ensam Ensamsson', '+46701117711');
  await insertEntry(app.server.app.db, {
    at: new Date(),
    meetingId: present(id, 'the meeting'),
    participantId: null,
    type: 'room_opened',
    details: {},
  });
  const { client: support } = await loggedIn(app, 'support');
  const { page } = await searchLog(support, { from: day, to: day, name: 'Ensamsson' });
  t.regex(page.text, /Visar 1 möte\./);
  t.regex((await support.get(`/connlog/meetings/${id}`)).text, /Visar 1 händelse\./);
  await support.get('/lang/en?next=/');
  const english = await searchLog(support, { from: day, to: day, name: 'Ensamsson' });
  t.regex(english.page.text, /Showing 1 meeting\./);
  t.regex((await support.get(`/connlog/meetings/${id}`)).text, /Showing 1 event\./);
});

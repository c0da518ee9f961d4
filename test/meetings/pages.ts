// The staff pages without JavaScript: the booking form one participant at a time, the calendar's
// day and week views, the meeting page, reschedule and cancel with confirmation; live updates by SSE.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { addDays, toClinicTime } from '../../appliance/src/common/clock.ts';
import { messagesOf } from '../../appliance/src/invites/outbox.ts';
import { eventStream, startServer, type Client, type TestServer } from '../helpers/server.ts';
import { booking, inDays, loggedIn } from './_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

const hidden = (html: string, name: string) => {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  return value !== undefined
    ? value
        .replace(/&quot;/g, '"')
        .replace(/&#x27;/g, "'")
        .replace(/&amp;/g, '&')
        .replace(/&#x3D;/g, '=')
    : '';
};

const meetingFields = (date: string) => ({
  title: 'Samordnad individuell plan',
  date,
  time: '10:00',
  durationMinutes: '45',
  ledBy: '',
  documentationPlan: 'Journalanteckning av läkaren',
});

async function addParticipant(client: Client, html: string, fields: Record<string, string>) {
  return client.request('POST', '/meetings/new', {
    form: {
      crumb: client.crumb!,
      ...meetingFields(toClinicTime(new Date(inDays(2))).date),
      draft: hidden(html, 'draft'),
      action: 'add',
      ...fields,
    },
  });
}

/** The booking form with the patient Sara Lind (SMS) and the guest Eva Ek (e-mail) added. */
async function patientAndGuestAdded(client: Client) {
  const page = await addParticipant(client, (await client.get('/meetings/new')).text, {
    p_kind: 'patient',
    p_name: 'Sara Lind',
    p_mobile: '0701234567',
    p_identification: 'sms',
  });
  return addParticipant(client, page.text, {
    p_kind: 'guest',
    p_name: 'Eva Ek',
    p_email: 'eva@skola.example',
    p_identification: 'none',
  });
}

/** Sends the booking form ("Boka") on `date` with the participants listed on `page` and these fields. */
function bookWith(client: Client, page: { text: string }, date: string, fields: Record<string, string> = {}) {
  return client.request('POST', '/meetings/new', {
    form: {
      crumb: client.crumb!,
      ...meetingFields(date),
      draft: hidden(page.text, 'draft'),
      action: 'book',
      ...fields,
    },
  });
}

test("a documentation plan in paragraphs up to the field's limit books the meeting, line breaks sent as CR LF", async (t) => {
  const { client } = await loggedIn(app);
  const page = await addParticipant(client, (await client.get('/meetings/new')).text, {
    p_kind: 'patient',
    p_name: 'Sara Lind',
    p_mobile: '070-123 45 67',
    p_identification: 'sms',
  });
  // 2,000 characters as the textarea counts them (its maxlength): twenty lines, a line break one each.
  const line = 'Anteckning i journalen av ansvarig läkare; kopia till skolhälsovården och vårdnadshavare efter mötet.';
  const plan = Array.from({ length: 20 }, () => line.slice(0, 99)).join('\n') + 'x';
  t.is(plan.length, 2000);
  const booked = await client.request('POST', '/meetings/new', {
    form: {
      crumb: client.crumb!,
      ...meetingFields(toClinicTime(new Date(inDays(2))).date),
      documentationPlan: plan.replace(/\n/g, '\r\n'),
      draft: hidden(page.text, 'draft'),
      action: 'book',
    },
  });
  t.is(booked.status, 302, booked.text.slice(0, 2000));
  const id = booked.headers.get('location')!.split('/')[2]!.split('?')[0];
  t.is((await client.get(`/api/v1/meetings/${id}`)).json().documentationPlan, plan);
});

test("the form's list shows a ten-digit personal number by its full birth date, never its last digits", async (t) => {
  const { client } = await loggedIn(app);
  const page = await addParticipant(client, (await client.get('/meetings/new')).text, {
    p_kind: 'patient',
    p_name: 'Tolvan Tolvansson',
    p_mobile: '070-123 45 67',
    p_personalNumber: '121212-1212',
    p_identification: 'sms',
  });
  t.is(page.status, 200);
  t.true(page.text.includes('20121212-****'), 'born 12 December 2012');
  t.false(page.text.includes('12121212-****'), 'not the two-digit year and two of the last four digits');
});

test('a clinician books a meeting with the form, one participant at a time, without JavaScript', async (t) => {
  const { client, staff } = await loggedIn(app);
  let page = await client.get('/meetings/new');
  t.is(page.status, 200);
  for (const label of [
    'Lägg till deltagare',
    'Patient',
    'Patient med ombud',
    'Kollega med konto',
    'Gäst',
    'Land',
    'Namn',
    'Mobilnummer',
    'Mejladress',
    'Välj identifieringsmetod',
    'SITHS',
    'BankID',
    'Ingen identifiering',
    'SMS',
    'Lägg till',
  ]) {
    // Without an identity provider BankID and SITHS are listed but say why they cannot be chosen.
    t.true(
      page.text.includes(`>${label}<`) || page.text.includes(`>${label} (går inte: ingen identitetsleverantör)<`),
      label,
    );
  }
  t.regex(page.text, new RegExp(`<strong>Jag</strong> \\(${staff.name}\\)`));

  // A guest added before the patient: the patient, added next, goes to the top of the list.
  page = await addParticipant(client, page.text, {
    p_kind: 'guest',
    p_name: 'Rektor',
    p_email: 'rektor@skola.example',
    p_identification: 'none',
  });
  t.is(page.status, 200);
  page = await addParticipant(client, page.text, {
    p_kind: 'patient',
    p_name: 'Sara Lind',
    p_mobile: '070-123 45 67',
    p_identification: 'sms',
  });
  t.is(page.status, 200);
  t.regex(page.text, /<strong>Sara Lind<\/strong> <span class="kind">Patient<\/span>[\s\S]*<strong>Rektor<\/strong>/);
  t.deepEqual(
    JSON.parse(hidden(page.text, 'draft')).map((p: { name: string }) => p.name),
    ['Sara Lind', 'Rektor'],
  );
  page = await client.request('POST', '/meetings/new', {
    form: {
      crumb: client.crumb!,
      ...meetingFields(toClinicTime(new Date(inDays(2))).date),
      draft: hidden(page.text, 'draft'),
      remove: '1',
    },
  });

  page = await addParticipant(client, page.text, {
    p_kind: 'guest',
    p_name: 'Eva Ek',
    p_mobile: '0701234567',
    p_email: 'eva@skola.example',
    p_identification: 'none',
  });
  t.is(page.status, 400);
  t.regex(page.text, /En gäst kan inte ha både mobilnummer och mejladress/);
  t.regex(page.text, /value="Eva Ek"/, 'what was typed stays in the form');

  page = await addParticipant(client, page.text, {
    p_kind: 'guest',
    p_name: 'Eva Ek',
    p_email: 'eva@skola.example',
    p_identification: 'none',
  });
  t.regex(page.text, /<strong>Eva Ek<\/strong> <span class="kind">Gäst<\/span>/);
  t.is(JSON.parse(hidden(page.text, 'draft')).length, 2);

  // The last participant typed but not yet added goes in with the booking.
  const booked = await client.request('POST', '/meetings/new', {
    form: {
      crumb: client.crumb!,
      ...meetingFields(toClinicTime(new Date(inDays(2))).date),
      draft: hidden(page.text, 'draft'),
      action: 'book',
      p_kind: 'guest',
      p_name: 'Olle Socialsekreterare',
      p_mobile: '076-123 45 67',
      p_identification: 'sms',
    },
  });
  t.is(booked.status, 302, booked.text.slice(0, 2000));
  const location = booked.headers.get('location')!;
  t.regex(location, /^\/meetings\/[0-9a-f-]{36}\?done=booked$/);
  const meetingPage = await client.get(location);
  t.regex(meetingPage.text, /Mötet är bokat/);
  t.true(meetingPage.text.includes(`<dt>Bokat av</dt><dd>Jag (${staff.name})</dd>`));
  for (const text of [
    'Sara Lind',
    '+46701234567',
    'Eva Ek',
    'eva@skola.example',
    'Olle Socialsekreterare',
    '+46761234567',
    'Inbjuden',
    'Ingen identifiering',
  ])
    t.true(meetingPage.text.includes(text), text);
});

test('the form removes a participant from the list before booking', async (t) => {
  const { client } = await loggedIn(app);
  const page = await patientAndGuestAdded(client);
  const removed = await client.request('POST', '/meetings/new', {
    form: { crumb: client.crumb!, ...meetingFields('2030-01-01'), draft: hidden(page.text, 'draft'), remove: '1' },
  });
  t.deepEqual(
    JSON.parse(hidden(removed.text, 'draft')).map((p: any) => p.name),
    ['Sara Lind'],
  );
});

test('a booking with a rule broken is shown again with the message and nothing is stored', async (t) => {
  const { client } = await loggedIn(app);
  const page = await client.request('POST', '/meetings/new', {
    form: {
      crumb: (await client.get('/meetings/new'), client.crumb!),
      ...meetingFields('2020-01-01'),
      title: 'Bakåt i tiden',
      draft: JSON.stringify([{ kind: 'patient', name: 'Sara Lind', mobile: '0701234567', identification: 'sms' }]),
      action: 'book',
    },
  });
  t.is(page.status, 400);
  t.regex(page.text, /bakåt i tiden/);
  t.is(await app.server.app.db('meetings').where({ title: 'Bakåt i tiden' }).first(), undefined);
});

test("the week view lists each meeting with time, title, participants and the patient's name as the link", async (t) => {
  const { client } = await loggedIn(app, 'clinician', 'Kalenderenheten');
  const startsAt = inDays(1, 8);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking({ startsAt }) })).json();
  const day = toClinicTime(new Date(startsAt));
  const week = await client.get(`/calendar?view=week&date=${day.date}`);
  t.is(week.status, 200);
  t.regex(week.text, /Vecka \d+/);
  t.regex(week.text, new RegExp(`<a class="patient" href="/meetings/${meeting.id}">Sara Lind</a>`));
  t.true(week.text.includes(`${day.time}–`));
  t.true(week.text.includes('Samordnad planering inför skolstart'));
  t.regex(week.text, /Lärare Eva Ek <span class="kind">\(Gäst\)<\/span>/);
  t.is((week.text.match(/class="day-column/g) ?? []).length, 7);
  const dayView = await client.get(`/calendar?view=day&date=${day.date}`);
  t.is((dayView.text.match(/class="day-column/g) ?? []).length, 1);
  t.true(dayView.text.includes(meeting.id));
  const other = await client.get(`/calendar?view=day&date=2030-01-01`);
  t.false(other.text.includes(meeting.id));
  const audit = await findAudit(app.server.app.db, { action: 'meeting.list' });
  t.true(audit.some((r) => (r.details?.meetingIds as string[] | undefined)?.includes(meeting.id)));
});

test("a clinician does not see another unit's meetings in the calendar or on a page", async (t) => {
  const { client } = await loggedIn(app, 'clinician', 'Enhet A');
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const { client: other } = await loggedIn(app, 'clinician', 'Enhet B');
  const week = await other.get(`/calendar?view=week&date=${toClinicTime(new Date(meeting.startsAt)).date}`);
  t.false(week.text.includes(meeting.id));
  const page = await other.get(`/meetings/${meeting.id}`);
  t.is(page.status, 403);
  t.false(page.text.includes('Sara Lind'));
  t.is((await other.get(`/meetings/${meeting.id}/events`)).status, 403, 'nor follow it live');
});

test('rescheduling and cancelling from the meeting page ask for confirmation first', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const page = await client.get(`/meetings/${meeting.id}`);
  t.regex(page.text, /<label for="new-date">Nytt datum<\/label>/);
  const newDate = toClinicTime(new Date(inDays(5))).date;
  const ask = await client.request('POST', `/meetings/${meeting.id}/reschedule`, {
    form: { crumb: client.crumb!, version: '1', date: newDate, time: '14:30', durationMinutes: '60' },
  });
  t.is(ask.status, 200);
  t.regex(ask.text, /Flytta mötet ”Samordnad planering inför skolstart” från .* till .* kl\. 14:30–15:30\?/);
  t.is(
    (await client.get(`/api/v1/meetings/${meeting.id}`)).json().version,
    1,
    'nothing changes before the confirmation',
  );
  const done = await client.request('POST', `/meetings/${meeting.id}/reschedule`, {
    form: { crumb: client.crumb!, version: '1', date: newDate, time: '14:30', durationMinutes: '60', confirm: 'yes' },
  });
  t.is(done.status, 302);
  t.regex((await client.get(done.headers.get('location')!)).text, /Mötet är flyttat/);
  t.is(toClinicTime(new Date((await client.get(`/api/v1/meetings/${meeting.id}`)).json().startsAt)).time, '14:30');

  const stale = await client.request('POST', `/meetings/${meeting.id}/cancel`, {
    form: { crumb: client.crumb!, version: '1', reason: 'Sjuk', confirm: 'yes' },
  });
  t.is(stale.status, 409);
  t.regex(stale.text, /Någon annan har ändrat mötet/);

  const cancelAsk = await client.request('POST', `/meetings/${meeting.id}/cancel`, {
    form: { crumb: client.crumb!, version: '2', reason: 'Patienten är sjuk' },
  });
  t.regex(cancelAsk.text, /Ställa in mötet .* med orsaken: ”Patienten är sjuk”/);
  const cancelled = await client.request('POST', `/meetings/${meeting.id}/cancel`, {
    form: { crumb: client.crumb!, version: '2', reason: 'Patienten är sjuk', confirm: 'yes' },
  });
  t.is(cancelled.status, 302);
  const after = await client.get(cancelled.headers.get('location')!);
  t.regex(after.text, /Mötet är inställt/);
  t.false(after.text.includes('new-date'), 'a cancelled meeting offers no changes');
});

/** Whether the meeting page offers the staff member's evaluation of the meeting, by the link's words. */
const offersEvaluation = (html: string) => />Utvärdera mötet<\/a>/.test(html);

test('the meeting page offers "Utvärdera mötet" only where there is a meeting to evaluate: held, not cancelled, by one who took part', async (t) => {
  const { client, staff } = await loggedIn(app);
  const { client: colleague } = await loggedIn(app);
  const service = app.server.plugins.meetings.service;
  const ended = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  await service.advanceStatus(ended.id, 'ended', staff.id);
  const endedPage = await client.get(`/meetings/${ended.id}`);
  t.true(offersEvaluation(endedPage.text), 'an ended meeting: the one who booked it evaluates it');
  t.is((await client.get(`/evaluation/meeting/${ended.id}`)).status, 200, 'and the link leads to the form');
  const othersPage = await colleague.get(`/meetings/${ended.id}`);
  t.is(othersPage.status, 200, 'a colleague of the unit sees the meeting');
  t.false(offersEvaluation(othersPage.text), 'but did not take part: nothing of theirs to evaluate');
  t.is((await colleague.get(`/evaluation/meeting/${ended.id}`)).status, 403);

  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  t.false(offersEvaluation((await client.get(`/meetings/${meeting.id}`)).text), 'booked, not yet held: not yet');
  t.is((await client.get(`/evaluation/meeting/${meeting.id}`)).status, 409, 'nor does the form take it');
  await service.advanceStatus(meeting.id, 'in_progress');
  t.true(offersEvaluation((await client.get(`/meetings/${meeting.id}`)).text), 'under way: the room leads there too');
  const cancelled = await client.request('POST', `/meetings/${meeting.id}/cancel`, {
    form: { crumb: client.crumb!, version: '1', reason: 'Patienten är sjuk', confirm: 'yes' },
  });
  t.is(cancelled.status, 302);
  const after = await client.get(`/meetings/${meeting.id}`);
  t.regex(after.text, /inställt/);
  t.false(offersEvaluation(after.text), 'a cancelled meeting was never held: nothing to evaluate');
  t.is((await client.get(`/evaluation/meeting/${meeting.id}`)).status, 410, 'as the form itself says');
});

/** The meeting page's row of links under its title, as its words and links; undefined when there is none. */
function linksRow(html: string): string | undefined {
  const row = /<p class="meeting-links">([\s\S]*?)<\/p>/.exec(html)?.[1];
  return row === undefined ? undefined : row.replace(/\s+/g, ' ').trim();
}
const joinLink = (id: string) => `<a class="button" href="/meetings/${id}/room">Anslut till mötet</a>`;

/** A meeting of 45 minutes booked, then moved back to have ended past the grace period, unmarked. */
async function bookedPastItsTime(client: Client) {
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const { roomGraceMinutes } = app.server.app.config;
  await app.server.app
    .db('meetings')
    .where({ id: meeting.id })
    .update({ starts_at: new Date(Date.now() - (45 + roomGraceMinutes + 1) * 60_000).toISOString() });
  return meeting;
}

test('an ended meeting offers no way into its room: the page says it has ended, and the room answers so, not with a room', async (t) => {
  const { client, staff } = await loggedIn(app);
  const service = app.server.plugins.meetings.service;
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  t.true(linksRow((await client.get(`/meetings/${meeting.id}`)).text)?.includes(joinLink(meeting.id)), 'booked: join');

  await service.advanceStatus(meeting.id, 'ended', staff.id);
  const ended = linksRow((await client.get(`/meetings/${meeting.id}`)).text);
  t.false(ended?.includes('Anslut till mötet'), 'ended: nothing to join');
  t.true(ended?.includes('Mötet har avslutats.'), 'ended: says so');
  const room = await client.get(`/meetings/${meeting.id}/room`);
  t.is(room.status, 410);
  t.regex(room.text, /<p class="problem" role="alert">Mötet har avslutats\. Det går inte längre att ansluta\.<\/p>/);
  t.false(room.text.includes('data-jitsi'), 'no video');

  // Past its end and the grace period, before the room's clock has marked it ended: over all the same.
  const late = await bookedPastItsTime(client);
  const lateRow = linksRow((await client.get(`/meetings/${late.id}`)).text);
  t.false(lateRow?.includes('Anslut till mötet'));
  t.true(lateRow?.includes('Mötet har avslutats.'));
  t.is((await client.get(`/meetings/${late.id}/room`)).status, 410);

  await client.get(`/lang/en?next=/meetings/${meeting.id}`);
  t.true(linksRow((await client.get(`/meetings/${meeting.id}`)).text)?.includes('The meeting has ended.'));
  t.regex(
    (await client.get(`/meetings/${meeting.id}/room`)).text,
    /The meeting has ended\. It can no longer be joined\./,
  );
});

test("a cancelled meeting offers no way into its room, and a clinician's page has no empty row of links", async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const cancelled = await client.request('POST', `/meetings/${meeting.id}/cancel`, {
    form: { crumb: client.crumb!, version: '1', reason: 'Patienten är sjuk', confirm: 'yes' },
  });
  t.is(cancelled.status, 302);
  const page = (await client.get(`/meetings/${meeting.id}`)).text;
  t.false(page.includes('Anslut till mötet'));
  t.is(linksRow(page), undefined, 'nothing to link to: no row at all, not an empty paragraph');
  const room = await client.get(`/meetings/${meeting.id}/room`);
  t.is(room.status, 410);
  t.regex(room.text, /Mötet är inställt\. Det går inte att ansluta\./);
  // Support reads the connection log from the row: for them it stays.
  const { client: support } = await loggedIn(app, 'support');
  t.regex(linksRow((await support.get(`/meetings/${meeting.id}`)).text) ?? '', /Anslutningslogg/);
});

/** Each participant's row on the meeting page: name and status cell, as text. */
function participantRows(html: string): string[] {
  const body = /<table class="participants">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr[\s\S]*?<\/tr>/g)].map((row) =>
    row[0]
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

test('on a cancelled meeting each participant reads "Mötet inställt" and what became of the news, not "Inbjuden", in Swedish and English', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const cancelled = await client.request('POST', `/meetings/${meeting.id}/cancel`, {
    form: { crumb: client.crumb!, version: '1', reason: 'Patienten är sjuk', confirm: 'yes' },
  });
  t.is(cancelled.status, 302);
  const rows = participantRows((await client.get(`/meetings/${meeting.id}`)).text);
  t.is(rows.length, 3);
  for (const row of rows) {
    t.notRegex(row, /Inbjuden|Inbjudan levererad/, row);
    // The status, then what the outbox knows of the news: queued, sent, delivered or failed.
    t.regex(row, /Mötet inställt Inställt \((sms|mejl)\): (I kö|Skickas|Skickat|Levererat|Misslyckades)/, row);
  }
  // The room's participant panel says the same.
  const panel = await client.get(`/meetings/${meeting.id}/room/panel`);
  t.is(panel.status, 200);
  t.notRegex(panel.text, /Inbjuden|Inbjudan levererad/);
  t.regex(panel.text, /Mötet inställt/);

  await client.get(`/lang/en?next=/meetings/${meeting.id}`);
  for (const row of participantRows((await client.get(`/meetings/${meeting.id}`)).text)) {
    t.notRegex(row, /Invited|Invitation delivered/, row);
    t.regex(row, /Meeting cancelled Cancelled \((SMS|e-mail)\): (Queued|Sending|Sent|Delivered|Failed)/, row);
  }
});

test('English pages head a participant\'s kind, and a message\'s, "Type", as English does, not "Kind"', async (t) => {
  const { client } = await loggedIn(app);
  await client.get('/lang/en?next=/meetings/new');
  const form = await client.get('/meetings/new');
  t.regex(form.text, /<html lang="en">/);
  t.regex(form.text, /<legend>Type of participant<\/legend>/);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const page = await client.get(`/meetings/${meeting.id}`);
  t.regex(page.text, /<th scope="col">Name<\/th><th scope="col">Type<\/th>/);
  // Hospital IT's pages list participants (privacy) and messages (outbox) the same way.
  const { client: admin } = await loggedIn(app, 'admin');
  await admin.get('/lang/en?next=/admin');
  const privacy = await admin.get(`/admin/privacy?meeting=${meeting.id}`);
  t.is(privacy.status, 200);
  t.regex(privacy.text, /<th scope="col">Type<\/th>/);
  const outbox = await admin.get('/admin/outbox');
  t.is(outbox.status, 200);
  t.regex(outbox.text, /<th scope="col">Type<\/th>/);
  for (const html of [form.text, page.text, privacy.text, outbox.text]) t.notRegex(html, />Kind\b/);
});

test('the meeting page receives status changes as server-sent events', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const stream = await eventStream(client, `/meetings/${meeting.id}/events`);
  t.is(stream.res.status, 200);
  t.regex(stream.res.headers.get('content-type')!, /^text\/event-stream/);
  await stream.read(/retry: \d+/);
  app.server.app.bus.emit('participant.status', {
    meetingId: meeting.id,
    participantId: meeting.participants[0].id,
    status: 'joined',
  });
  await stream.read(/"status":"joined"/);
  t.regex(
    stream.received,
    /event: meeting\ndata: \{"type":"participant.status","meetingId":"[^"]+","participantId":"[^"]+","status":"joined"\}/,
  );
  await client.request('POST', `/api/v1/meetings/${meeting.id}/participants/${meeting.participants[1].id}/resend`, {
    json: { version: meeting.version },
  });
  await stream.read(/invitation.resend/);
  t.pass();
  stream.close();
  const page = await client.get(`/meetings/${meeting.id}`);
  t.regex(page.text, /status-joined">Ansluten</);
});

test('a field the form refuses keeps the participants and everything typed, and says which field and why', async (t) => {
  const { client } = await loggedIn(app);
  const page = await patientAndGuestAdded(client);
  // A browser that does not hold to the number field's max (or none at all) sends 600 minutes.
  const refused = await client.request('POST', '/meetings/new', {
    form: {
      crumb: client.crumb!,
      ...meetingFields(toClinicTime(new Date(inDays(2))).date),
      title: 'Samordnad plan, vårterminen',
      durationMinutes: '600',
      draft: hidden(page.text, 'draft'),
      action: 'book',
    },
  });
  t.is(refused.status, 400);
  t.deepEqual(
    JSON.parse(hidden(refused.text, 'draft')).map((p: any) => p.name),
    ['Sara Lind', 'Eva Ek'],
    'the participants typed so far are still in the form',
  );
  t.true(refused.text.includes('Längd i minuter får vara högst 480.'), 'the field and the limit are named');
  t.true(refused.text.includes('value="Samordnad plan, vårterminen"'), 'the title is kept');
  t.true(refused.text.includes('Journalanteckning av läkaren'), 'the documentation plan is kept');
  t.is(await app.server.app.db('meetings').where({ title: 'Samordnad plan, vårterminen' }).first(), undefined);
});

/** Whether the booking form marks a field (by its id) as at fault, described by the meeting's problems. */
const marked = (html: string, id: string) =>
  new RegExp(
    `<(input|textarea) id="${id}"[^>]*aria-(invalid="true"[^>]*aria-describedby="[^"]*problem|describedby="[^"]*problem[^"]*"[^>]*aria-invalid="true")`,
  ).test(html);
/** The meeting's problems above the booking form, one a line. */
const meetingProblemLines = (html: string) =>
  (/<p class="error" role="alert" id="problem">([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '').split('<br>');

test('the booking form says everything wrong at once, each field at fault marked', async (t) => {
  const { client } = await loggedIn(app);
  const page = await patientAndGuestAdded(client);
  const spring = lastSundayNextYear(3);
  // No title, an hour the clock skips, a leader without an account, no documentation plan.
  const refused = await bookWith(client, page, spring, {
    title: ' ',
    time: '02:30',
    ledBy: 'ingen.alls@region.example',
    documentationPlan: '',
  });
  t.is(refused.status, 400);
  t.deepEqual(meetingProblemLines(refused.text), [
    `Klockan 02:30 finns inte den ${spring}: den natten ställs klockan fram från 02:00 till 03:00. Välj en annan tid.`,
    'Skriv en rubrik för mötet.',
    'Den som ska leda mötet (ingen.alls@region.example) har inget aktivt personalkonto på vårdenheten. Ange en kollega på enheten, eller lämna fältet tomt för att leda mötet själv.',
    'Beskriv hur mötet dokumenteras under och efter mötet.',
  ]);
  for (const id of ['time', 'title', 'ledBy', 'documentationPlan']) t.true(marked(refused.text, id), id);
  for (const id of ['date', 'durationMinutes']) t.false(marked(refused.text, id), `${id} is not at fault`);

  // A field that fails its own check (a duration past 480, a date left empty) is said beside the rest.
  const checked = await bookWith(client, page, '', { title: '', durationMinutes: '600' });
  t.is(checked.status, 400);
  const lines = meetingProblemLines(checked.text);
  t.true(lines.includes('Längd i minuter får vara högst 480.'), lines.join(' | '));
  t.true(lines.includes('Skriv en rubrik för mötet.'), lines.join(' | '));
  t.true(
    lines.some((line) => line.startsWith('Datum')),
    lines.join(' | '),
  );
  for (const id of ['durationMinutes', 'title', 'date']) t.true(marked(checked.text, id), id);
  t.deepEqual(
    JSON.parse(hidden(checked.text, 'draft')).map((p: any) => p.name),
    ['Sara Lind', 'Eva Ek'],
    'the participants typed so far are still in the form',
  );
});

test('the language switch sent with the booking form answers the form as typed in the other language, checking nothing', async (t) => {
  const { client } = await loggedIn(app);
  const page = await patientAndGuestAdded(client);
  // Even with a field that would fail its check (a duration past 480): switching is not booking.
  const switched = await bookWith(client, page, toClinicTime(new Date(inDays(2))).date, {
    title: 'Plan inför skolstart',
    durationMinutes: '600',
    p_kind: 'guest',
    p_name: 'Olle Ek',
    lang: 'en',
  });
  t.is(switched.status, 200);
  t.regex(switched.text, /<html lang="en">/);
  t.true(switched.text.includes('value="Plan inför skolstart"'), 'the title is kept');
  t.true(switched.text.includes('value="600"'), 'the duration as typed');
  t.true(switched.text.includes('value="Olle Ek"'), 'the participant being typed');
  t.deepEqual(
    JSON.parse(hidden(switched.text, 'draft')).map((p: any) => p.name),
    ['Sara Lind', 'Eva Ek'],
  );
  t.false(switched.text.includes('role="alert"'), 'nothing refused');
  t.regex(switched.headers.get('set-cookie') ?? '', /lang=en/, 'the language chosen stays');
});

/** The last Sunday of a month next year (YYYY-MM-DD): the clinic's clocks change then, at 02:00/03:00. */
function lastSundayNextYear(month: 3 | 10): string {
  const year = new Date().getUTCFullYear() + 1;
  const last = new Date(Date.UTC(year, month, 0));
  return addDays(last.toISOString().slice(0, 10), -last.getUTCDay());
}

test('02:30 the night summer time begins does not exist: the form and the reschedule refuse it, saying why, and keep what was typed', async (t) => {
  const { client } = await loggedIn(app);
  const spring = lastSundayNextYear(3);
  const page = await patientAndGuestAdded(client);
  const refused = await bookWith(client, page, spring, { title: 'Natten till sommartid', time: '02:30' });
  t.is(refused.status, 400);
  t.true(
    refused.text.includes(
      `Klockan 02:30 finns inte den ${spring}: den natten ställs klockan fram från 02:00 till 03:00.`,
    ),
  );
  t.deepEqual(
    JSON.parse(hidden(refused.text, 'draft')).map((p: any) => p.name),
    ['Sara Lind', 'Eva Ek'],
  );
  t.is(await app.server.app.db('meetings').where({ title: 'Natten till sommartid' }).first(), undefined);
  // The time is marked as the field at fault, described by the message, as any refused field is;
  // the day is not at fault (02:30 is there every other night): both forms say so alike.
  t.regex(
    refused.text,
    /<input id="time" name="time" type="time" value="02:30" required aria-invalid="true" aria-describedby="problem">/,
  );
  t.regex(refused.text, new RegExp(`<input id="date" name="date" type="date" value="${spring}" required>`));
  t.regex(refused.text, /<p class="error" role="alert" id="problem">Klockan 02:30 finns inte/);

  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const moved = await client.request('POST', `/meetings/${meeting.id}/reschedule`, {
    form: { crumb: client.crumb!, version: '1', date: spring, time: '02:30', durationMinutes: '45', confirm: 'yes' },
  });
  t.is(moved.status, 400);
  t.true(moved.text.includes(`Klockan 02:30 finns inte den ${spring}`));
  t.regex(
    moved.text,
    /<input id="new-time" [^>]*value="02:30" required aria-invalid="true" aria-describedby="meeting-problem">/,
  );
  t.regex(moved.text, new RegExp(`<input id="new-date" name="date" type="date" value="${spring}" required>`));
  t.regex(moved.text, /<p class="error" role="alert" id="meeting-problem">Klockan 02:30 finns inte/);
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().startsAt, meeting.startsAt);
});

test('02:30 the night summer time ends comes twice: the form books the first (summer time) and every message says which', async (t) => {
  const { client } = await loggedIn(app);
  const autumn = lastSundayNextYear(10);
  const page = await patientAndGuestAdded(client);
  const asked = await bookWith(client, page, autumn, { time: '02:30' });
  t.is(asked.status, 400, 'the form asks which 02:30 first');
  const booked = await bookWith(client, asked, autumn, { time: '02:30', clock: 'summer' });
  t.is(booked.status, 302, booked.text.slice(0, 2000));
  const id = booked.headers.get('location')!.split('/')[2]!.split('?')[0]!;
  t.is((await client.get(`/api/v1/meetings/${id}`)).json().startsAt, `${autumn}T00:30:00.000Z`, '02:30+02:00');
  const invitations = await messagesOf(app.server.app.db, { meetingId: id });
  t.true(invitations.length > 0);
  for (const message of invitations) {
    t.is(message.data.time, '02:30 (sommartid)');
    t.is(message.data.endTime, '02:15 (normaltid)', '45 minutes later the clock has gone back');
  }
  t.true((await client.get(`/meetings/${id}`)).text.includes('kl. 02:30 (sommartid)–02:15 (normaltid)'));
});

test('02:30 the night summer time ends: the booking and reschedule forms ask which of the two, and the second (standard time) can be chosen', async (t) => {
  const { client } = await loggedIn(app);
  const autumn = lastSundayNextYear(10);
  const page = await patientAndGuestAdded(client);
  const asked = await bookWith(client, page, autumn, { title: 'Natten till normaltid', time: '02:30' });
  t.is(asked.status, 400);
  t.true(
    asked.text.includes(
      `Klockan 02:30 finns två gånger den ${autumn}: den natten ställs klockan tillbaka från 03:00 till 02:00.`,
    ),
    asked.text.slice(0, 3000),
  );
  const summer = /<input[^>]*id="clock-summer"[^>]*>\s*<label for="clock-summer">([^<]*)<\/label>/.exec(asked.text);
  const standard = /<input[^>]*id="clock-standard"[^>]*>\s*<label for="clock-standard">([^<]*)<\/label>/.exec(
    asked.text,
  );
  t.is(summer?.[1], '02:30 sommartid (den första, innan klockan ställs tillbaka)');
  t.is(standard?.[1], '02:30 normaltid (den andra, en timme senare)');
  t.is(await app.server.app.db('meetings').where({ title: 'Natten till normaltid' }).first(), undefined);
  t.deepEqual(
    JSON.parse(hidden(asked.text, 'draft')).map((p: any) => p.name),
    ['Sara Lind', 'Eva Ek'],
  );

  const booked = await bookWith(client, asked, autumn, {
    title: 'Natten till normaltid',
    time: '02:30',
    clock: 'standard',
  });
  t.is(booked.status, 302, booked.text.slice(0, 2000));
  const id = booked.headers.get('location')!.split('/')[2]!.split('?')[0]!;
  t.is((await client.get(`/api/v1/meetings/${id}`)).json().startsAt, `${autumn}T01:30:00.000Z`, '02:30+01:00');
  for (const message of await messagesOf(app.server.app.db, { meetingId: id }))
    t.is(message.data.time, '02:30 (normaltid)');
  // The meeting page's reschedule form keeps which 02:30 it is.
  const shown = await client.get(`/meetings/${id}`);
  t.regex(shown.text, /<input[^>]*id="clock-standard"[^>]*checked/);

  // Moved from the API's 10:00 to the second 02:30 through the reschedule form: asked too, then moved.
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const reschedule = (fields: Record<string, string>) =>
    client.request('POST', `/meetings/${meeting.id}/reschedule`, {
      form: { crumb: client.crumb!, version: '1', date: autumn, time: '02:30', durationMinutes: '45', ...fields },
    });
  const askedAgain = await reschedule({ confirm: 'yes' });
  t.is(askedAgain.status, 400);
  t.true(askedAgain.text.includes(`Klockan 02:30 finns två gånger den ${autumn}`));
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().startsAt, meeting.startsAt);
  const confirmPage = await reschedule({ clock: 'standard' });
  t.is(confirmPage.status, 200);
  t.true(confirmPage.text.includes('02:30 (normaltid)'), 'the question names which 02:30');
  t.is(hidden(confirmPage.text, 'clock'), 'standard', 'the choice goes with the confirmation');
  const moved = await reschedule({ clock: 'standard', confirm: 'yes' });
  t.is(moved.status, 302, moved.text.slice(0, 2000));
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().startsAt, `${autumn}T01:30:00.000Z`);
});

test('a reschedule the form refuses shows the meeting again with the field and why, and moves nothing', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  await client.get(`/meetings/${meeting.id}`);
  const refused = await client.request('POST', `/meetings/${meeting.id}/reschedule`, {
    form: {
      crumb: client.crumb!,
      version: '1',
      date: toClinicTime(new Date(inDays(5))).date,
      time: '14:30',
      durationMinutes: '600',
      confirm: 'yes',
    },
  });
  t.is(refused.status, 400);
  t.true(refused.text.includes('Längd i minuter får vara högst 480.'), 'the field and the limit are named');
  t.true(refused.text.includes('Samordnad planering inför skolstart'), 'on the meeting page, not an error page');
  const stored = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
  t.is(stored.startsAt, meeting.startsAt);
  t.is(stored.version, 1);
});

test('a date that does not exist typed into the booking form is called that, not "in the past", in Swedish and English', async (t) => {
  const { client } = await loggedIn(app);
  const page = await patientAndGuestAdded(client);
  const book = (date: string) => bookWith(client, page, date, { title: 'Trettionde februari' });
  const year = new Date().getUTCFullYear() + 1;
  const refused = await book(`${year}-02-30`);
  t.is(refused.status, 400);
  t.true(refused.text.includes(`Datumet ${year}-02-30 finns inte i kalendern.`), refused.text.slice(0, 3000));
  t.false(refused.text.includes('bakåt i tiden'));
  t.deepEqual(
    JSON.parse(hidden(refused.text, 'draft')).map((p: any) => p.name),
    ['Sara Lind', 'Eva Ek'],
  );
  client.cookies.set('lang', 'en');
  try {
    const english = await book(`${year}-02-30`);
    t.is(english.status, 400);
    t.true(english.text.includes(`The date ${year}-02-30 does not exist in the calendar.`));
    t.false(english.text.includes('in the past'));
  } finally {
    client.cookies.delete('lang');
  }
  t.is(await app.server.app.db('meetings').where({ title: 'Trettionde februari' }).first(), undefined);

  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const moved = await client.request('POST', `/meetings/${meeting.id}/reschedule`, {
    form: { crumb: client.crumb!, version: '1', date: `${year}-02-30`, time: '10:00', durationMinutes: '45' },
  });
  t.is(moved.status, 400);
  t.true(moved.text.includes(`Datumet ${year}-02-30 finns inte i kalendern.`));
});

test('a meeting whose time is over, though nobody marked it ended, offers no changes: the page has no forms, and the page and API refuse with 409 and change nothing', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = await bookedPastItsTime(client);
  const before = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
  // Nobody marked it ended (the rooms' schedule may yet do so while this runs: the same refusals then).

  const page = (await client.get(`/meetings/${meeting.id}`)).text;
  t.true(linksRow(page)?.includes('Mötet har avslutats.'), 'the page says it is over');
  for (const [form, what] of <[string, string][]>[
    ['/reschedule"', 'move it'],
    ['/participants/add"', 'add a participant'],
    ['/cancel"', 'cancel it'],
    ['/contact"', 'change contact details'],
    ['/resend"', 'send an invitation again'],
    ['/remove"', 'remove a participant'],
  ])
    t.false(page.includes(form), `no form to ${what}`);

  const olle = meeting.participants[2];
  const api = [
    client.request('PATCH', `/api/v1/meetings/${meeting.id}`, { json: { version: 1, startsAt: inDays(3) } }),
    client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, { json: { version: 1, reason: 'Sjuk' } }),
    client.request('POST', `/api/v1/meetings/${meeting.id}/participants`, {
      json: {
        version: 1,
        participant: { kind: 'guest', name: 'Per Ek', email: 'per@ek.example', identification: 'none' },
      },
    }),
    client.request('PATCH', `/api/v1/meetings/${meeting.id}/participants/${olle.id}`, {
      json: { version: 1, mobile: '076-111 11 11' },
    }),
  ];
  for (const reply of await Promise.all(api)) {
    t.is(reply.status, 409, reply.text);
    t.is(reply.json().rule, 'not_changeable');
    t.is(reply.json().message, 'Mötet är avslutat och kan inte längre ändras. Boka ett nytt möte om ni ska ses igen.');
  }
  const form = { crumb: client.crumb!, version: '1' };
  const pages = [
    client.request('POST', `/meetings/${meeting.id}/reschedule`, {
      form: {
        ...form,
        date: toClinicTime(new Date(inDays(3))).date,
        time: '10:00',
        durationMinutes: '45',
        confirm: 'yes',
      },
    }),
    client.request('POST', `/meetings/${meeting.id}/cancel`, { form: { ...form, reason: 'Sjuk', confirm: 'yes' } }),
    client.request('POST', `/meetings/${meeting.id}/participants/add`, {
      form: { ...form, p_kind: 'guest', p_name: 'Per Ek', p_email: 'per@ek.example', p_identification: 'none' },
    }),
  ];
  for (const reply of await Promise.all(pages)) {
    t.is(reply.status, 409, reply.text.slice(0, 2000));
    t.true(reply.text.includes('Mötet är avslutat och kan inte längre ändras.'), reply.text.slice(0, 3000));
  }
  // What a change would change; the statuses move on by themselves (a delivered invitation, the schedule's end).
  const unchanged = ({ participants, status: _status, updatedAt: _updatedAt, ...m }: any) => ({
    ...m,
    participants: participants.map(({ status: _status, ...p }: any) => p),
  });
  const after = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
  t.deepEqual(unchanged(after), unchanged(before), 'nothing changed');

  await client.get(`/lang/en?next=/meetings/${meeting.id}`);
  const english = await client.request('POST', `/api/v1/meetings/${meeting.id}/cancel`, {
    json: { version: 1, reason: 'Ill' },
  });
  t.is(
    english.json().message,
    'The meeting has ended and can no longer be changed. Book a new meeting if you are to meet again.',
  );
});

/** The problems a refused form shows at `id` (the meeting page's above its forms, the add form's in it), one a line. */
const problemLines = (html: string, id: string) =>
  (new RegExp(`<p class="error" role="alert" id="${id}">([\\s\\S]*?)</p>`).exec(html)?.[1] ?? '').split('<br>');
/** Whether a field (by its id) is marked at fault and described by the problems at `problemsId`. */
const markedBy = (html: string, id: string, problemsId: string) =>
  new RegExp(
    `<(input|select) id="${id}"[^>]*(aria-invalid="true"[^>]*aria-describedby="[^"]*${problemsId}|aria-describedby="[^"]*${problemsId}[^"]*"[^>]*aria-invalid="true")`,
  ).test(html);

test('the reschedule form says everything wrong at once, as the booking form does, each field at fault marked, and moves nothing', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const reschedule = (fields: Record<string, string>) =>
    client.request('POST', `/meetings/${meeting.id}/reschedule`, {
      form: { crumb: client.crumb!, version: '1', confirm: 'yes', ...fields },
    });
  // A year past, an hour that is none and a duration past 480: three problems, three fields.
  const refused = await reschedule({ date: '2020-03-04', time: '25:00', durationMinutes: '600' });
  t.is(refused.status, 400);
  const lines = problemLines(refused.text, 'meeting-problem');
  t.is(lines.length, 3, lines.join(' | '));
  t.true(
    lines.includes('Mötet kan inte bokas bakåt i tiden. Välj en starttid som inte har passerat.'),
    lines.join(' | '),
  );
  t.true(
    lines.some((line) => line.startsWith('Ny starttid')),
    lines.join(' | '),
  );
  t.true(lines.includes('Längd i minuter får vara högst 480.'), lines.join(' | '));
  for (const id of ['new-date', 'new-time', 'new-duration']) t.true(markedBy(refused.text, id, 'meeting-problem'), id);
  t.regex(refused.text, /<input id="new-time" name="time" type="time" value="25:00"/, 'what was typed stays');

  // A start already past (the day read, this year) beside a duration past 480: both said.
  const yesterday = toClinicTime(new Date(Date.now() - 86_400_000)).date;
  if (yesterday.slice(0, 4) === toClinicTime(new Date()).date.slice(0, 4)) {
    const past = await reschedule({ date: yesterday, time: '10:00', durationMinutes: '600' });
    t.is(past.status, 400);
    t.deepEqual(problemLines(past.text, 'meeting-problem'), [
      'Mötet kan inte bokas bakåt i tiden. Välj en starttid som inte har passerat.',
      'Längd i minuter får vara högst 480.',
    ]);
    for (const id of ['new-date', 'new-time', 'new-duration']) t.true(markedBy(past.text, id, 'meeting-problem'), id);
  }
  const stored = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
  t.is(stored.startsAt, meeting.startsAt);
  t.is(stored.version, 1);
});

test('the add-participant form on the meeting page says every field that fails at once, as the booking form does, and adds nobody', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const refused = await client.request('POST', `/meetings/${meeting.id}/participants/add`, {
    form: {
      crumb: client.crumb!,
      version: '1',
      p_kind: 'guest',
      p_name: 'P'.repeat(201),
      p_email: `${'e'.repeat(250)}@ek.example`,
      p_identification: 'none',
    },
  });
  t.is(refused.status, 400);
  const lines = problemLines(refused.text, 'participant-problem');
  t.is(lines.length, 2, lines.join(' | '));
  t.true(lines[0]?.startsWith('Namn'), lines.join(' | '));
  t.true(lines[1]?.startsWith('Mejladress'), lines.join(' | '));
  for (const id of ['p_name', 'p_email']) t.true(markedBy(refused.text, id, 'participant-problem'), id);
  t.true(refused.text.includes(`value="${'P'.repeat(201)}"`), 'what was typed stays');
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().participants.length, 3);
});

test('the contact form has a country for each mobile number, the one booked chosen, so that a foreign number can be corrected', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  const olle = meeting.participants[2];
  const page = (await client.get(`/meetings/${meeting.id}`)).text;
  const select = new RegExp(
    `<label for="contact-${olle.id}-country">Land för mobilnumret till Olle Socialsekreterare</label>\\s*<select id="contact-${olle.id}-country" name="country"[^>]*>[\\s\\S]*?</select>`,
  ).exec(page)?.[0];
  t.truthy(select, 'a country chosen by its label');
  t.regex(select ?? '', /<option value="SE" selected>Sverige<\/option>/, 'the one booked, chosen');
  t.regex(select ?? '', /<option value="NO"\s*>Norge<\/option>/);

  const send = (fields: Record<string, string>) =>
    client.request('POST', `/meetings/${meeting.id}/participants/${olle.id}/contact`, {
      form: { crumb: client.crumb!, version: '1', email: '', ...fields },
    });
  const refused = await send({ country: 'SE', mobile: '912 34 567' });
  t.is(refused.status, 400);
  t.regex(refused.text, /<option value="SE" selected>/, 'the country as sent');
  const kept = await send({ country: 'NO', mobile: '91234' });
  t.is(kept.status, 400);
  t.true(kept.text.includes('91234 är inte ett giltigt telefonnummer i Norge.'), 'read for the country chosen');
  t.regex(
    new RegExp(`<select id="contact-${olle.id}-country"[\\s\\S]*?</select>`).exec(kept.text)?.[0] ?? '',
    /<option value="NO" selected>/,
    'the country chosen stays',
  );
  const corrected = await send({ country: 'NO', mobile: '912 34 567' });
  t.is(corrected.status, 302, corrected.text.slice(0, 2000));
  t.like((await client.get(`/api/v1/meetings/${meeting.id}`)).json().participants[2], {
    country: 'NO',
    mobile: '+4791234567',
  });
  const after = (await client.get(`/meetings/${meeting.id}`)).text;
  t.regex(
    new RegExp(`<select id="contact-${olle.id}-country"[\\s\\S]*?</select>`).exec(after)?.[0] ?? '',
    /<option value="NO" selected>/,
    'now booked for Norway',
  );
  t.true(after.includes('+47 91 23 45 67'), 'shown as a foreign number is');
});

test('a meeting past its time that nobody marked ended reads "avslutat" (ended) on its page, in the week calendar and in the API, in Swedish and English', async (t) => {
  const { client } = await loggedIn(app);
  const meeting = await bookedPastItsTime(client);
  const statusOf = (html: string) => /<dd class="meeting-status[^"]*">([^<]*)<\/dd>/.exec(html)?.[1];
  t.is(statusOf((await client.get(`/meetings/${meeting.id}`)).text), 'avslutat');
  const api = (await client.get(`/api/v1/meetings/${meeting.id}`)).json();
  t.is(api.status, 'ended');
  const startsAt = new Date(api.startsAt);
  const listed = (
    await client.get(
      `/api/v1/meetings?from=${new Date(startsAt.getTime() - 60_000).toISOString()}&to=${new Date(startsAt.getTime() + 60_000).toISOString()}`,
    )
  ).json();
  t.is(listed.meetings.find((m: { id: string }) => m.id === meeting.id)?.status, 'ended', 'the list as the read');
  const week = async () => {
    const html = (await client.get(`/calendar?view=week&date=${toClinicTime(startsAt).date}`)).text;
    return new RegExp(`<li class="meeting[^"]*" data-meeting-id="${meeting.id}">([\\s\\S]*?)</li>`).exec(html)?.[1];
  };
  t.regex((await week()) ?? '', /<span class="status">avslutat<\/span>/);
  // Read from the time, whether or not the rooms' schedule has marked it ended meanwhile.

  // One booked ahead still reads as booked: no status beside it in the calendar.
  const ahead = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  t.is(statusOf((await client.get(`/meetings/${ahead.id}`)).text), 'bokat');
  t.is((await client.get(`/api/v1/meetings/${ahead.id}`)).json().status, 'booked');

  await client.get(`/lang/en?next=/meetings/${meeting.id}`);
  t.is(statusOf((await client.get(`/meetings/${meeting.id}`)).text), 'ended');
  t.regex((await week()) ?? '', /<span class="status">ended<\/span>/);
});

test("the add-participant forms say every rule the participant breaks at once, not the first alone: the meeting page's and the booking form's", async (t) => {
  const { client } = await loggedIn(app);
  const meeting = (await client.request('POST', '/api/v1/meetings', { json: booking() })).json();
  // No name, an address that is none, and a personal number for a guest: three rules, three fields.
  const guest = {
    p_kind: 'guest',
    p_name: '',
    p_email: 'inte-en-adress',
    p_personalNumber: '19121212-1212',
    p_identification: 'none',
  };
  const expected = [
    'Skriv deltagarens namn, stavat exakt som personen kommer att skriva det.',
    'inte-en-adress är inte en giltig mejladress.',
    'Ett personnummer får aldrig anges för en gäst. Ta bort personnumret.',
  ];
  const refused = await client.request('POST', `/meetings/${meeting.id}/participants/add`, {
    form: { crumb: client.crumb!, version: '1', ...guest },
  });
  t.is(refused.status, 400);
  t.deepEqual(problemLines(refused.text, 'participant-problem'), expected);
  for (const id of ['p_name', 'p_email', 'p_personalNumber'])
    t.true(markedBy(refused.text, id, 'participant-problem'), id);
  t.true(refused.text.includes('value="inte-en-adress"'), 'what was typed stays');
  t.is((await client.get(`/api/v1/meetings/${meeting.id}`)).json().participants.length, 3, 'nobody added');

  // A colleague unknown to the directory is one problem, said as before.
  const colleague = await client.request('POST', `/meetings/${meeting.id}/participants/add`, {
    form: { crumb: client.crumb!, version: '1', p_kind: 'colleague', p_staffEmail: 'ingen@sjukhus.example' },
  });
  t.is(colleague.status, 400);
  t.is(problemLines(colleague.text, 'participant-problem').length, 1);
  t.true(markedBy(colleague.text, 'p_staffEmail', 'participant-problem'));

  // The booking form's "Lägg till" the same way.
  const form = await addParticipant(client, (await client.get('/meetings/new')).text, guest);
  t.is(form.status, 400);
  t.deepEqual(problemLines(form.text, 'participant-problem'), expected);
  for (const id of ['p_name', 'p_email', 'p_personalNumber'])
    t.true(markedBy(form.text, id, 'participant-problem'), id);
  t.is(hidden(form.text, 'draft'), '[]', 'nobody on the list');

  // The API still refuses on the first rule, naming it.
  const api = await client.request('POST', `/api/v1/meetings/${meeting.id}/participants`, {
    json: {
      version: 1,
      participant: { kind: 'guest', email: 'inte-en-adress', personalNumber: '19121212-1212', identification: 'none' },
    },
  });
  t.is(api.status, 400);
  t.is(api.json().rule, 'name_required');
});

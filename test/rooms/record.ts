// The meeting record: who was in the meeting's room, when and for how long, made from the room's
// presence records — on a page linked from the meeting page once it was held, and in the API.
import test from 'ava';
import type { Meeting } from '../../appliance/src/meetings/index.ts';
import { meetingRecord } from '../../appliance/src/rooms/record.ts';
import { recordJoin, recordLeave, type Presence } from '../../appliance/src/rooms/store.ts';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn, patientBySms, socialWorkerBySms, teacherByEmail } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

const at = (hhmm: string) => new Date(`2026-12-01T${hhmm}:00Z`);

const meeting: Pick<Meeting, 'ledBy' | 'bookedBy' | 'participants'> = {
  ledBy: 'staff-lead',
  bookedBy: 'staff-booker',
  participants: [
    { id: 'p1', kind: 'patient_proxy', name: 'Sara Lind', proxy: { name: 'Anna Lind' } },
    { id: 'p2', kind: 'guest', name: 'Lärare Eva Ek' },
    { id: 'p3', kind: 'guest', name: 'Olle Socialsekreterare' },
    { id: 'p4', kind: 'colleague', name: 'Doktor Berg', staffId: 'staff-colleague' },
  ] as unknown as Meeting['participants'],
};

let nextId = 1;
function presence(who: Partial<Presence>, from: string, to: string | null): Presence {
  return {
    id: nextId++,
    meetingId: 'm',
    participantId: null,
    staffId: null,
    nick: `n${nextId}`,
    displayName: null,
    person: null,
    joinedAt: at(from),
    leftAt: to ? at(to) : null,
    leftReason: to ? 'left' : null,
    ...who,
  };
}

test('each person once, in the order they came, with overlapping presences joined and gaps kept; who never came is named', (t) => {
  const record = meetingRecord(
    meeting,
    [
      presence({ staffId: 'staff-lead' }, '09:58', '10:47'),
      presence({ participantId: 'p1', person: 'main' }, '10:02', '10:30'),
      // The patient's second tab, opened before the first closed: one span, not two.
      presence({ participantId: 'p1', person: 'main' }, '10:25', '10:47'),
      presence({ participantId: 'p1', person: 'proxy' }, '10:03', '10:47'),
      // The teacher dropped out for two minutes.
      presence({ participantId: 'p2' }, '10:05', '10:20'),
      presence({ participantId: 'p2' }, '10:22', '10:40'),
    ],
    (id) => (id === 'staff-lead' ? 'Läkare Lena Ljung' : undefined),
  );
  t.deepEqual(record.heldFrom, at('09:58'));
  t.deepEqual(record.heldTo, at('10:47'));
  t.is(record.minutes, 49);
  t.deepEqual(
    record.attendees.map((a) => [a.name, a.role, a.spans.length, a.minutes]),
    [
      ['Läkare Lena Ljung', 'leader', 1, 49],
      ['Sara Lind', 'patient', 1, 45],
      ['Anna Lind', 'proxy', 1, 44],
      ['Lärare Eva Ek', 'guest', 2, 33],
    ],
  );
  t.deepEqual(
    record.absent.map((p) => [p.name, p.role]),
    [
      ['Olle Socialsekreterare', 'guest'],
      ['Doktor Berg', 'colleague'],
    ],
  );
});

test('while someone is still in the room the meeting has no end yet, and their time runs to now', (t) => {
  const record = meetingRecord(
    meeting,
    [
      presence({ participantId: 'p2' }, '10:00', '10:10'),
      presence({ staffId: 'staff-colleague', displayName: 'Doktor Berg' }, '10:05', null),
      presence({ displayName: 'Någon okänd' }, '10:06', '10:07'),
    ],
    () => undefined,
    at('10:30'),
  );
  t.is(record.heldTo, null);
  t.is(record.minutes, 30);
  t.deepEqual(
    record.attendees.map((a) => [a.name, a.role, a.spans.at(-1)?.to ?? null, a.minutes]),
    [
      ['Lärare Eva Ek', 'guest', at('10:10'), 10],
      ['Doktor Berg', 'colleague', null, 25],
      ['Någon okänd', 'unknown', at('10:07'), 1],
    ],
  );
  t.deepEqual(
    record.absent.map((p) => p.name),
    ['Sara Lind', 'Olle Socialsekreterare'],
    'the colleague came with their account',
  );
  const nobody = meetingRecord(meeting, [], () => undefined);
  t.is(nobody.heldFrom, undefined);
  t.deepEqual(nobody.attendees, []);
  t.deepEqual(
    nobody.absent.map((p) => p.name),
    ['Sara Lind', 'Lärare Eva Ek', 'Olle Socialsekreterare', 'Doktor Berg'],
  );
});

test('the meeting page links to the record once the meeting was held; the record shows who, when and how long, and the API the same', async (t) => {
  const { client, staff } = await loggedIn(app);
  const booked = (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [patientBySms, teacherByEmail, socialWorkerBySms] }),
    })
  ).json();
  t.false((await client.get(`/meetings/${booked.id}`)).text.includes('/record"'), 'not before it is held');
  const nobody = await client.get(`/meetings/${booked.id}/record`);
  t.is(nobody.status, 200);
  t.regex(nobody.text, /Ingen har varit i mötesrummet\./);

  const { db } = app.server.app;
  const [sara, eva] = booked.participants as { id: string; name: string }[];
  const start = new Date(Date.now() - 60 * 60_000);
  const minute = (n: number) => new Date(start.getTime() + n * 60_000);
  await db('meetings').where({ id: booked.id }).update({ starts_at: start.toISOString(), status: 'ended' });
  await recordJoin(
    db,
    {
      meetingId: booked.id,
      participantId: null,
      staffId: staff.id,
      nick: 'host',
      displayName: staff.name,
      person: null,
    },
    minute(0),
  );
  await recordJoin(
    db,
    {
      meetingId: booked.id,
      participantId: sara!.id,
      staffId: null,
      nick: 'sara',
      displayName: 'Sara Lind',
      person: 'main',
    },
    minute(2),
  );
  await recordJoin(
    db,
    {
      meetingId: booked.id,
      participantId: eva!.id,
      staffId: null,
      nick: 'eva',
      displayName: 'Lärare Eva Ek',
      person: null,
    },
    minute(3),
  );
  await recordLeave(db, booked.id, 'eva', 'left', minute(20));
  await recordLeave(db, booked.id, 'sara', 'left', minute(45));
  await recordLeave(db, booked.id, 'host', 'left', minute(46));

  const page = await client.get(`/meetings/${booked.id}`);
  t.regex(
    page.text,
    new RegExp(`<a href="/meetings/${booked.id}/record">Mötesuppgifter: vem som deltog, när och hur länge</a>`),
  );

  const record = await client.get(`/meetings/${booked.id}/record`);
  t.is(record.status, 200);
  const text = record.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  t.regex(text, /Mötesuppgifter: Samordnad planering inför skolstart/);
  t.regex(text, /Hölls \S+ \d+ \S+ \d{4} kl\. \d\d:\d\d–\d\d:\d\d \(46 min\)\./);
  t.regex(text, new RegExp(`${staff.name} Mötesansvarig \\d\\d:\\d\\d–\\d\\d:\\d\\d 46 min`));
  t.regex(text, /Sara Lind Patient \d\d:\d\d–\d\d:\d\d 43 min/);
  t.regex(text, /Lärare Eva Ek Gäst \d\d:\d\d–\d\d:\d\d 17 min/);
  t.regex(text, /Anslöt inte: Olle Socialsekreterare \(gäst\)\./);
  t.regex(text, /Deltog: .*Sara Lind \(patient, \d\d:\d\d–\d\d:\d\d\), Lärare Eva Ek \(gäst, /);
  t.false(record.text.includes('070'), 'names only, no contact details');

  const api = await client.request('GET', `/api/v1/meetings/${booked.id}/record`);
  t.is(api.status, 200);
  const json = api.json();
  t.is(json.meetingId, booked.id);
  t.is(json.minutes, 46);
  t.deepEqual(
    json.attendees.map((a: { name: string; role: string; minutes: number }) => [a.name, a.role, a.minutes]),
    [
      [staff.name, 'leader', 46],
      ['Sara Lind', 'patient', 43],
      ['Lärare Eva Ek', 'guest', 17],
    ],
  );
  t.deepEqual(
    json.absent.map((p: { name: string }) => p.name),
    ['Olle Socialsekreterare'],
  );

  // In English too.
  await client.get(`/lang/en?next=/meetings/${booked.id}/record`);
  t.regex(
    (await client.get(`/meetings/${booked.id}/record`)).text,
    /Held .* \(46 min\)\.[\s\S]*Did not join: Olle Socialsekreterare \(guest\)\./,
  );

  // Each read is audited; another unit's clinician cannot read it, support can.
  t.true((await findAudit(db, { action: 'meeting.record.read' })).some((r) => r.targetId === booked.id));
  const { client: outsider } = await loggedIn(app, 'clinician', 'Annan enhet');
  t.is((await outsider.get(`/meetings/${booked.id}/record`)).status, 403);
  t.is((await outsider.request('GET', `/api/v1/meetings/${booked.id}/record`)).status, 403);
  const { client: support } = await loggedIn(app, 'support');
  t.is((await support.get(`/meetings/${booked.id}/record`)).status, 200);
});

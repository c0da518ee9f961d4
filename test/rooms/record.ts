// The meeting record: who was in the meeting's room, when and for how long, made from the room's
// presence records — on a page linked from the meeting page once it was held, and in the API.
import test from 'ava';
import type { Meeting } from '../../appliance/src/meetings/index.ts';
import { meetingRecord } from '../../appliance/src/rooms/record.ts';
import { recordJoin, recordLeave, type Presence } from '../../appliance/src/rooms/store.ts';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { startProsody, type Prosody } from '../helpers/prosody.ts';
import { roomControlEnv, startServer, type Client, type TestServer } from '../helpers/server.ts';
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

/** The routine's meeting booked through the API: the patient, a teacher and a social worker. */
async function book(
  client: Client,
): Promise<{ id: string; version: number; participants: { id: string; name: string }[] }> {
  return (
    await client.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [patientBySms, teacherByEmail, socialWorkerBySms] }),
    })
  ).json();
}

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
  const booked = await book(client);
  t.false((await client.get(`/meetings/${booked.id}`)).text.includes('/record"'), 'not before it is held');
  t.is((await client.get(`/meetings/${booked.id}/record`)).status, 200, 'before it is held too');

  const { db } = app.server.app;
  const [sara, eva] = booked.participants;
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

test('a participant removed from the meeting after being in the room keeps the name they were invited with, marked as removed', (t) => {
  const record = meetingRecord(
    {
      ...meeting,
      participants: meeting.participants.filter((p) => p.id !== 'p2' && p.id !== 'p1'),
      removed: meeting.participants.filter((p) => p.id === 'p2' || p.id === 'p1'),
    },
    [
      presence({ staffId: 'staff-lead' }, '10:00', '10:40'),
      // Jitsi's display name is what they typed; the record names them as they were invited.
      presence({ participantId: 'p2', displayName: 'Eva' }, '10:01', '10:10'),
      presence({ participantId: 'p1', person: 'proxy', displayName: 'Mamma' }, '10:02', '10:12'),
    ],
    () => 'Läkare Lena Ljung',
  );
  t.deepEqual(
    record.attendees.map((a) => [a.name, a.role, a.participantId, a.removed, a.minutes]),
    [
      ['Läkare Lena Ljung', 'leader', null, false, 40],
      ['Lärare Eva Ek', 'guest', 'p2', true, 9],
      ['Anna Lind', 'proxy', 'p1', true, 10],
    ],
  );
  t.deepEqual(
    record.absent.map((p) => p.name),
    ['Olle Socialsekreterare', 'Doktor Berg'],
    'who was removed is not among those who did not join',
  );
  t.false(JSON.stringify(record).includes('mobile'), 'names only');
});

test('where presence is not recorded, nobody in the record is not "nobody came": it says so, and names nobody as absent', (t) => {
  const unrecorded = meetingRecord(meeting, [], () => undefined, new Date(), { presenceRecorded: false });
  t.false(unrecorded.presenceRecorded);
  t.deepEqual(unrecorded.attendees, []);
  t.deepEqual(unrecorded.absent, [], 'who came is not known, so nobody is known to be absent');
  t.true(meetingRecord(meeting, [], () => undefined).presenceRecorded);
});

/** A meeting held an hour ago as the API books it, with its participants as booked. */
async function heldMeeting(server: TestServer, client: Client) {
  const booked = await book(client);
  await server.server.app
    .db('meetings')
    .where({ id: booked.id })
    .update({ starts_at: new Date(Date.now() - 60 * 60_000).toISOString(), status: 'ended' });
  return booked;
}

test('without XMPP_* the appliance records no presence: the record says so (in both languages), not that nobody came, and the API has a field for it', async (t) => {
  const { client } = await loggedIn(app);
  const booked = await heldMeeting(app, client);
  const page = await client.get(`/meetings/${booked.id}/record`);
  t.is(page.status, 200);
  const text = page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  t.false(text.includes('Ingen har varit i mötesrummet'));
  t.regex(
    text,
    /Den här installationen registrerar inte vem som är i mötesrummet, eftersom Samverka inte är anslutet till mötesservern\./,
  );
  t.false(text.includes('Anslöt inte'));
  const json = (await client.request('GET', `/api/v1/meetings/${booked.id}/record`)).json();
  t.is(json.presenceRecorded, false);
  t.deepEqual(json.attendees, []);
  t.deepEqual(json.absent, []);
  await client.get(`/lang/en?next=/meetings/${booked.id}/record`);
  t.regex(
    (await client.get(`/meetings/${booked.id}/record`)).text,
    /This installation does not record who is in the meeting room, because Samverka is not connected to the meeting server\./,
  );
});

test('with XMPP_* set, a held meeting nobody came to says so, and the API names everyone invited as absent', async (t) => {
  let prosody: Prosody | undefined;
  let controlled: TestServer | undefined;
  try {
    prosody = await startProsody();
    controlled = await startServer({ env: { ...roomControlEnv(prosody), REMINDER_OFFSETS: 'none' } });
    const { client } = await loggedIn(controlled);
    const booked = await heldMeeting(controlled, client);
    const page = await client.get(`/meetings/${booked.id}/record`);
    t.regex(page.text, /Ingen har varit i mötesrummet\./);
    t.false(page.text.includes('registrerar inte'));
    const json = (await client.request('GET', `/api/v1/meetings/${booked.id}/record`)).json();
    t.is(json.presenceRecorded, true);
    t.deepEqual(
      json.absent.map((p: { name: string }) => p.name),
      ['Sara Lind', 'Lärare Eva Ek', 'Olle Socialsekreterare'],
    );
  } finally {
    await controlled?.stop();
    await prosody?.stop();
  }
});

test('a participant removed after being in the room is named in the record as invited, marked as removed, on the page and in the API', async (t) => {
  const { client, staff } = await loggedIn(app);
  const booked = await book(client);
  const { db } = app.server.app;
  const eva = booked.participants[1]!;
  const start = new Date(Date.now() - 60 * 60_000);
  const minute = (n: number) => new Date(start.getTime() + n * 60_000);
  const join = (who: Partial<Omit<Presence, 'id' | 'leftAt' | 'leftReason' | 'joinedAt'>>, at: Date) =>
    recordJoin(
      db,
      { meetingId: booked.id, participantId: null, staffId: null, nick: '', displayName: null, person: null, ...who },
      at,
    );
  await join({ staffId: staff.id, nick: 'host', displayName: staff.name }, minute(0));
  await join({ participantId: eva.id, nick: 'eva', displayName: 'Eva' }, minute(3));
  await recordLeave(db, booked.id, 'eva', 'kicked', minute(13));
  // Taken off the meeting (the row is kept, marked removed), then the meeting ends.
  const removal = await client.request(
    'DELETE',
    `/api/v1/meetings/${booked.id}/participants/${eva.id}?version=${booked.version}`,
    { headers: { 'x-csrf-token': client.crumb! } },
  );
  t.is(removal.status, 200, removal.text);
  await recordLeave(db, booked.id, 'host', 'left', minute(30));
  await db('meetings').where({ id: booked.id }).update({ starts_at: start.toISOString(), status: 'ended' });

  const text = (await client.get(`/meetings/${booked.id}/record`)).text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  t.regex(text, /Lärare Eva Ek Gäst, borttagen ur mötet \d\d:\d\d–\d\d:\d\d 10 min/);
  t.false(text.includes('Okänd'));
  t.regex(text, /Deltog: .*Lärare Eva Ek \(gäst, borttagen ur mötet, \d\d:\d\d–\d\d:\d\d\)/);
  t.regex(text, /Anslöt inte: Sara Lind \(patient\), Olle Socialsekreterare \(gäst\)\./);
  t.false(text.includes('skola.example'), 'no contact details');
  const json = (await client.request('GET', `/api/v1/meetings/${booked.id}/record`)).json();
  const evaInApi = json.attendees.find((a: { participantId: string | null }) => a.participantId === eva.id);
  t.like(evaInApi, { name: 'Lärare Eva Ek', role: 'guest', removed: true, minutes: 10 });
  await client.get(`/lang/en?next=/meetings/${booked.id}/record`);
  t.regex(
    (await client.get(`/meetings/${booked.id}/record`)).text,
    /Lärare Eva Ek<\/td><td>Guest, removed from the meeting</,
  );
});

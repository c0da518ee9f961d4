// Booking a new meeting with another meeting's people (the routine: a meeting ended for its
// connection is booked again; a follow-up with the same parties): the booking form comes filled in
// with them, personal numbers included, and only the date and time are left to choose.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { toClinicTime } from '../../appliance/src/common/clock.ts';
import { eraseParticipantContacts } from '../../appliance/src/meetings/store.ts';
import { messagesOf } from '../../appliance/src/invites/outbox.ts';
import { present } from '../helpers/present.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { inDays, loggedIn, patientWithBankId, socialWorkerBySms, teacherByEmail } from './_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

const unescaped = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
const hidden = (html: string, name: string) =>
  unescaped(present(new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1], `the field ${name}`));
const field = (html: string, id: string) =>
  unescaped(present(new RegExp(`id="${id}" name="${id}"[^>]* value="([^"]*)"`).exec(html)?.[1], `the field ${id}`));

interface ApiParticipant {
  id: string;
  kind: string;
  name: string;
  mobile: string | null;
  email: string | null;
  personalNumberMasked: string | null;
  identification: string;
  language: string;
  staffId: string | null;
  proxy: { name: string; mobile: string | null; email: string | null; personalNumberMasked: string | null } | null;
}

/** What a participant is, without what each booking gives them anew (id, status, when added). */
const person = (p: ApiParticipant) => ({
  kind: p.kind,
  name: p.name,
  mobile: p.mobile,
  email: p.email,
  personalNumberMasked: p.personalNumberMasked,
  identification: p.identification,
  language: p.language,
  staffId: p.staffId,
  proxy: p.proxy && {
    name: p.proxy.name,
    mobile: p.proxy.mobile,
    email: p.proxy.email,
    personalNumberMasked: p.proxy.personalNumberMasked,
  },
});

/** A held meeting's kind of booking: a patient with BankID and a proxy, two guests, a colleague of another unit, led by another. */
async function bookOriginal(client: Client) {
  const { staff: colleague } = await app.staff('clinician', 'Skolhälsovården');
  const { staff: leader } = await app.staff('clinician');
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: {
      title: 'Samordnad individuell plan',
      startsAt: inDays(2),
      durationMinutes: 60,
      ledBy: leader.email,
      documentationPlan: 'Journalanteckning av läkaren; SIP-dokumentet uppdateras',
      participants: [
        {
          ...patientWithBankId('Tolvan Tolvansson', '19121212-1212'),
          kind: 'patient_proxy',
          proxy: { name: 'Anna Tolvansson', mobile: '070-111 22 33', personalNumber: '19800101-0019' },
        },
        { ...teacherByEmail, language: 'en' },
        socialWorkerBySms,
        { kind: 'colleague', staffEmail: colleague.email },
      ],
    },
  });
  if (reply.status !== 201) throw new Error(reply.text);
  return { meeting: reply.json<{ id: string; participants: ApiParticipant[] }>(), leader, colleague };
}

test('"Boka nytt möte med samma deltagare" fills the booking form with the meeting, people and personal numbers; booking it invites them all anew', async (t) => {
  const { client, staff } = await loggedIn(app);
  const { meeting, leader, colleague } = await bookOriginal(client);
  const colleagueEmail = colleague.email;
  const page = await client.get(`/meetings/${meeting.id}`);
  // Handlebars writes the = of an address as &#x3D;: the browser reads it as =.
  t.regex(
    page.text,
    new RegExp(`<a href="/meetings/new\\?from(=|&#x3D;)${meeting.id}">Boka nytt möte med samma deltagare</a>`),
  );

  const form = await client.get(`/meetings/new?from=${meeting.id}`);
  t.is(form.status, 200);
  t.regex(
    form.text,
    /Deltagarna, rubriken, längden och dokumentationen kommer från mötet Samordnad individuell plan, /,
  );
  t.notRegex(form.text, /Kunde inte tas med/);
  t.is(field(form.text, 'title'), 'Samordnad individuell plan');
  t.is(field(form.text, 'durationMinutes'), '60');
  t.is(field(form.text, 'ledBy'), leader.email);
  t.regex(form.text, /SIP-dokumentet uppdateras<\/textarea>/);
  // The list as the form shows it: masked, as on the meeting page.
  t.true(form.text.includes('19121212-****'));
  t.false(form.text.includes('19121212-1212</'), 'the full number only in the hidden list');
  const records = await findAudit(app.server.app.db, { staffId: staff.id, action: 'meeting.copy' });
  t.deepEqual(
    records.map((r) => r.meetingId),
    [meeting.id],
    'reading the personal numbers for it is in the log',
  );

  const date = toClinicTime(new Date(inDays(9))).date;
  const booked = await client.request('POST', '/meetings/new', {
    form: {
      crumb: client.crumb!,
      title: field(form.text, 'title'),
      date,
      time: '13:00',
      durationMinutes: field(form.text, 'durationMinutes'),
      ledBy: field(form.text, 'ledBy'),
      documentationPlan: 'Journalanteckning av läkaren; SIP-dokumentet uppdateras',
      draft: hidden(form.text, 'draft'),
      action: 'book',
    },
  });
  t.is(booked.status, 302, booked.text.slice(0, 2000));
  const id = present(/^\/meetings\/([\w-]+)/.exec(booked.headers.get('location') ?? '')?.[1], 'the new meeting');
  t.not(id, meeting.id);
  const copy = (await client.get(`/api/v1/meetings/${id}`)).json<{
    title: string;
    durationMinutes: number;
    participants: ApiParticipant[];
  }>();
  t.is(copy.title, 'Samordnad individuell plan');
  t.is(copy.durationMinutes, 60);
  t.deepEqual(copy.participants.map(person), meeting.participants.map(person));
  // Everyone is invited to the new meeting: the patient, the proxy, both guests and the colleague.
  const invitations = (await messagesOf(app.server.app.db, { meetingId: id })).filter((m) => m.kind === 'invitation');
  t.deepEqual(
    invitations.map((m) => m.recipient).sort(),
    ['+46701112233', '+46761234567', '+46707654321', 'eva.ek@skola.example', colleagueEmail].sort(),
    'Tolvan and Anna by SMS, Olle by SMS, Eva and the colleague by e-mail',
  );
  // The original is untouched.
  const original = (await client.get(`/api/v1/meetings/${meeting.id}`)).json<{ participants: ApiParticipant[] }>();
  t.deepEqual(original.participants.map(person), meeting.participants.map(person));
});

test('a participant whose contact details were erased since the meeting is named to add again, not carried over without them', async (t) => {
  const { client } = await loggedIn(app);
  const { meeting } = await bookOriginal(client);
  const olle = present(
    meeting.participants.find((p) => p.name === 'Olle Socialsekreterare'),
    'Olle',
  );
  await eraseParticipantContacts(app.server.app.db, olle.id, 'main');
  const form = await client.get(`/meetings/new?from=${meeting.id}`);
  t.is(form.status, 200);
  t.regex(form.text, /Kunde inte tas med, lägg till dem igen: Olle Socialsekreterare \(/);
  const draft = JSON.parse(hidden(form.text, 'draft')) as { name?: string }[];
  t.deepEqual(
    draft.map((p) => p.name),
    ['Tolvan Tolvansson', 'Lärare Eva Ek', undefined],
    'the patient, the teacher and the colleague (by e-mail address)',
  );
});

test('a child with a proxy, the child with no phone of their own, is carried over with the proxy, not named to add again', async (t) => {
  const { client } = await loggedIn(app);
  const reply = await client.request('POST', '/api/v1/meetings', {
    json: {
      title: 'Uppföljning',
      startsAt: inDays(2),
      durationMinutes: 30,
      documentationPlan: 'Journalanteckning',
      participants: [
        {
          kind: 'patient_proxy',
          name: 'Lilla Lind',
          personalNumber: '20121212-1212',
          identification: 'bankid',
          proxy: { name: 'Anna Lind', mobile: '070-765 43 21', personalNumber: '19800101-0019' },
        },
      ],
    },
  });
  t.is(reply.status, 201, reply.text);
  const form = await client.get(`/meetings/new?from=${reply.json<{ id: string }>().id}`);
  t.notRegex(form.text, /Kunde inte tas med/);
  const draft = JSON.parse(hidden(form.text, 'draft')) as { name?: string; proxy?: { name: string; mobile: string } }[];
  t.deepEqual(
    draft.map((p) => [p.name, p.proxy?.name, p.proxy?.mobile]),
    [['Lilla Lind', 'Anna Lind', '+46707654321']],
  );
});

test('the copy is read with the meeting: another unit gets 403, support cannot book, an unknown meeting is 404, a malformed id 400', async (t) => {
  const { client } = await loggedIn(app);
  const { meeting } = await bookOriginal(client);
  const { client: elsewhere } = await loggedIn(app, 'clinician', 'Ortopedi');
  t.is((await elsewhere.get(`/meetings/new?from=${meeting.id}`)).status, 403);
  const { client: support } = await loggedIn(app, 'support');
  t.is((await support.get(`/meetings/new?from=${meeting.id}`)).status, 403);
  t.notRegex((await support.get(`/meetings/${meeting.id}`)).text, /Boka nytt möte med samma deltagare/);
  t.is((await client.get('/meetings/new?from=00000000-0000-4000-8000-000000000000')).status, 404);
  t.is((await client.get('/meetings/new?from=not-an-id')).status, 400);
  const { client: admin } = await loggedIn(app, 'admin');
  t.is((await admin.get(`/meetings/new?from=${meeting.id}`)).status, 200, 'an admin may book, as the form allows');
});

test('in English the link and the notice read in English', async (t) => {
  const { client } = await loggedIn(app);
  const { meeting } = await bookOriginal(client);
  client.cookies.set('lang', 'en');
  const page = await client.get(`/meetings/${meeting.id}`);
  t.regex(page.text, /Book a new meeting with the same participants/);
  const form = await client.get(`/meetings/new?from=${meeting.id}`);
  t.regex(
    form.text,
    /The participants, title, length and documentation come from the meeting Samordnad individuell plan, /,
  );
});

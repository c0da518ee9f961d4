// The routine's booking rules through the API: each test is named after the rule it checks.
import test from 'ava';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import {
  booking,
  countMeetings,
  inDays,
  loggedIn,
  patientBySms,
  socialWorkerBySms,
  teacherByEmail,
} from './_booking.ts';

let app: TestServer;
let clinician: Client;
let english: Client;
test.before(async () => {
  app = await startServer({ env: { MAX_PARTICIPANTS: '5' } });
  clinician = (await loggedIn(app)).client;
  english = (await loggedIn(app)).client;
  await english.get('/lang/en?next=/login');
});
test.after.always(() => app?.stop());

const book = (body: unknown, client = clinician) => client.request('POST', '/api/v1/meetings', { json: body });

/** Books `body` expecting the rule to refuse it: 400, the rule code, a Swedish message, nothing stored. */
async function refused(
  t: import('ava').ExecutionContext,
  body: unknown,
  rule: string,
  message: RegExp,
  field?: string,
) {
  const before = await countMeetings(app);
  const reply = await book(body);
  t.is(reply.status, 400, reply.text);
  const error = reply.json();
  t.is(error.rule, rule);
  t.regex(error.message, message);
  if (field) t.is(error.field, field);
  t.is(await countMeetings(app), before, 'nothing is stored');
  return error;
}

test.serial('a clinician books a meeting with a patient invited by SMS and two guests', async (t) => {
  const reply = await book(booking({ testMeeting: true }));
  t.is(reply.status, 201, reply.text);
  const meeting = reply.json();
  t.is(reply.headers.get('location'), `/api/v1/meetings/${meeting.id}`);
  t.is(meeting.status, 'booked');
  t.is(meeting.version, 1);
  t.true(meeting.testMeeting);
  t.deepEqual(
    meeting.participants.map((p: any) => [p.kind, p.name, p.mobile, p.email, p.identification, p.status]),
    [
      ['patient', 'Sara Lind', '+46701234567', null, 'sms', 'invited'],
      ['guest', 'Lärare Eva Ek', null, 'eva.ek@skola.example', 'none', 'invited'],
      ['guest', 'Olle Socialsekreterare', '+46761234567', null, 'sms', 'invited'],
    ],
  );
});

test.serial('a guest cannot have both a mobile number and an e-mail address', async (t) => {
  const guest = { ...teacherByEmail, mobile: '070-765 43 21' };
  await refused(
    t,
    booking({ participants: [patientBySms, guest] }),
    'guest_mobile_and_email',
    /kan inte ha både mobilnummer och mejladress/,
    'participants.1.email',
  );
});

test.serial('a guest needs a mobile number or an e-mail address', async (t) => {
  await refused(
    t,
    booking({ participants: [patientBySms, { kind: 'guest', name: 'Eva Ek', identification: 'none' }] }),
    'guest_contact_required',
    /mobilnummer eller en mejladress för gästen/,
  );
});

test.serial('a guest is never asked for a personal identity number', async (t) => {
  const guest = { ...teacherByEmail, identification: 'bankid', personalNumber: '19121212-1212' };
  await refused(
    t,
    booking({ participants: [patientBySms, guest] }),
    'guest_personal_number',
    /aldrig anges för en gäst/,
    'participants.1.personalNumber',
  );
});

test.serial('a guest identified by SMS needs a mobile number', async (t) => {
  await refused(
    t,
    booking({ participants: [patientBySms, { ...teacherByEmail, identification: 'sms' }] }),
    'sms_needs_mobile',
    /SMS kräver ett mobilnummer för Lärare Eva Ek/,
  );
});

test.serial(
  'a guest may be identified with SITHS or BankID, and a guest with no identification gets a link',
  async (t) => {
    const reply = await book(
      booking({
        participants: [
          patientBySms,
          { ...teacherByEmail, identification: 'siths' },
          { ...socialWorkerBySms, identification: 'bankid' },
          { ...teacherByEmail, name: 'Rektor', email: 'rektor@skola.example' },
        ],
      }),
    );
    t.is(reply.status, 201, reply.text);
    t.deepEqual(
      reply.json().participants.map((p: any) => p.identification),
      ['sms', 'siths', 'bankid', 'none'],
    );
  },
);

test.serial("a guest's name is required", async (t) => {
  await refused(
    t,
    booking({ participants: [patientBySms, { ...teacherByEmail, name: '   ' }] }),
    'name_required',
    /Skriv deltagarens namn/,
    'participants.1.name',
  );
});

test.serial('names are trimmed, inner spaces collapsed and Unicode-normalised', async (t) => {
  const decomposed = 'A\u0308sa  \t O\u0308berg'; // Ä and Ö typed as letter + combining diaeresis
  const reply = await book(booking({ participants: [{ ...patientBySms, name: decomposed }] }));
  t.is(reply.status, 201, reply.text);
  t.is(reply.json().participants[0].name, 'Äsa Öberg'.normalize('NFC'));
  t.is(reply.json().participants[0].name.length, 9);
});

test.serial('the patient is added first, then the other participants', async (t) => {
  await refused(
    t,
    booking({ participants: [teacherByEmail, patientBySms] }),
    'patient_first',
    /lägg till patienten \(eller patienten med ombud\) först/,
  );
});

test.serial('a meeting may be held without the patient ("om de ska vara med")', async (t) => {
  const reply = await book(booking({ participants: [teacherByEmail, socialWorkerBySms] }));
  t.is(reply.status, 201, reply.text);
});

test.serial('a meeting has only one patient', async (t) => {
  await refused(
    t,
    booking({ participants: [patientBySms, { ...patientBySms, name: 'Annan Patient' }] }),
    'one_patient',
    /Ett möte har en patient/,
  );
});

test.serial('a patient is identified with BankID or SMS only', async (t) => {
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, identification: 'none' }] }),
    'identification_not_allowed',
    /bankid, sms/,
  );
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, identification: 'siths' }] }),
    'identification_not_allowed',
    /bankid, sms/,
  );
});

test.serial('a patient needs a mobile number or an e-mail address', async (t) => {
  await refused(
    t,
    booking({
      participants: [{ kind: 'patient', name: 'Sara Lind', identification: 'bankid', personalNumber: '19121212-1212' }],
    }),
    'contact_required',
    /mobilnummer eller en mejladress för Sara Lind/,
  );
});

test.serial('a patient invited by SMS needs a mobile number', async (t) => {
  await refused(
    t,
    booking({
      participants: [{ kind: 'patient', name: 'Sara Lind', email: 'sara@example.se', identification: 'sms' }],
    }),
    'sms_needs_mobile',
    /kräver ett mobilnummer/,
  );
});

test.serial('a patient identified with BankID needs a personal identity number', async (t) => {
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, identification: 'bankid' }] }),
    'bankid_needs_personal_number',
    /BankID kräver personnummer för Sara Lind/,
  );
});

test.serial('a patient invited by SMS may be recorded with a personal identity number', async (t) => {
  const reply = await book(booking({ participants: [{ ...patientBySms, personalNumber: '19121212-1212' }] }));
  t.is(reply.status, 201, reply.text);
  t.like(reply.json().participants[0], { identification: 'sms', personalNumberMasked: '19121212-****' });
});

test.serial('a personal identity number must have the right check digit', async (t) => {
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, identification: 'bankid', personalNumber: '19121212-1213' }] }),
    'personal_number_checksum',
    /kontrollsiffran är fel/,
  );
});

test.serial('a personal identity number must be a real date and well formed', async (t) => {
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, identification: 'bankid', personalNumber: '19121312-1212' }] }),
    'personal_number_date',
    /giltigt datum/,
  );
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, identification: 'bankid', personalNumber: '1912-12' }] }),
    'personal_number_format',
    /ÅÅÅÅMMDD-NNNN/,
  );
});

test.serial('a personal identity number is normalised, stored encrypted and shown masked', async (t) => {
  const reply = await book(
    booking({ participants: [{ ...patientBySms, identification: 'bankid', personalNumber: '121212+1212' }] }),
  ); // '+': aged 100 or more
  t.is(reply.status, 201, reply.text);
  const patient = reply.json().participants[0];
  t.is(patient.personalNumberMasked, '19121212-****');
  t.false(reply.text.includes('1212121212'));
  const row = await app.server.app.db('participants').where({ id: patient.id }).first();
  t.false(String(row.personal_number_sealed).includes('121212'));
  t.regex(row.personal_number_sealed, /^v1\./);
  const { personalNumberOf } = await import('../../appliance/src/meetings/store.ts');
  t.is(await personalNumberOf(app.server.app.db, patient.id, app.config.dataKey), '191212121212');
  t.false(app.logs().includes('1212-1212'), 'never logged');
});

test.serial('a coordination number (samordningsnummer, day + 60) is accepted', async (t) => {
  const reply = await book(
    booking({ participants: [{ ...patientBySms, identification: 'bankid', personalNumber: '19701072-2390' }] }),
  );
  t.is(reply.status, 201, reply.text);
  t.is(reply.json().participants[0].personalNumberMasked, '19701072-****');
});

test.serial('a patient with a proxy has both names and contacts', async (t) => {
  const proxy = {
    kind: 'patient_proxy',
    name: 'Barnet Lind',
    identification: 'sms',
    mobile: '0701234567',
    proxy: { name: 'Förälder Lind', mobile: '0731234567' },
  };
  const reply = await book(booking({ participants: [proxy, teacherByEmail] }));
  t.is(reply.status, 201, reply.text);
  const p = reply.json().participants[0];
  t.is(p.kind, 'patient_proxy');
  t.like(p.proxy, { name: 'Förälder Lind', mobile: '+46731234567' });
  await refused(t, booking({ participants: [{ ...proxy, proxy: undefined }] }), 'proxy_required', /ombudets namn/);
  await refused(
    t,
    booking({ participants: [{ ...proxy, proxy: { name: 'Förälder Lind' } }] }),
    'sms_needs_mobile',
    /Förälder Lind/,
  );
});

test.serial(
  'a patient with a proxy is reached through the proxy: the patient needs no phone of their own',
  async (t) => {
    const child = {
      kind: 'patient_proxy',
      name: 'Barnet Lind',
      identification: 'sms',
      proxy: { name: 'Förälder Lind', mobile: '0731234567' },
    };
    const reply = await book(booking({ participants: [child] }));
    t.is(reply.status, 201, reply.text);
    t.like(reply.json().participants[0], {
      name: 'Barnet Lind',
      mobile: null,
      proxy: { name: 'Förälder Lind', mobile: '+46731234567' },
    });
    const bankid = {
      ...child,
      identification: 'bankid',
      personalNumber: '20121212-1212',
      proxy: { ...child.proxy, personalNumber: '19121212-1212' },
    };
    const withNumbers = await book(booking({ participants: [bankid] }));
    t.is(withNumbers.status, 201, withNumbers.text);
    t.like(withNumbers.json().participants[0], {
      personalNumberMasked: '20121212-****',
      proxy: { personalNumberMasked: '19121212-****' },
    });
    await refused(
      t,
      booking({ participants: [{ ...bankid, proxy: child.proxy }] }),
      'bankid_needs_personal_number',
      /Förälder Lind/,
      'participants.0.proxy.personalNumber',
    );
  },
);

test.serial('phone numbers are read for the chosen country and stored in E.164', async (t) => {
  const reply = await book(
    booking({ participants: [patientBySms, { ...socialWorkerBySms, country: 'NO', mobile: '412 34 567' }] }),
  );
  t.is(reply.status, 201, reply.text);
  t.is(reply.json().participants[1].mobile, '+4741234567');
  t.is(reply.json().participants[1].country, 'NO');
});

test.serial('a mobile number must be a valid number for its country', async (t) => {
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, mobile: '070-12' }] }),
    'phone_invalid',
    /070-12 är inte ett giltigt telefonnummer i Sverige/,
    'participants.0.mobile',
  );
});

test.serial('a mobile number must be a mobile, not a fixed line', async (t) => {
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, mobile: '08-123 456 78' }] }),
    'phone_not_mobile',
    /är inte ett mobilnummer/,
  );
});

test.serial('an unknown country is refused', async (t) => {
  await refused(
    t,
    booking({ participants: [{ ...patientBySms, country: 'XX' }] }),
    'country_unknown',
    /XX känns inte igen/,
  );
});

test.serial('an e-mail address must be valid', async (t) => {
  await refused(
    t,
    booking({ participants: [patientBySms, { ...teacherByEmail, email: 'eva.ek@' }] }),
    'email_invalid',
    /eva.ek@ är inte en giltig mejladress/,
  );
});

test.serial('a colleague is a staff account and is identified with SITHS', async (t) => {
  const { staff: colleague } = await app.staff('clinician', 'Skolhälsovården');
  const reply = await book(
    booking({ participants: [patientBySms, { kind: 'colleague', staffEmail: colleague.email.toUpperCase() }] }),
  );
  t.is(reply.status, 201, reply.text);
  t.like(reply.json().participants[1], {
    kind: 'colleague',
    staffId: colleague.id,
    name: colleague.name,
    identification: 'siths',
  });
  await refused(
    t,
    booking({
      participants: [patientBySms, { kind: 'colleague', staffEmail: colleague.email, identification: 'sms' }],
    }),
    'identification_not_allowed',
    /siths/,
  );
  await refused(
    t,
    booking({ participants: [patientBySms, { kind: 'colleague', staffEmail: 'nobody@region.example' }] }),
    'colleague_unknown',
    /inget aktivt personalkonto för nobody@region.example/,
  );
  await refused(
    t,
    booking({
      participants: [
        patientBySms,
        { kind: 'colleague', staffId: colleague.id },
        { kind: 'colleague', staffEmail: colleague.email },
      ],
    }),
    'colleague_twice',
    /två gånger/,
  );
});

test.serial('the booking clinician is not invited as a colleague: they are the host', async (t) => {
  const { client, staff } = await loggedIn(app);
  const reply = await book(
    booking({ participants: [patientBySms, { kind: 'colleague', staffEmail: staff.email }] }),
    client,
  );
  t.is(reply.status, 400);
  t.is(reply.json().rule, 'colleague_is_host');
});

test.serial('at most the configured number of participants, the host included', async (t) => {
  // MAX_PARTICIPANTS is 5 here: the host and four participants.
  const four = [patientBySms, teacherByEmail, socialWorkerBySms, { ...teacherByEmail, email: 'rektor@skola.example' }];
  t.is((await book(booking({ participants: four }))).status, 201);
  await refused(
    t,
    booking({ participants: [...four, { ...teacherByEmail, email: 'kurator@skola.example' }] }),
    'too_many_participants',
    /Högst 5 personer/,
  );
});

test.serial('a meeting cannot be booked in the past', async (t) => {
  await refused(t, booking({ startsAt: inDays(-1) }), 'starts_in_past', /bakåt i tiden/);
});

test.serial('the booking records how the meeting is documented', async (t) => {
  await refused(t, booking({ documentationPlan: '  ' }), 'documentation_required', /hur mötet dokumenteras/);
});

test.serial(
  'the booking records who leads the meeting: a staff member of the unit, the booker by default',
  async (t) => {
    const { staff: colleague } = await app.staff('clinician');
    const reply = await book(booking({ ledBy: colleague.email }));
    t.is(reply.status, 201, reply.text);
    t.is(reply.json().ledBy, colleague.id);
    const { staff: elsewhere } = await app.staff('clinician', 'Annan enhet');
    await refused(
      t,
      booking({ ledBy: elsewhere.email }),
      'leader_unknown',
      /inget aktivt personalkonto på vårdenheten/,
    );
  },
);

test.serial('a meeting needs a title', async (t) => {
  await refused(t, booking({ title: '' }), 'title_required', /rubrik/);
});

test.serial('malformed input is a 400 that names the field, and stores nothing', async (t) => {
  const before = await countMeetings(app);
  for (const body of [
    booking({ durationMinutes: 0 }),
    booking({ startsAt: 'tomorrow' }),
    booking({ participants: [{ ...patientBySms, kind: 'doctor' }] }),
    booking({ participants: 'everyone' }),
    { title: 'x' },
  ]) {
    const reply = await book(body);
    t.is(reply.status, 400, JSON.stringify(body));
    t.truthy(reply.json().message);
  }
  t.is(await countMeetings(app), before);
});

test.serial('a NUL character in a title, plan or name is a 400, and stores nothing', async (t) => {
  // PostgreSQL text cannot hold one: refused with the other malformed input, not a failed insert.
  const before = await countMeetings(app);
  for (const body of [
    booking({ title: 'Samordnad planering\u0000' }),
    booking({ documentationPlan: 'Anteckning\u0000' }),
    booking({ participants: [{ ...patientBySms, name: 'Sara\u0000Lind' }] }),
    booking({ ledBy: 'kollega\u0000@region.example' }),
  ]) {
    const reply = await book(body);
    t.is(reply.status, 400, `${JSON.stringify(body)}: ${reply.text}`);
  }
  t.is(await countMeetings(app), before);
});

test.serial('rule messages come in English when the person chose English', async (t) => {
  const reply = await book(
    booking({ participants: [patientBySms, { ...teacherByEmail, mobile: '0701234567' }] }),
    english,
  );
  t.is(reply.status, 400);
  t.regex(reply.json().message, /A guest cannot have both a mobile number and an e-mail address/);
});

test.serial(
  "the API's field checks speak the same language as its rules: Swedish, or what Accept-Language asks for",
  async (t) => {
    const before = await countMeetings(app);
    const wrong = { ...booking({ startsAt: '2030-02-30T10:00:00+01:00', durationMinutes: 500 }), title: undefined };
    const swedish = await book(wrong);
    t.is(swedish.status, 400);
    t.is(
      swedish.json().message,
      'title saknas. startsAt ska vara ett datum som finns i kalendern. durationMinutes får vara högst 480.',
    );
    const asked = await clinician.request('POST', '/api/v1/meetings', {
      json: wrong,
      headers: { 'accept-language': 'en-GB,en;q=0.9,sv;q=0.5' },
    });
    t.is(
      asked.json().message,
      'title is required. startsAt must be a date that exists in the calendar. durationMinutes must be at most 480.',
    );
    // A rule's message follows the header too, as it follows the language switch.
    const rule = await clinician.request('POST', '/api/v1/meetings', {
      json: booking({ participants: [patientBySms, { ...teacherByEmail, mobile: '0701234567' }] }),
      headers: { 'accept-language': 'en' },
    });
    t.regex(rule.json().message, /A guest cannot have both a mobile number and an e-mail address/);
    const preferSwedish = await clinician.request('POST', '/api/v1/meetings', {
      json: wrong,
      headers: { 'accept-language': 'en;q=0.4, sv' },
    });
    t.regex(preferSwedish.json().message, /^title saknas\./);
    t.is(await countMeetings(app), before, 'nothing is stored');
  },
);

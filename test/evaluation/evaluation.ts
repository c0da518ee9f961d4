// Evaluation as the routine asks for it: each participant answers predetermined questions once —
// on the page they reach when leaving the meeting, or through the link in the request that the
// outbox sends after the meeting ends — and the unit sees anonymised results.
import { randomInt } from 'node:crypto';
import test from 'ava';
import { defaultQuestions } from '../../appliance/src/db/migrations/0011_evaluation.ts';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { findMeeting } from '../../appliance/src/meetings/store.ts';
import type { Meeting } from '../../appliance/src/meetings/model.ts';
import { answer, offerToParticipant } from '../../appliance/src/evaluation/service.ts';
import { loggedIn } from '../meetings/_booking.ts';
import { present } from '../helpers/present.ts';
import {
  bookMeeting,
  guestEnters,
  mailsTo,
  patientEnters,
  smsTo,
  startWorld,
  until,
  type World,
} from '../connlog/_meeting.ts';

let world: World;
test.before(async () => {
  world = await startWorld();
});
test.after.always(() => world?.stop());

const setIdOf = (html: string) => present(/name="setId" value="([^"]+)"/.exec(html)?.[1], "the form's question set");
/** The booked meeting as the store has it, and its participants in the order they were booked. */
const bookedMeeting = async (meetingId: string) =>
  present(await findMeeting(world.app.server.app.db, meetingId), `meeting ${meetingId}`);
const participant = (meeting: Meeting, index: number) =>
  present(meeting.participants[index], `participant ${index + 1} of the meeting`);
/** How many have been asked to evaluate the meeting. */
const respondentsOf = async (meetingId: string) => {
  const counted = await world.app.server.app
    .db('evaluation_respondents')
    .where({ meeting_id: meetingId })
    .count({ n: '*' })
    .first();
  return Number(present(counted, 'a count').n);
};
const answers = { q_sound_picture: '4', q_could_say: '5', q_digital_suited: 'yes', q_comment: 'Bra att slippa resa.' };
/** A booked meeting under way: someone came into its room (what the rooms plugin records). */
async function heldMeeting() {
  const booked = await bookMeeting(world);
  await world.app.server.plugins.meetings.service.advanceStatus(booked.meetingId, 'in_progress');
  return booked;
}
/** The rooms plugin emits 'room.ended' in production when staff end the meeting for everyone. */
const endRoom = (meetingId: string) =>
  world.app.server.app.bus.emit(
    'room.ended' as never,
    { meetingId, reason: 'ended_by_staff', byStaffId: null } as never,
  );

test('a guest answers the evaluation on the page after leaving the meeting, and only once', async (t) => {
  const booked = await heldMeeting();
  const guest = await guestEnters(world, booked);
  const page = await guest.get('/entry/evaluation');
  t.is(page.status, 200);
  for (const q of defaultQuestions) t.true(page.text.includes(q.text.sv), q.id);
  const sent = await guest.request('POST', '/entry/evaluation', {
    form: { crumb: guest.crumb ?? '', setId: setIdOf(page.text), ...answers },
  });
  t.is(sent.status, 200);
  t.regex(sent.text, /Tack för dina svar/);
  const again = await guest.request('POST', '/entry/evaluation', {
    form: { crumb: guest.crumb ?? '', setId: setIdOf(page.text), ...answers },
  });
  t.is(again.status, 409);
  t.regex(again.text, /Du har redan svarat/);
  t.is((await guest.get('/entry/evaluation')).status, 409);
  const [row] = await world.app.server.app
    .db('evaluation_responses')
    .where({ role: 'guest' })
    .andWhere('answers', 'like', '%"could_say":5%');
  t.truthy(row);
  t.deepEqual(JSON.parse(row.answers), {
    sound_picture: 4,
    could_say: 5,
    digital_suited: true,
    comment: 'Bra att slippa resa.',
  });
  t.false(
    Object.values(row).some((v) => v === booked.guestId || v === booked.meetingId),
    'the answer names neither person nor meeting',
  );
});

test('a guest asking for the evaluation before the meeting is held is told so, and nothing is kept', async (t) => {
  const booked = await bookMeeting(world);
  const guest = await guestEnters(world, booked);
  const page = await guest.get('/entry/evaluation');
  t.is(page.status, 409);
  t.regex(page.text, /Mötet har inte hållits än/);
  t.false(page.text.includes('name="setId"'), 'no form');
  t.is(await respondentsOf(booked.meetingId), 0);
  // Once someone came into the room, the form is there.
  await world.app.server.plugins.meetings.service.advanceStatus(booked.meetingId, 'in_progress');
  t.is((await guest.get('/entry/evaluation')).status, 200);
});

test('an answer outside the scale is refused with the form again, and nothing is stored', async (t) => {
  const booked = await heldMeeting();
  const guest = await guestEnters(world, booked);
  const page = await guest.get('/entry/evaluation');
  const bad = await guest.request('POST', '/entry/evaluation', {
    form: { crumb: guest.crumb ?? '', setId: setIdOf(page.text), ...answers, q_sound_picture: '9' },
  });
  t.is(bad.status, 400);
  t.regex(bad.text, /kunde inte läsas/);
  t.is(
    (
      await guest.request('POST', '/entry/evaluation', {
        form: { crumb: guest.crumb ?? '', setId: setIdOf(page.text), q_sound_picture: '3' },
      })
    ).status,
    200,
    'the person can still answer',
  );
});

test('a guest who took part answers through the e-mailed link after the meeting ends; a second answer is refused', async (t) => {
  const patientEmail = `sara.${Math.random().toString(36).slice(2)}@post.example`;
  const booked = await bookMeeting(world, {
    participants: [
      {
        kind: 'patient',
        name: 'Sara Lind',
        email: patientEmail,
        identification: 'bankid',
        personalNumber: '19121212-1212',
      },
      {
        kind: 'guest',
        name: 'Lärare Eva Ek',
        email: `eva.${Math.random().toString(36).slice(2)}@skola.example`,
        identification: 'none',
      },
    ],
  });
  const guestEmail = present(participant(await bookedMeeting(booked.meetingId), 1).email, "the teacher's e-mail");
  await guestEnters(world, { ...booked, guestEmail });
  endRoom(booked.meetingId);
  const mail = await until('the evaluation request', () =>
    mailsTo(world, guestEmail).find((m) => /\/e\//.test(m.text ?? '')),
  );
  t.regex(mail.subject ?? '', /Hur fungerade det digitala mötet/);
  const path = present(/http:\/\/[^/]+(\/e\/[\w-]+)/.exec(mail.text ?? '')?.[1], 'the link in the request');
  const token = path.slice(3);
  const guest = world.app.client();
  // Opening the link (a mail scanner does too) shows the form and spends nothing.
  for (let i = 0; i < 2; i++) t.is((await guest.get(path)).status, 200);
  const page = await guest.get(path);
  t.is(page.headers.get('referrer-policy'), 'no-referrer');
  const sent = await guest.request('POST', '/e', {
    form: { crumb: guest.crumb ?? '', token, setId: setIdOf(page.text), ...answers },
  });
  t.is(sent.status, 200);
  t.regex(sent.text, /Tack för dina svar/);
  const again = await guest.request('POST', '/e', {
    form: { crumb: guest.crumb ?? '', token, setId: setIdOf(page.text), ...answers },
  });
  t.is(again.status, 409);
  t.regex(again.text, /Du har redan svarat/);
  // The link opened again (the mail found a week later) says so, not that the link is broken.
  const reopened = await guest.get(path);
  t.is(reopened.status, 409);
  t.regex(reopened.text, /Du har redan svarat/);
  t.notRegex(reopened.text, /name="q_/, 'no form to answer again');
  t.false(world.app.logs().includes(token), 'the token never reaches a log line');
  const stored = await world.app.server.app.db('evaluation_responses').where({ role: 'guest' });
  t.true(stored.length >= 1);
  // Ending the room again asks nobody twice.
  endRoom(booked.meetingId);
  await new Promise((r) => setTimeout(r, 300));
  t.is(mailsTo(world, guestEmail).filter((m) => /\/e\//.test(m.text ?? '')).length, 1);
  // The patient never came through the way in: they had no digital meeting to judge.
  t.is(mailsTo(world, patientEmail).filter((m) => /\/e\//.test(m.text ?? '')).length, 0);
});

test('only those who got in are asked: the patient who came in by code, not the proxy who never opened their link', async (t) => {
  const requests = world.app.server.plugins.evaluation.requests;
  const proxyMobile = `070${randomInt(1_000_000, 9_999_999)}`;
  const booked = await bookMeeting(world, {
    participants: [
      {
        kind: 'patient_proxy',
        name: 'Sara Lind',
        mobile: `070${randomInt(1_000_000, 9_999_999)}`,
        identification: 'sms',
        proxy: { name: 'Per Lind', mobile: proxyMobile },
      },
    ],
  });
  const meeting = await bookedMeeting(booked.meetingId);
  const patient = participant(meeting, 0);
  const patientMobile = present(patient.mobile, "the patient's mobile");
  await patientEnters(world, { ...booked, patientE164: patientMobile });
  const end = meeting.startsAt.getTime() + meeting.durationMinutes * 60_000;
  t.is(await requests.requestFor(booked.meetingId, new Date(end + 2 * 3600_000)), 1);
  const asked = await world.app.server.app
    .db('evaluation_respondents')
    .where({ meeting_id: booked.meetingId })
    .select('subject', 'role');
  t.deepEqual(asked, [{ subject: `p:${patient.id}:main`, role: 'patient' }]);
  world.app.server.plugins.invites.dispatcher()?.notify();
  await until('the request to the patient', () => smsTo(world, patientMobile).find((x) => /\/e\//.test(x)));
  t.false(
    smsTo(world, present(patient.proxy?.mobile, "the proxy's mobile")).some((x) => /\/e\//.test(x)),
    'the proxy is not asked',
  );
});

test('requests go out an hour after the booked end, once, and never for a cancelled meeting', async (t) => {
  const requests = world.app.server.plugins.evaluation.requests;
  const booked = await bookMeeting(world);
  // Both came through the way in: the patient by SMS code, the guest by name.
  await Promise.all([patientEnters(world, booked), guestEnters(world, booked)]);
  const cancelled = await bookMeeting(world);
  t.is(
    (
      await cancelled.clinician.request('POST', `/api/v1/meetings/${cancelled.meetingId}/cancel`, {
        json: { version: 1, reason: 'Sjuk' },
      })
    ).status,
    200,
  );
  const meeting = await bookedMeeting(booked.meetingId);
  const end = meeting.startsAt.getTime() + meeting.durationMinutes * 60_000;
  t.is(await requests.requestFor(cancelled.meetingId, new Date(end + 2 * 3600_000)), 0);
  await requests.due(new Date(end + 59 * 60_000));
  t.is(await respondentsOf(booked.meetingId), 0, 'not before end + 1 h');
  const n = await requests.due(new Date(end + 61 * 60_000));
  t.true(n >= 2, 'the patient by SMS and the guest by e-mail');
  t.is(await requests.requestFor(booked.meetingId, new Date(end + 62 * 60_000)), 0, 'once');
  world.app.server.plugins.invites.dispatcher()?.notify();
  const sms = await until('the SMS request', () =>
    world.smsc.arrivals.find(
      (a) =>
        a.pdu.destination_addr === booked.patientE164.slice(1) && /\/e\//.test(JSON.stringify(a.pdu.short_message)),
    ),
  );
  t.truthy(sms);
  t.is(await respondentsOf(cancelled.meetingId), 0);
});

test('results show counts, averages and distributions, and free text only from five respondents up', async (t) => {
  const db = world.app.server.app.db;
  const unit = 'Hudmottagningen';
  const { client: clinician, staff } = await loggedIn(world.app, 'clinician', unit);
  const answerAs = async (meetingId: string, participantIndex: number, comment: string, scale: string) => {
    const meeting = await bookedMeeting(meetingId);
    const offer = await offerToParticipant(db, meeting, participant(meeting, participantIndex), 'main');
    await answer(db, offer.respondent, offer.set.id, {
      q_sound_picture: scale,
      q_digital_suited: 'no',
      q_comment: comment,
    });
  };
  const book = async () => {
    const reply = await clinician.request('POST', '/api/v1/meetings', {
      json: {
        title: 'Uppföljning',
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
        durationMinutes: 30,
        documentationPlan: 'Journal',
        participants: [
          { kind: 'patient', name: 'Per Persson', mobile: '0701112233', identification: 'sms' },
          { kind: 'guest', name: 'Kim Berg', email: 'kim@example.org', identification: 'none' },
        ],
      },
    });
    const id = reply.json().id as string;
    // Held: someone came into its room (an evaluation is of a meeting held).
    await world.app.server.plugins.meetings.service.advanceStatus(id, 'in_progress');
    return id;
  };
  const first = await book();
  const second = await book();
  await answerAs(first, 0, 'Hemligt omdöme ett', '5');
  await answerAs(first, 1, 'Hemligt omdöme två', '3');
  await answerAs(second, 0, 'Hemligt omdöme tre', '4');
  await answerAs(second, 1, 'Hemligt omdöme fyra', '4');
  const period = `from=${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10)}`;

  const few = await clinician.get(`/evaluation/results?${period}`);
  t.is(few.status, 200);
  t.regex(few.text, /Svar<\/dt><dd>4</);
  t.regex(few.text, /medelvärde 4/);
  t.false(few.text.includes('Hemligt omdöme'), 'four respondents: no free text');
  t.regex(few.text, /visas först när minst 5 personer/);
  const fewCsv = await clinician.get(`/evaluation/results.csv?${period}`);
  t.is(fewCsv.status, 200);
  t.false(fewCsv.text.includes('Hemligt omdöme'));
  t.false(few.text.includes('Per Persson') || few.text.includes('Kim Berg'));

  const third = await book();
  await answerAs(third, 0, 'Hemligt omdöme fem', '2');
  const enough = await clinician.get(`/evaluation/results?${period}`);
  t.regex(enough.text, /Hemligt omdöme ett/);
  t.regex(enough.text, /Hemligt omdöme fem/);
  const csv = await clinician.get(`/evaluation/results.csv?${period}`);
  t.regex(csv.text, /Hemligt omdöme fem/);
  t.regex(csv.text, /Hur fungerade ljud och bild\?;scale;5;3,6;0;1;1;2;1/);
  // Narrowed to one role, the group is small again.
  t.false((await clinician.get(`/evaluation/results?${period}&role=guest`)).text.includes('Hemligt omdöme'));

  // Another unit's clinician sees nothing of this unit; an admin may.
  const { client: other } = await loggedIn(world.app, 'clinician', 'Ögonmottagningen');
  t.is((await other.get(`/evaluation/results?${period}&unitId=${staff.unitId}`)).status, 403);
  const { client: admin } = await loggedIn(world.app, 'admin');
  t.regex((await admin.get(`/evaluation/results?${period}&unitId=${staff.unitId}`)).text, /Hemligt omdöme tre/);
  const { client: support } = await loggedIn(world.app, 'support');
  t.is((await support.get('/evaluation/results')).status, 403);
});

test("an admin's edit makes a new version; answers already given keep theirs", async (t) => {
  const db = world.app.server.app.db;
  const booked = await heldMeeting();
  const meeting = await bookedMeeting(booked.meetingId);
  const before = await offerToParticipant(db, meeting, participant(meeting, 0), 'main');
  await answer(db, before.respondent, before.set.id, { q_sound_picture: '5' });
  const { client: admin } = await loggedIn(world.app, 'admin');
  await admin.get(`/evaluation/sets/${meeting.unitId}/patient`);
  const saved = await admin.submit(
    `/evaluation/sets/${meeting.unitId}/patient`,
    {
      q0_id: 'sound_picture',
      q0_type: 'scale',
      q0_sv: 'Hur var ljudet och bilden?',
      q0_en: 'How were sound and picture?',
      q1_id: '',
      q1_type: 'yes_no',
      q1_sv: 'Skulle du vilja ha nästa möte digitalt?',
      q1_en: 'Would you like the next meeting to be digital?',
    },
    `/evaluation/sets/${meeting.unitId}/patient`,
  );
  t.is(saved.status, 302);
  const after = await offerToParticipant(db, meeting, participant(meeting, 0), 'main');
  t.not(after.set.id, before.set.id);
  t.is(after.set.version, 2);
  t.deepEqual(
    after.set.questions.map((q) => q.type),
    ['scale', 'yes_no'],
  );
  const [old] = await db('evaluation_responses')
    .where({ set_id: before.set.id })
    .andWhere('answers', '{"sound_picture":5}');
  t.truthy(old, 'the earlier answer still points at version 1');
  const page = await admin.get('/evaluation/sets');
  t.is(page.status, 200);
});

test("a comment written in paragraphs up to the field's limit is kept whole (line breaks sent as CR LF)", async (t) => {
  const booked = await heldMeeting();
  const page = await booked.clinician.get(`/evaluation/meeting/${booked.meetingId}`);
  // 2,000 characters as the textarea counts them (its maxlength), a line break one each.
  const line = 'Ljudet bröts ibland men bilden var bra; nästa gång vill vi gärna ha mötet digitalt igen, tack!';
  const comment = Array.from({ length: 20 }, () => line.padEnd(99, '.')).join('\n') + '!';
  t.is(comment.length, 2000);
  const sent = await booked.clinician.request('POST', `/evaluation/meeting/${booked.meetingId}`, {
    form: {
      crumb: booked.clinician.crumb ?? '',
      setId: setIdOf(page.text),
      q_comment: comment.replace(/\n/g, '\r\n'),
    },
  });
  t.is(sent.status, 200);
  // Answers are stored without who gave them: this one is found by its text.
  const [response] = await world.app.server.app
    .db('evaluation_responses')
    .where('answers', 'like', '%Ljudet bröts ibland%')
    .select('answers');
  t.is(JSON.parse(response.answers).comment, comment);
});

test('a new question with only its Swedish text is refused by name, the editor keeping what was typed', async (t) => {
  const { staff } = await world.app.staff('clinician', 'Rehabilitering');
  const { client: admin } = await loggedIn(world.app, 'admin');
  const editor = `/evaluation/sets/${staff.unitId}/guest`;
  await admin.get(editor);
  const before = await world.app.server.app.db('evaluation_sets').count({ n: '*' }).first();
  const refused = await admin.submit(
    editor,
    {
      q0_id: '',
      q0_type: 'scale',
      q0_sv: 'Hur fungerade tekniken för dig?',
      q0_en: 'How did the technology work for you?',
      q1_id: '',
      q1_type: 'yes_no',
      q1_sv: 'Fick du den information du behövde före mötet?',
      q1_en: '',
    },
    editor,
  );
  t.is(refused.status, 400);
  t.regex(refused.text, /Fråga 2 behöver text på både svenska och engelska/);
  t.true(refused.text.includes('Fick du den information du behövde före mötet?'), 'the typed text is still there');
  t.true(refused.text.includes('How did the technology work for you?'));
  t.deepEqual(await world.app.server.app.db('evaluation_sets').count({ n: '*' }).first(), before, 'nothing saved');
});

test('a question set of more than thirty questions is refused with the reason, not saved without the last ones', async (t) => {
  const { staff } = await world.app.staff('clinician', 'Logopedi');
  const { client: admin } = await loggedIn(world.app, 'admin');
  const editor = `/evaluation/sets/${staff.unitId}/guest`;
  await admin.get(editor);
  const form: Record<string, string> = {};
  for (let i = 0; i < 31; i++)
    Object.assign(form, {
      [`q${i}_id`]: '',
      [`q${i}_type`]: 'scale',
      [`q${i}_sv`]: `Fråga nummer ${i + 1}?`,
      [`q${i}_en`]: `Question number ${i + 1}?`,
    });
  const before = await world.app.server.app.db('evaluation_sets').count({ n: '*' }).first();
  const refused = await admin.submit(editor, form, editor);
  t.is(refused.status, 400);
  t.regex(refused.text, /högst 30 frågor/);
  t.true(refused.text.includes('Fråga nummer 31?'), 'the last question typed is still there');
  t.deepEqual(await world.app.server.app.db('evaluation_sets').count({ n: '*' }).first(), before, 'nothing saved');
});

test('the audit log records that a staff member opened the evaluation, not the moment they answered it', async (t) => {
  const booked = await heldMeeting();
  const db = world.app.server.app.db;
  const page = await booked.clinician.get(`/evaluation/meeting/${booked.meetingId}`);
  t.is(page.status, 200);
  const opened = await findAudit(db, { meetingId: booked.meetingId, action: 'evaluation.offer' });
  t.is(opened.length, 1, 'opening the form is an access to the meeting');
  const sent = await booked.clinician.request('POST', `/evaluation/meeting/${booked.meetingId}`, {
    form: { crumb: booked.clinician.crumb ?? '', setId: setIdOf(page.text), q_could_say: '1' },
  });
  t.is(sent.status, 200);
  // The answers keep no time and no order; a record written as they were given would give them both.
  t.deepEqual(
    (await findAudit(db, { meetingId: booked.meetingId, action: 'evaluation.offer' })).map((r) => r.id),
    opened.map((r) => r.id),
  );
});

test('the host evaluates from the staff page; a clinician who was not in the meeting cannot', async (t) => {
  const booked = await heldMeeting();
  const page = await booked.clinician.get(`/evaluation/meeting/${booked.meetingId}`);
  t.is(page.status, 200);
  const sent = await booked.clinician.request('POST', `/evaluation/meeting/${booked.meetingId}`, {
    form: { crumb: booked.clinician.crumb ?? '', setId: setIdOf(page.text), q_sound_picture: '2' },
  });
  t.is(sent.status, 200);
  t.is((await booked.clinician.get(`/evaluation/meeting/${booked.meetingId}`)).status, 409);
  const [respondent] = await world.app.server.app
    .db('evaluation_respondents')
    .where({ meeting_id: booked.meetingId })
    .andWhere('subject', 'like', 's:%');
  t.is(respondent.role, 'staff');
  const { client: other } = await loggedIn(world.app, 'clinician');
  t.is((await other.get(`/evaluation/meeting/${booked.meetingId}`)).status, 403);
});

test("a staff member's evaluation of a meeting not yet held is refused, in Swedish then English, and nothing is kept", async (t) => {
  const booked = await bookMeeting(world);
  const path = `/evaluation/meeting/${booked.meetingId}`;
  const page = await booked.clinician.get(path);
  t.is(page.status, 409, 'the form is not offered');
  t.regex(page.text, /Mötet har inte hållits än/);
  t.regex(page.text, /Du kan utvärdera mötet när det har hållits\./);
  t.false(page.text.includes('name="setId"'), 'no form');
  // Answers sent all the same (a form kept open from elsewhere, a script): refused, nothing stored.
  const setId = (await world.app.server.app.db('evaluation_sets').first('id')).id as string;
  const sent = await booked.clinician.request('POST', path, {
    form: { crumb: booked.clinician.crumb ?? '', setId, q_sound_picture: '3' },
  });
  t.is(sent.status, 409);
  t.regex(sent.text, /Mötet har inte hållits än/);
  // Answers are kept without who gave them, only with a respondent marked as having answered.
  t.is(await respondentsOf(booked.meetingId), 0, 'nobody recorded as asked, nobody as having answered');
  await booked.clinician.get(`/lang/en?next=${path}`);
  const english = await booked.clinician.get(path);
  t.is(english.status, 409);
  t.regex(english.text, /The meeting has not been held yet/);
  t.regex(english.text, /You can evaluate the meeting once it has been held\./);

  // Once held, the same form takes the answers.
  await world.app.server.plugins.meetings.service.advanceStatus(booked.meetingId, 'in_progress');
  const held = await booked.clinician.get(path);
  t.is(held.status, 200);
  const answered = await booked.clinician.request('POST', path, {
    form: { crumb: booked.clinician.crumb ?? '', setId: setIdOf(held.text), q_sound_picture: '3' },
  });
  t.is(answered.status, 200);
  t.is(await respondentsOf(booked.meetingId), 1);
});

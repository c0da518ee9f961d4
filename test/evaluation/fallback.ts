// An evaluation request whose SMS the network could not deliver goes by e-mail, like every other
// message, and its link must open the evaluation: the token is the evaluation's, not a way in.
import test from 'ava';
import { defaultQuestions } from '../../appliance/src/db/migrations/0011_evaluation.ts';
import { findMeeting } from '../../appliance/src/meetings/store.ts';
import { startStage } from '../helpers/stage.ts';
import { present } from '../helpers/present.ts';
import { bookMeeting, mailsTo, patientEnters, until, type World } from '../connlog/_meeting.ts';

let world: World;
test.before(async () => {
  world = await startStage({
    relay: true,
    // The evaluation request (its link /e/…) never reaches the phone; everything else does.
    smsc: (arrival, index) => {
      const text = JSON.stringify(arrival.pdu.short_message);
      const stat = /\/e\//.test(text) ? 'UNDELIV' : 'DELIVRD';
      return { id: `f${index}`, receipt: { id: `f${index}`, stat } };
    },
  });
});
test.after.always(() => world?.stop());

test("an evaluation request the patient's phone never got comes by e-mail, and its link opens the evaluation", async (t) => {
  const email = `sara.${Math.random().toString(36).slice(2)}@example.se`;
  const booked = await bookMeeting(world, {
    participants: [{ kind: 'patient', name: 'Sara Lind', mobile: '0701234567', email, identification: 'sms' }],
  });
  await patientEnters(world, { ...booked, patientE164: '+46701234567' });
  const meeting = present(await findMeeting(world.app.server.app.db, booked.meetingId), 'the meeting');
  const end = meeting.startsAt.getTime() + meeting.durationMinutes * 60_000;
  t.is(
    await world.app.server.plugins.evaluation.requests.requestFor(booked.meetingId, new Date(end + 2 * 3600_000)),
    1,
  );
  world.app.server.plugins.invites.dispatcher()?.notify();
  const mail = await until('the request by e-mail', () =>
    mailsTo(world, email).find((m) => /\/e\//.test(m.text ?? '')),
  );
  const path = present(/http:\/\/[^/\s]+(\/e\/[\w-]+)/.exec(mail.text ?? '')?.[1], 'the link in the e-mail');
  const page = await world.app.client().get(path);
  t.is(page.status, 200, page.text.slice(0, 500));
  for (const q of defaultQuestions) t.true(page.text.includes(q.text.sv), q.id);
});

// One durable commit per action (ARCHITECTURE.md, the data path), counted as the database sees them
// for the way in, the evaluation and staff login: a change writes its records (audit, connection
// log, the participant's status) in its own transaction; a try that changes nothing else (a wrong
// SMS code, a rate limit's count) rides the group commit, shared with other requests, and is
// durable before the answer. The outbox's dispatcher, sending in the background, is counted apart:
// what its messages' statuses cause commits in its own batches. Runs on this pass's engine (TEST_DB).
import test from 'ava';
import { createToken } from '../../appliance/src/staff/service.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';
import { commitsOf, watchCommits } from '../helpers/commits.ts';
import { present } from '../helpers/present.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { startServer, type Client, type TestServer } from '../helpers/server.ts';
import { passedAnswers } from '../helpers/techtest.ts';
import { delivered, startSmsc, type TestSmsc } from '../helpers/smsc.ts';
import { until } from '../helpers/wait.ts';

const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

let app: TestServer;
let relay: Relay;
let smsc: TestSmsc;
test.before(async () => {
  relay = await startRelay();
  smsc = await startSmsc(delivered('e'));
  app = await startServer({ env: { SMTP_URL: relay.url, SMPP_URL: smsc.url, REMINDER_OFFSETS: 'none' } });
});
test.after.always(async () => {
  await app?.stop();
  await smsc?.close();
  await relay?.close();
});

const smsTo = (number: string) =>
  smsc.arrivals
    .filter((a) => a.pdu.destination_addr === number.replace('+', ''))
    .map((a) => {
      const sm = a.pdu.short_message as { message?: string } | string;
      return typeof sm === 'string' ? sm : String(sm.message ?? '');
    });

/** Books a meeting for a teacher invited by e-mail and a patient by SMS; returns both links. */
async function book(mobile: string): Promise<{ emailLink: string; smsLink: string; meetingId: string }> {
  const { client } = await loggedIn(app);
  const email = `eva.${Math.random().toString(36).slice(2)}@skola.example`;
  const booked = await client.request('POST', '/api/v1/meetings', {
    json: booking({
      participants: [
        { kind: 'patient', name: 'Sara Lind', mobile, identification: 'sms' },
        { kind: 'guest', name: 'Lärare Eva Ek', email, identification: 'none' },
      ],
    }),
  });
  const mail = await until(`the mail to ${email}`, () =>
    relay.received.find((m) => m.to && 'text' in m.to && m.to.text.includes(email)),
  );
  const smsLink = await until(`the SMS to ${mobile}`, () => /\/j\/[\w-]{24}/.exec(smsTo(mobile).join(''))?.[0]);
  return {
    emailLink: present(/http:\/\/[^/]+(\/j\/[\w-]+)/.exec(mail.text ?? '')?.[1], 'the link in the invitation mail'),
    smsLink,
    meetingId: booked.json<{ id: string }>().id,
  };
}

const typeName = (guest: Client, link: string, name: string) =>
  guest.request('POST', '/j', {
    form: { crumb: guest.crumb ?? '', token: link.slice(3), name },
    headers: { 'user-agent': chrome },
  });

const none: string[][] = [];
const counts = (c: { own: unknown[]; shared: unknown[] }) => `${c.own.length} (${c.shared.length})`;

test.serial(
  "a guest's way in: the link opened writes nothing; a wrong name, the right one and the tech test are one commit each",
  async (t) => {
    const { emailLink } = await book('+46701112201');
    const guest = app.client();

    const opened = await commitsOf(app, () => guest.get(emailLink, { 'user-agent': chrome }));
    t.is(opened.result.status, 200);
    t.deepEqual(opened.own, none, 'opening the link writes nothing of its own (its rate limit rides the group commit)');

    const wrong = await commitsOf(app, () => typeName(guest, emailLink, 'Lärare Eva Eck'));
    t.is(wrong.result.status, 400);
    t.deepEqual(wrong.own, [['connlog_entries', 'entry_persons']], "the try and the log's name_failed, one commit");

    const right = await commitsOf(app, () => typeName(guest, emailLink, 'Lärare Eva Ek'));
    t.is(right.result.status, 200);
    t.deepEqual(
      right.own,
      [['connlog_entries', 'entry_persons', 'guest_sessions', 'participants']],
      'the try, the bind, the session, the identification, the status and the log, one commit',
    );

    const tested = await commitsOf(app, () => guest.request('POST', '/entry/test/results', { json: passedAnswers }));
    t.true(tested.result.status < 300, tested.result.text);
    t.deepEqual(
      tested.own,
      [['connlog_entries', 'participants', 'techtest_results']],
      "the test's result, the participant's status and the log's entry, one commit",
    );
    t.log(
      `own (shared) commits: link ${counts(opened)}, wrong name ${counts(wrong)}, name and bind ${counts(right)}, tech test ${counts(tested)}`,
    );
  },
);

test.serial('an SMS code asked for is one commit; a wrong code and the right one ride the group commit', async (t) => {
  const mobile = '+46701112202';
  const { smsLink } = await book(mobile);
  const guest = app.client();
  await guest.get(smsLink, { 'user-agent': chrome });
  t.is((await typeName(guest, smsLink, 'Sara Lind')).status, 302);

  // The first visit to the code page sends the first code.
  const asked = await commitsOf(app, () => guest.get('/entry/code'));
  t.is(asked.result.status, 200);
  t.deepEqual(
    asked.own,
    [['attempt_counters', 'entry_persons', 'outbox_messages']],
    "the number's count, the code and its SMS in the outbox, one commit",
  );
  const sms = await until('the code', () => smsTo(mobile).find((text) => text.startsWith('Din kod')));
  const code = present(/: (\d{6})\./.exec(sms)?.[1], 'the code in the SMS');

  const wrong = await commitsOf(app, () =>
    guest.request('POST', '/entry/code', {
      form: { crumb: guest.crumb ?? '', code: code === '000000' ? '111111' : '000000' },
    }),
  );
  t.is(wrong.result.status, 400);
  t.deepEqual(wrong.own, none, 'a wrong code is a try and nothing else: no commit of its own');
  t.true(
    wrong.shared.some((tables) => tables.includes('entry_persons')),
    'the try is counted in a group commit, durable before the answer',
  );

  const right = await commitsOf(app, () =>
    guest.request('POST', '/entry/code', { form: { crumb: guest.crumb ?? '', code } }),
  );
  t.is(right.result.status, 200);
  t.deepEqual(right.own, none);
  t.true(
    right.shared.some((tables) =>
      ['connlog_entries', 'entry_persons', 'participants'].every((table) => tables.includes(table)),
    ),
    'the try, the identification, the status and the log in one write of the group commit',
  );
  t.log(`own (shared) commits: code asked ${counts(asked)}, wrong code ${counts(wrong)}, right code ${counts(right)}`);
});

test.serial('an evaluation offered writes nothing of its own; answered, it is one commit', async (t) => {
  const { emailLink, meetingId } = await book('+46701112203');
  const guest = app.client();
  await guest.get(emailLink, { 'user-agent': chrome });
  t.is((await typeName(guest, emailLink, 'Lärare Eva Ek')).status, 200);
  // An evaluation is of a meeting held: someone came into its room.
  await app.server.plugins.meetings.service.advanceStatus(meetingId, 'in_progress');
  const offered = await commitsOf(app, () => guest.get('/entry/evaluation'));
  t.is(offered.result.status, 200);
  t.deepEqual(offered.own, none, 'the form offered: its respondent row rides the group commit');
  const setId = present(/name="setId" value="([^"]+)"/.exec(offered.result.text)?.[1], "the form's question set");
  const answered = await commitsOf(app, () =>
    guest.request('POST', '/entry/evaluation', {
      form: { crumb: guest.crumb ?? '', setId, q_sound_picture: '4', q_could_say: '5', q_digital_suited: 'yes' },
    }),
  );
  t.is(answered.result.status, 200);
  t.deepEqual(answered.own, [['evaluation_respondents', 'evaluation_responses']]);
  t.log(`own (shared) commits: evaluation offered ${counts(offered)}, answered ${counts(answered)}`);
});

test.serial('a staff login, failed or not, a password change and a logout are one commit each', async (t) => {
  const { staff, password } = await app.staff('clinician');
  const client = app.client();
  await client.get('/login');

  const failed = await commitsOf(app, () => client.login(staff.email, 'fel lösenord'));
  t.is(failed.result.status, 401);
  t.deepEqual(failed.own, [['audit_log', 'staff']], 'the try and its audit record, one commit');
  t.true(
    failed.shared.some((tables) => tables.includes('attempt_counters')),
    'the rate limit rides the group commit',
  );

  const login = await commitsOf(app, () => client.login(staff.email, password));
  t.is(login.result.status, 302);
  t.deepEqual(
    login.own,
    [['attempt_counters', 'audit_log', 'staff', 'staff_sessions']],
    'the try, its rate-limit attempt given back, the session and the audit record',
  );

  const next = 'ett nytt långt lösenord';
  const changed = await commitsOf(app, () =>
    client.request('POST', '/password', { form: { crumb: client.crumb ?? '', current: password, next, repeat: next } }),
  );
  t.is(changed.result.status, 200);
  t.deepEqual(
    changed.own,
    [['audit_log', 'staff', 'staff_sessions']],
    "the new password, the other sessions' end and its audit record",
  );

  const out = await commitsOf(app, () => client.request('POST', '/logout', { form: { crumb: client.crumb ?? '' } }));
  t.is(out.result.status, 302);
  t.deepEqual(out.own, [['audit_log', 'staff_sessions']], "the session's end and its audit record");
  t.log(
    `own (shared) commits: login failed ${counts(failed)}, login ${counts(login)}, password ${counts(changed)}, logout ${counts(out)}`,
  );
});

test.serial(
  "an API call by token writes nothing of its own: the token's last use rides the group commit",
  async (t) => {
    const { staff } = await app.staff('clinician');
    const { token } = await createToken(app.server.app.db, staff.email, 'journalsystem');
    const bearer = { authorization: `Bearer ${token}` };
    const first = await commitsOf(app, () => app.client().get('/api/v1/me', bearer));
    t.is(first.result.status, 200);
    t.deepEqual(first.own, none);
    t.true(
      first.shared.some((tables) => tables.includes('api_tokens')),
      'its first use in a minute is recorded in a group commit, durable before the answer',
    );
    const again = await commitsOf(app, () => app.client().get('/api/v1/me', bearer));
    t.is(again.result.status, 200);
    t.deepEqual(
      [...again.own, ...again.shared.filter((tables) => tables.includes('api_tokens'))],
      none,
      'within the minute: no write',
    );
  },
);

test.serial(
  "invitations sent and delivered: their log entries and the participants' status commit in the outbox's own batches",
  async (t) => {
    const { db } = app.server.app;
    const watch = watchCommits(db);
    try {
      const mobile = '+46701112204';
      await book(mobile);
      // The SMS's receipt moves the patient to delivered (as the e-mail's acceptance moves the teacher).
      const patient: { id: string } = await until('the patient delivered', () =>
        db('participants').where('mobile', 'like', '%701112204').andWhere({ status: 'delivered' }).first('id'),
      );
      await until('the SMS delivered in the log', async () =>
        db('connlog_entries').where({ participant_id: patient.id, type: 'message_delivered' }).first(),
      );
      await app.server.app.groupCommit.settled();
      const afterBooking = watch.commits.filter((c) => !c.tables.has('meetings'));
      const statuses = afterBooking.filter((c) => c.tables.has('participants') || c.tables.has('connlog_entries'));
      t.true(statuses.length > 0, 'the statuses were written');
      t.deepEqual(
        statuses.filter((c) => !c.tables.has('outbox_messages')).map((c) => [...c.tables].sort()),
        none,
        'every commit that wrote a status or a message entry is an outbox batch, none a commit of its own',
      );
    } finally {
      watch.stop();
    }
  },
);

test.serial(
  'a booking reads its care unit once for all its invitations and logs the queued messages in one statement',
  async (t) => {
    const { db } = app.server.app;
    const { client } = await loggedIn(app);
    const statements: string[] = [];
    const listener = (q: { sql: string }) => statements.push(q.sql.trim().toLowerCase());
    db.on('query', listener);
    try {
      const reply = await client.request('POST', '/api/v1/meetings', { json: booking() });
      t.is(reply.status, 201, reply.text);
    } finally {
      db.off('query', listener);
    }
    // Quoted "so" on PostgreSQL, `so` on SQLite.
    const reads = (table: string) => statements.filter((s) => /^select \* from .(\w+)./.exec(s)?.[1] === table).length;
    const inserts = (table: string) => statements.filter((s) => /^insert into .(\w+)./.exec(s)?.[1] === table).length;
    t.is(reads('care_units'), 1, 'three participants, three invitations: one read of their unit');
    t.is(inserts('connlog_entries'), 1, 'the booking and its three queued messages: one insert');
  },
);

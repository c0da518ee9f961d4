// Three appliance processes on one PostgreSQL behind a small round-robin proxy, as hospital IT runs
// two or more: every request of a browser may reach another process. A clinician books (her
// session and CSRF token work on whichever process answers), a guest goes through the link and
// waits (the guest binding holds across processes), the leader opens the room and the waiting
// room on another process moves on, staff on a third see the guest join live. Then the leader is
// killed with SIGKILL mid-meeting: another process leads within 10 s, takes the room and presence
// back from Prosody, the five-minute alert is raised once, and every message went out once.
// PostgreSQL only (SQLite is one process): runs when TEST_DATABASE_URL names a server.
import { randomInt } from 'node:crypto';
import test from 'ava';
import type { XmlElement } from '@xmpp/client';
import { createDb, type Db } from '../../appliance/src/db/knex.ts';
import { addStaff, addUnit } from '../../appliance/src/staff/service.ts';
import { booking } from '../meetings/_booking.ts';
import { chrome } from '../connlog/_meeting.ts';
import { startAppliance, sharedSecrets, type ApplianceProcess } from '../helpers/appliance.ts';
import { postgresDatabase } from '../helpers/databases.ts';
import { roundRobin } from '../helpers/proxy.ts';
import { mucClient, type MucClient } from '../helpers/muc-client.ts';
import { startProsody } from '../helpers/prosody.ts';
import { startRelay } from '../helpers/relay.ts';
import { present } from '../helpers/present.ts';
import { Client, roomControlEnv, testPassword } from '../helpers/server.ts';
import { delivered, startSmsc } from '../helpers/smsc.ts';
import { mailedPath, until } from '../helpers/wait.ts';

const enabled = Boolean(process.env.TEST_DATABASE_URL) && process.env.TEST_DB !== 'sqlite';

/** An event stream read as a browser's EventSource does: every `event:`/`data:` pair, as it comes. */
function eventStream(url: string, cookies: Map<string, string>) {
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const controller = new AbortController();
  const done = fetch(url, {
    headers: { accept: 'text/event-stream', cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    signal: controller.signal,
  })
    .then(async (res) => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    })
    .catch(() => undefined);
  return { events, close: () => (controller.abort(), done) };
}

/** The <destroy> in a presence from a room: the room has ended (XEP-0045). */
const destroyOf = (presence: XmlElement) =>
  presence.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('destroy');

const unit = 'Barn- och ungdomsmedicin';

/** A clinician of the unit, with the tests' password. */
const addClinician = async (db: Db, name: string, email: string) =>
  (await addStaff(db, { email, name, role: 'clinician', unit, password: testPassword })).staff;

/** The clinic every process serves: the unit, and Anna Lind who books for it. */
async function theClinic(db: Db) {
  await addUnit(db, { name: unit, phone: '010-123 45 67' });
  return addClinician(db, 'Anna Lind', 'anna.lind@region.example');
}

const leads = async (port: number) => {
  const reply = await fetch(`http://127.0.0.1:${port}/health/ready`)
    .then((r) => r.text())
    .catch(() => '');
  return reply.includes('this process leads');
};

(enabled ? test.serial : test.skip)(
  'three processes behind a round-robin proxy: the routine across processes, then the leader killed mid-meeting',
  async (t) => {
    // Three processes, Prosody, and the five-minute rule falling due: minutes, not seconds.
    t.timeout(8 * 60_000);
    const database = (await postgresDatabase())!;
    const prosody = await startProsody();
    const relay = await startRelay();
    const smsc = await startSmsc(delivered('p'));
    const processes: ApplianceProcess[] = [];
    const ports: number[] = [];
    const alive = new Set<number>();
    const proxy = await roundRobin(() => ports.filter((p) => alive.has(p)));
    const clients: MucClient[] = [];
    let db: Db | undefined;
    try {
      const env = {
        DATABASE_URL: database.url,
        PUBLIC_URL: proxy.url,
        ...sharedSecrets(),
        ...roomControlEnv(prosody),
        SMTP_URL: relay.url,
        SMPP_URL: smsc.url,
        REMINDER_OFFSETS: 'none',
      };
      for (let i = 0; i < 3; i++) processes.push(startAppliance(env));
      for (const p of processes) {
        const port = await p.running();
        ports.push(port);
        alive.add(port);
      }
      const leader = await until('one process to lead', async () => {
        const leading = [];
        for (const port of ports) if (await leads(port)) leading.push(port);
        return leading.length === 1 ? leading[0] : undefined;
      });
      const others = ports.filter((p) => p !== leader);

      db = createDb(database.url);
      const staff = await theClinic(db);

      // The clinician, through the proxy: the login form, the session and the CSRF token each meet
      // another process.
      const clinician = new Client(proxy.url);
      t.is((await clinician.login(staff.email, testPassword)).status, 302);
      t.is((await clinician.get('/api/v1/me')).status, 200);
      // Started four minutes ago: the five-minute alert falls due a minute from now, around the failover.
      const startsAt = new Date(Date.now() - 4 * 60_000);
      const subscriber = String(randomInt(1_000_000, 9_999_999));
      const guestEmail = `eva.${subscriber}@skola.example`;
      const booked = await clinician.request('POST', '/api/v1/meetings', {
        json: booking({
          startsAt: startsAt.toISOString(),
          participants: [
            { kind: 'patient', name: 'Sara Lind', mobile: `070${subscriber}`, identification: 'sms' },
            { kind: 'guest', name: 'Lärare Eva Ek', email: guestEmail, identification: 'none' },
          ],
        }),
      });
      t.is(booked.status, 201, booked.text);
      const meeting = booked.json();
      const sara = present<{ id: string }>(meeting.participants[0], 'Sara, booked');
      const eva = present<{ id: string }>(meeting.participants[1], 'Eva, booked');
      const without = await clinician.request('POST', '/api/v1/meetings', {
        json: booking(),
        headers: { 'x-csrf-token': 'not-the-token' },
      });
      t.is(without.status, 403, 'a wrong CSRF token is refused whichever process answers');

      // Staff on one process follow the meeting page live.
      const desk = eventStream(`http://127.0.0.1:${others[0]}/meetings/${meeting.id}/events`, clinician.cookies);

      // The guest, through the proxy: the link, the name, then the waiting room on another process
      // than the leader.
      const path = await mailedPath(relay, guestEmail);
      const guest = new Client(proxy.url);
      await guest.get(path, { 'user-agent': chrome });
      const named = await guest.request('POST', '/j', {
        form: { crumb: guest.crumb ?? '', token: path.slice(3), name: 'Lärare Eva Ek' },
        headers: { 'user-agent': chrome },
      });
      // The name accepted: the answer is the technical test page, which stands for /entry/test.
      t.is(named.status, 200, named.text);
      t.regex(named.text, /Starta testet/);
      // Her pages, followed as a browser follows redirects, open on every process.
      for (let i = 0; i < 3; i++) {
        let path = '/entry/test';
        let reply = await guest.get(path, { 'user-agent': chrome });
        for (let hop = 0; hop < 3 && reply.status === 302; hop++)
          reply = await guest.get((path = reply.headers.get('location')!), { 'user-agent': chrome });
        t.is(reply.status, 200, `the guest binding holds on every process (${path})`);
        t.regex(path, /^\/entry/);
      }
      const waiting = eventStream(`http://127.0.0.1:${others[1]}/entry/waiting/events`, guest.cookies);

      // The leader's schedule opens the room; the waiting room on another process moves on.
      await until(
        'the waiting room told the room is open',
        () => waiting.events.some((e) => e.event === 'room' && e.data.open),
        30_000,
      );
      // In the bundle only the appliance may create rooms; this test Prosody would let a client create
      // it, so the guest comes once the leader has (as Jitsi's lobby would hold her until then).
      const room = await until(
        'the leader to open the room',
        async () =>
          (await db!('rooms').where({ meeting_id: meeting.id }).whereNotNull('opened_at').first())?.name as
            string | undefined,
        30_000,
      );

      // The guest joins the room (as Jitsi would present her); staff on their process see it live.
      const evaClient = await mucClient(prosody);
      clients.push(evaClient);
      await evaClient.join(room, 'eva1', {
        identity: { id: `participant:${eva.id}:main`, name: 'Lärare Eva Ek' },
        displayName: 'Lärare Eva Ek',
      });
      await until('staff see the guest join', () =>
        desk.events.some((e) => e.data.participantId === eva.id && e.data.status === 'joined'),
      );
      // A participant nobody booked joins too, and leaves while no process leads.
      const stranger = await mucClient(prosody);
      clients.push(stranger);
      await stranger.join(room, 'okand', { identity: { name: 'Okänd Person' }, displayName: 'Okänd Person' });
      await until(
        'the stranger recorded',
        async () =>
          (await db!('room_presence').where({ meeting_id: meeting.id, nick: 'okand' }).whereNull('left_at')).length ===
          1,
      );

      // The leader dies without a word.
      const killedAt = Date.now();
      await present(processes[ports.indexOf(leader)], 'the leading process').kill();
      alive.delete(leader);
      await stranger.stop();
      const successor = await until(
        'another process to lead',
        async () => {
          for (const port of others) if (await leads(port)) return port;
          return undefined;
        },
        10_000,
      );
      t.log(`process on port ${successor} leads ${Date.now() - killedAt} ms after the SIGKILL`);

      // The new leader took the room back from Prosody: the guest is still there, the stranger gone.
      await until(
        'the stranger recorded as gone',
        async () =>
          (await db!('room_presence').where({ meeting_id: meeting.id, nick: 'okand' }).whereNotNull('left_at'))
            .length === 1,
        30_000,
      );
      t.is(
        (await db('room_presence').where({ meeting_id: meeting.id, nick: 'eva1' }).whereNull('left_at')).length,
        1,
        'the guest is present once',
      );

      // The five-minute rule: Sara never came; one alert, raised once, whichever leader raised it.
      await until(
        'the no-show alert',
        async () =>
          (await db!('noshow_alerts').where({ meeting_id: meeting.id, participant_id: sara.id })).length === 1,
        90_000,
      );
      await until('staff see the alert live', () =>
        desk.events.some((e) => e.data.type === 'noshow.alert' && e.data.participantId === sara.id),
      );
      // Two more rounds of the schedule change nothing.
      const seen = desk.events.length;
      await new Promise((r) => setTimeout(r, 35_000));
      t.is(
        (await db('noshow_alerts').where({ meeting_id: meeting.id })).length,
        1,
        'only Sara is missing, and alerted once',
      );
      t.is(
        (await db('connlog_entries').where({ meeting_id: meeting.id, type: 'noshow_alert' })).length,
        1,
        'recorded once',
      );
      t.false(
        desk.events.slice(seen).some((e) => e.data.type === 'noshow.alert'),
        'not told again',
      );

      // Staff end the meeting through the proxy: whichever process answers, the leader ends the room.
      const end = await clinician.submit(`/meetings/${meeting.id}/end`, { confirm: 'yes' }, `/meetings/${meeting.id}`);
      t.is(end.status, 302);
      await evaClient.presence((p) => p.attrs.type === 'unavailable' && Boolean(destroyOf(p)), 15_000);

      // Every message went out exactly once: one invitation mail, and no SMS twice. Ending the
      // meeting enqueues Eva's evaluation request (she came in; Sara never did) a moment after the
      // room is gone, so the outbox is read once that request is there and everything has gone out.
      // A read before it is enqueued would find "all sent" and miss it.
      const observer = db;
      const messages = () =>
        observer('outbox_messages').select('channel', 'status', 'kind', 'recipient', 'attempts', 'last_error');
      const allOut = (rows: { status: string }[]) => rows.every((m) => m.status === 'sent' || m.status === 'delivered');
      const evaluationRequested = (rows: { kind: string }[]) => rows.some((m) => m.kind === 'evaluation_request');
      const outbox = await until(
        'the evaluation request, and every message to have gone out',
        async () => {
          const rows = await messages();
          return evaluationRequested(rows) && allOut(rows) && rows;
        },
        30_000,
      ).catch(() => messages()); // what is missing or unsent after the wait is named by the assertions
      if (!allOut(outbox))
        // What the processes logged (warnings and errors) tells why a message stayed behind.
        for (const p of processes) t.log(`appliance ${p.child.pid}:\n${p.out()}${p.err()}`);
      t.deepEqual(
        outbox.filter((m) => m.kind === 'evaluation_request').map((m) => [m.channel, m.recipient]),
        [['email', guestEmail]],
        'one evaluation request, to the guest who came',
      );
      t.true(allOut(outbox), JSON.stringify(outbox));
      t.is(
        relay.received.filter((m) => m.to && 'text' in m.to && m.to.text.includes(guestEmail)).length,
        outbox.filter((m) => m.channel === 'email').length,
      );
      const sms = smsc.arrivals.map((a) => `${String(a.pdu.destination_addr)} ${JSON.stringify(a.pdu.short_message)}`);
      t.is(new Set(sms).size, sms.length, 'no SMS sent twice');
      await desk.close();
      await waiting.close();
    } finally {
      for (const c of clients) await c.stop().catch(() => undefined);
      for (const p of processes) await p.stop();
      await db?.destroy();
      await proxy.close();
      await smsc.close();
      await relay.close();
      await prosody.stop();
      await database.drop();
    }
  },
);

(enabled ? test.serial : test.skip)(
  'a meeting ended while no process led room control loses its room when the next leader takes over, and a room due then opens at once',
  async (t) => {
    t.timeout(4 * 60_000);
    const database = (await postgresDatabase())!;
    const prosody = await startProsody();
    const processes: ApplianceProcess[] = [];
    const ports: number[] = [];
    // Staff's browser reaches the process that is not the leader.
    const proxy = await roundRobin(() => ports.slice(1));
    const clients: MucClient[] = [];
    let db: Db | undefined;
    try {
      const env = {
        DATABASE_URL: database.url,
        PUBLIC_URL: proxy.url,
        ...sharedSecrets(),
        ...roomControlEnv(prosody),
        REMINDER_OFFSETS: 'none',
      };
      // The first process leads; the second starts after it has taken the lead.
      const first = startAppliance(env);
      processes.push(first);
      ports.push(await first.running());
      await until('the first process to lead', () => leads(present(ports[0], 'the first port')));
      const second = startAppliance(env);
      processes.push(second);
      ports.push(await second.running());
      const successor = present(ports[1], 'the second port');

      db = createDb(database.url);
      const staff = await theClinic(db);
      const clinician = new Client(proxy.url);
      t.is((await clinician.login(staff.email, testPassword)).status, 302);
      const book = async (startsAt: Date) => {
        const reply = await clinician.request('POST', '/api/v1/meetings', {
          json: booking({ startsAt: startsAt.toISOString() }),
        });
        t.is(reply.status, 201, reply.text);
        return reply.json().id as string;
      };
      const openedRoom = (meetingId: string) =>
        db!('rooms').where({ meeting_id: meetingId }).whereNotNull('opened_at').first();

      // A meeting under way: the leader opened its room, and the guest is in it.
      const ending = await book(new Date(Date.now() - 60_000));
      const room = (await until('the leader to open the room', () => openedRoom(ending), 30_000)).name as string;
      const guest = await mucClient(prosody);
      clients.push(guest);
      await guest.join(room, 'eva1', { identity: { name: 'Lärare Eva Ek' }, displayName: 'Lärare Eva Ek' });

      // The leader hangs (its lock still held): nobody leads room control. Meanwhile staff end the
      // meeting on the other process, and another meeting falls due.
      present(first.child, 'the leading process').kill('SIGSTOP');
      const end = await clinician.submit(`/meetings/${ending}/end`, { confirm: 'yes' }, `/meetings/${ending}`);
      t.is(end.status, 302);
      t.is((await db('meetings').where({ id: ending }).first()).status, 'ended');
      const due = await book(new Date(Date.now() + 5 * 60_000));

      // The hung leader dies; the other process takes over.
      await first.kill();
      await until('the second process to lead', () => leads(successor), 15_000);
      // The ended meeting's room goes from Prosody, with what the room is told at an end.
      const destroyed = await guest.presence((p) => p.attrs.type === 'unavailable' && Boolean(destroyOf(p)), 15_000);
      t.truthy(destroyOf(destroyed)?.getChildText('reason'));
      // The meeting that fell due gets its room once the new leader's session is up: the first round
      // of its schedule ran before that, and the next is 15 s later.
      await until('the room that fell due opened before the next round of the schedule', () => openedRoom(due), 10_000);
    } finally {
      for (const c of clients) await c.stop().catch(() => undefined);
      // A leader still hung (the test failed before it died) hears its SIGTERM only once it goes on.
      processes[0]?.child.kill('SIGCONT');
      for (const p of processes) await p.stop();
      await db?.destroy();
      await proxy.close();
      await prosody.stop();
      await database.drop();
    }
  },
);

(enabled ? test.serial : test.skip)(
  'guesses sent all at once and spread over three processes get the tries one process gives',
  async (t) => {
    t.timeout(5 * 60_000);
    const database = (await postgresDatabase())!;
    const relay = await startRelay();
    const smsc = await startSmsc(delivered('b'));
    const processes: ApplianceProcess[] = [];
    const ports: number[] = [];
    const proxy = await roundRobin(() => ports);
    let db: Db | undefined;
    try {
      const env = {
        DATABASE_URL: database.url,
        PUBLIC_URL: proxy.url,
        ...sharedSecrets(),
        SMTP_URL: relay.url,
        SMPP_URL: smsc.url,
        REMINDER_OFFSETS: 'none',
        LOGIN_MAX_FAILURES: '5',
        LOGIN_LOCKOUT_MINUTES: '15',
        TRUSTED_PROXIES: '127.0.0.1',
      };
      for (let i = 0; i < 3; i++) processes.push(startAppliance(env));
      for (const p of processes) ports.push(await p.running());
      db = createDb(database.url);
      const staff = await theClinic(db);
      const other = await addClinician(db, 'Bo Berg', 'bo.berg@region.example');

      // Login: 24 wrong passwords and the right one, all at once, over the three processes.
      const browser = new Client(proxy.url);
      browser.headers['x-forwarded-for'] = '192.0.2.1';
      await browser.get('/login');
      const guesses = Array.from({ length: 24 }, (_, i) => `fel-${i}`);
      guesses.splice(12, 0, testPassword);
      const replies = await Promise.all(
        guesses.map((guess) =>
          browser.request('POST', '/login', { form: { crumb: browser.crumb!, email: staff.email, password: guess } }),
        ),
      );
      for (const [i, reply] of replies.entries()) if (guesses[i] !== testPassword) t.is(reply.status, 401);
      const checked = (await db('audit_log').where({ action: 'login.failed', target_id: staff.id })).length;
      t.true(checked < 10, `${checked} wrong passwords checked: no more than two rounds of tries`);
      const after = new Client(proxy.url);
      after.headers['x-forwarded-for'] = '192.0.2.2';
      t.is((await after.login(staff.email, testPassword)).status, 401, 'the account is locked on every process');

      // The guest's name: ten names at once over the three processes get the five tries of one.
      const clinician = new Client(proxy.url);
      clinician.headers['x-forwarded-for'] = '192.0.2.3';
      t.is((await clinician.login(other.email, testPassword)).status, 302);
      const email = `eva.${randomInt(1_000_000, 9_999_999)}@skola.example`;
      const booked = await clinician.request('POST', '/api/v1/meetings', {
        json: booking({
          participants: [
            { kind: 'patient', name: 'Sara Lind', mobile: '070-123 45 67', identification: 'sms' },
            { kind: 'guest', name: 'Lärare Eva Ek', email, identification: 'none' },
          ],
        }),
      });
      t.is(booked.status, 201, booked.text);
      const path = await mailedPath(relay, email);
      const guest = new Client(proxy.url);
      guest.headers['x-forwarded-for'] = '198.51.100.7';
      await guest.get(path, { 'user-agent': chrome });
      const names = Array.from({ length: 9 }, (_, i) => `Fel Namn ${i}`);
      names.splice(4, 0, 'Lärare Eva Ek');
      const tries = await Promise.all(
        names.map((name) =>
          guest.request('POST', '/j', {
            form: { crumb: guest.crumb!, token: path.slice(3), name },
            headers: { 'user-agent': chrome },
          }),
        ),
      );
      const mismatches = tries.filter((r) => r.status === 400).length;
      t.true(mismatches <= 4, `${mismatches} wrong names were compared, at most four may be before the lock`);
      // Accepted names are answered with the technical test page (200), refused ones with 400/423.
      const bound = tries.filter((r) => r.status === 200).length;
      t.true(bound <= 1, 'the link is bound to one browser at most');
    } finally {
      for (const p of processes) await p.stop();
      await db?.destroy();
      await proxy.close();
      await smsc.close();
      await relay.close();
      await database.drop();
    }
  },
);

// The bus between processes on one PostgreSQL: two appliances on one database (in this process,
// each with its own bus and listening connection). What one emits, the other's followers hear -
// ids only, never the personal data in the event - and its reactions run once, where it happened.
// A process that loses its listening connection reconnects and catches up on what it missed.
// PostgreSQL only (SQLite is one process): runs when TEST_DATABASE_URL names a server.
import test from 'ava';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.ts';
import { run } from '../../appliance/src/cli.ts';
import { eventStream, startServer, type TestServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';
import { until } from '../helpers/wait.ts';

const enabled = Boolean(process.env.TEST_DATABASE_URL) && process.env.TEST_DB !== 'sqlite';
const pgTest = enabled ? test.serial : test.skip;

let database: TestDatabase;
let a: TestServer;
let b: TestServer;
test.before(async () => {
  if (!enabled) return;
  database = (await postgresDatabase())!;
  // Both on the one database: the second start finds it migrated. Only the last stop drops it.
  a = await startServer({ database: { ...database, drop: async () => {} } });
  b = await startServer({ database });
});
test.after.always(async () => {
  await a?.stop();
  await b?.stop();
});

const meetingId = '6f1d0c38-5b0e-4c55-9d7a-0a7f1a3e9b11';

pgTest(
  'an event emitted in one process reaches the followers of the other, ids only, and its reactions run once',
  async (t) => {
    const followedInB: unknown[] = [];
    const reactedIn: string[] = [];
    const offs = [
      b.server.app.bus.follow('noshow.alert', (e) => void followedInB.push(e)),
      a.server.app.bus.on('noshow.alert', () => void reactedIn.push('a')),
      b.server.app.bus.on('noshow.alert', () => void reactedIn.push('b')),
    ];
    try {
      a.server.app.bus.emit('noshow.alert', { meetingId, participantId: 'p1', phone: '+46701234567' });
      await until('the follower in the other process', () => followedInB.length === 1);
      t.deepEqual(followedInB, [{ meetingId, participantId: 'p1' }], 'the phone number stays in its process');
      t.deepEqual(reactedIn, ['a']);
    } finally {
      offs.forEach((off) => off());
    }
  },
);

pgTest(
  'a process whose listening connection was cut reconnects and catches up on what it missed, once each',
  async (t) => {
    const heard: string[] = [];
    const off = b.server.app.bus.follow('participant.status', (e) => void heard.push(e.participantId));
    try {
      // Every listening connection goes, as in a network fault or a restarted PostgreSQL.
      await a.server.app.db.raw(
        "select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen samverka_bus' and datname = current_database()",
      );
      for (let i = 0; i < 5; i++)
        a.server.app.bus.emit('participant.status', { meetingId, participantId: `missed-${i}`, status: 'waiting' });
      await until('every event, after the reconnect', () => heard.length >= 5);
      await until('the reconnect logged', () => b.logs().includes('bus: listening again; caught up'));
      t.log(/caught up \d+ event/.exec(b.logs())?.[0]);
      // Heard live again after the reconnect, and nothing twice.
      a.server.app.bus.emit('participant.status', { meetingId, participantId: 'after', status: 'joined' });
      await until('the next event', () => heard.includes('after'));
      t.deepEqual(heard.sort(), ['after', 'missed-0', 'missed-1', 'missed-2', 'missed-3', 'missed-4']);
    } finally {
      off();
    }
  },
);

pgTest(
  "`samverka user disable` ends the person's open streams in every process at once, not at a later check",
  async (t) => {
    const { client: onA, staff } = await loggedIn(a, 'clinician', 'Barn- och ungdomsmedicin');
    // The same clinician on a second computer, whose requests reach the other process.
    const onB = b.client();
    t.is((await onB.login(staff.email, 'rätt-häftklammer-42')).status, 302);
    const streams = [await eventStream(onA, '/calendar/events'), await eventStream(onB, '/calendar/events')];
    for (const stream of streams) await stream.read(/retry:/);
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: a.config.databaseUrl,
      DATA_DIR: a.config.dataDir,
      LOG_LEVEL: 'silent',
    };
    t.is(await run(['user', 'disable', '--email', staff.email], env, () => true), 0);
    t.true(await streams[0]!.ended(), 'the stream on the first process ends');
    t.true(await streams[1]!.ended(), 'and the one on the second');
  },
);

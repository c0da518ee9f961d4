// Several appliance processes on one PostgreSQL send SMS through one bind to the gateway, the
// leading process's: the gateway sees one bind and SMPP_THROTTLE kept in every second, as it would
// with one process (each process counting its own throttle sent up to twice as many, and an account
// that allows one bind refuses the second). When the leader stops, the next one binds and sends what
// is left. PostgreSQL only (SQLite is one process): runs when TEST_DATABASE_URL names a server.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { notifyDispatcher } from '../../appliance/src/invites/index.ts';
import { postgresDatabase } from '../helpers/databases.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { startSmsc } from '../helpers/smsc.ts';
import { until } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';
import { codeOf, queueCodes } from './_codes.ts';

const database = process.env.TEST_DB === 'sqlite' ? undefined : await postgresDatabase();

/** The most arrivals within any one second. */
const mostInOneSecond = (times: number[]) =>
  Math.max(...times.map((start) => times.filter((at) => at >= start && at < start + 1000).length));

(database ? test : test.skip)(
  'two processes bind to the SMS gateway once, keep SMPP_THROTTLE together, and the next leader sends what is left (postgres)',
  async (t) => {
    const db = present(database, 'the PostgreSQL database');
    const throttle = 4;
    const smsc = await startSmsc();
    // Both processes read the same secrets, as processes of one appliance do.
    const env = {
      SMPP_URL: smsc.url,
      SMPP_THROTTLE: String(throttle),
      DATA_KEY: randomBytes(32).toString('hex'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
    };
    const servers: TestServer[] = [];
    try {
      // The database is dropped once, at the end, not with the first process to stop.
      const shared = { ...db, drop: async () => {} };
      servers.push(await startServer({ env, database: shared }), await startServer({ env, database: shared }));
      const [a, b] = servers as [TestServer, TestServer];
      const leader = await until('a leading process', () => [a, b].find((s) => s.server.app.leader.leading));
      const follower = leader === a ? b : a;
      await until('the SMPP bind', () => smsc.binds > 0);

      await queueCodes(a.server.app.db, a.config.dataKey, 24);
      for (const s of [a, b]) notifyDispatcher(s.server);
      await until('every code at the SMSC', () => smsc.arrivals.length >= 24, 60_000);
      const codes = smsc.arrivals.map(codeOf);
      t.is(new Set(codes).size, 24, 'each code once');
      t.true(mostInOneSecond(smsc.arrivals.map((x) => x.at)) <= throttle, `at most ${throttle} in any second`);
      t.is(smsc.binds, 1, 'one bind for both processes');
      const sms = async (s: TestServer) =>
        (await s.client().get('/health/ready')).json().parts.sms as { ok: boolean; detail: string };
      t.like(await sms(follower), { ok: true, detail: 'the leading process holds the bind to the SMPP gateway' });

      // The leader stops: the other takes the lead, binds, and sends what is queued from now on.
      servers.splice(servers.indexOf(leader), 1);
      await leader.stop();
      await until('the other process leading', () => follower.server.app.leader.leading, 30_000);
      await queueCodes(follower.server.app.db, follower.config.dataKey, 4);
      notifyDispatcher(follower.server);
      await until('the codes queued after the stop at the SMSC', () => smsc.arrivals.length >= 28, 60_000);
      t.is(smsc.binds, 2, 'the new leader bound once');
      t.is(smsc.arrivals.length, 28);
    } finally {
      for (const s of servers) await s.stop();
      await smsc.close();
      await db.drop();
    }
  },
);

// The db plugin: opens the database, applies pending migrations before the server starts,
// registers the database's readiness check and closes the pool when the server stops. On
// PostgreSQL it also links this process's event bus to the others' (notify.ts) and takes part in
// choosing the one leader (leader.ts); on SQLite it first holds the file for as long as it runs, so
// that it is alone and leads (hold.ts).
import type { Plugin } from '@hapi/hapi';
import { GroupCommit } from './group-commit.ts';
import { holdDatabase, type DatabaseHold } from './hold.ts';
import { clientOf, createDb, isSqlite, type Db } from './knex.ts';
import { Leadership } from './leader.ts';
import { migrateLatest } from './locks.ts';
import { PgBusLink } from './notify.ts';
import { shareCommits, walSyncOf } from './sqlite-client.ts';

export const plugin: Plugin<void> = {
  name: 'db',
  register(server) {
    const db = createDb(server.app.config.databaseUrl);
    const log = (tag: string) => (level: 'info' | 'warn' | 'error', message: string) =>
      server.log([level, tag], message);
    server.app.db = db;
    server.app.groupCommit = new GroupCommit(db);
    server.app.bus.commitPartsThrough(server.app.groupCommit);
    server.app.leader = new Leadership(db, { log: log('leader') });
    const link = isSqlite(db) ? undefined : new PgBusLink(db, server.app.bus, { log: log('bus') });
    let hold: DatabaseHold | undefined;
    const release = () => {
      hold?.release();
      hold = undefined;
    };

    server.ext('onPreStart', async () => {
      // Before anything reads or writes the database (migrations, the outbox's claims, the leader's
      // jobs: this is the first plugin): a second process on the same SQLite file stops here.
      hold = holdDatabase(db);
      if (hold) server.log(['info', 'db'], `process ${process.pid} holds ${hold.file} (one process per SQLite file)`);
      // Several processes may start at once on one PostgreSQL: one migrates, the others wait.
      const applied = await migrateLatest(db).catch((error: unknown) => {
        release();
        throw error;
      });
      if (applied.length > 0) server.log(['info', 'db'], `applied migrations: ${applied.join(', ')}`);
      // From here on SQLite's changes share commits (sqlite-client.ts); migrations ran on their own.
      if (isSqlite(db)) shareCommits(clientOf(db), server.app.groupCommit);
      await link?.start();
      server.app.bus.connect(link);
    });
    // Every plugin has registered its leader's jobs by now; they start here if this process leads.
    server.ext('onPostStart', () => server.app.leader.start());
    server.ext('onPreStop', () => server.app.leader.stop());
    server.ext('onPostStop', async () => {
      server.app.bus.connect(undefined);
      await link?.stop();
      await server.app.groupCommit.settled();
      await db.destroy();
      release();
    });

    server.app.health.add('database', async () => {
      await db.raw('select 1');
      if (isSqlite(db)) {
        const failure = await syncFailureOf(db);
        return failure ? { ok: false, detail: failure.message } : { ok: true, detail: 'SQLite open' };
      }
      if (link?.lost)
        return {
          ok: false,
          detail: "PostgreSQL reachable, but not listening for the other processes' events (reconnecting)",
        };
      return { ok: true, detail: `PostgreSQL reachable${server.app.leader.leading ? '; this process leads' : ''}` };
    });
  },
};

/** Why SQLite's log could not be synced, if it could not: every write fails since (sqlite-client.ts). */
async function syncFailureOf(db: Db): Promise<Error | undefined> {
  const client = clientOf(db);
  const connection = (await client.acquireConnection()) as object;
  try {
    return walSyncOf(connection)?.failure;
  } finally {
    await client.releaseConnection(connection);
  }
}

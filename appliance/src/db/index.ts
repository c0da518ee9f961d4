// The db plugin: opens the database, applies pending migrations before the server starts,
// registers the database's readiness check and closes the pool when the server stops.
import type { Plugin } from '@hapi/hapi';
import { createDb, isSqlite } from './knex.ts';
import { migrateLatest } from './locks.ts';

export const plugin: Plugin<void> = {
  name: 'db',
  register(server) {
    const db = createDb(server.app.config.databaseUrl);
    server.app.db = db;

    server.ext('onPreStart', async () => {
      // Several processes may start at once on one PostgreSQL: one migrates, the others wait.
      const applied = await migrateLatest(db);
      if (applied.length > 0) server.log(['info', 'db'], `applied migrations: ${applied.join(', ')}`);
    });
    server.ext('onPostStop', () => db.destroy());

    server.app.health.add('database', async () => {
      await db.raw('select 1');
      return { ok: true, detail: isSqlite(db) ? 'SQLite open' : 'PostgreSQL reachable' };
    });
  },
};

// The attempt counters behind every rate limit: a burst of parallel attempts, and two processes'
// worth of connections to one database, each see their own number, never the same one twice.
import test from 'ava';
import { countAttempt } from '../../appliance/src/db/counters.ts';
import { createDb } from '../../appliance/src/db/knex.ts';
import { everyDatabase } from '../helpers/databases.ts';

const databases = await everyDatabase();

for (const database of databases) {
  test.serial(`parallel attempts on ${database.kind} are numbered 1…n without a gap or a repeat`, async (t) => {
    const db = createDb(database.url);
    // A second pool on the same database stands for a second appliance process.
    const other = createDb(database.url);
    try {
      await db.migrate.latest();
      const now = new Date();
      const attempts = await Promise.all(
        Array.from({ length: 60 }, (_, i) => countAttempt(i % 2 ? other : db, 'login:192.0.2.1', 900, now)),
      );
      t.deepEqual(
        attempts.map((a) => a.hits).sort((a, b) => a - b),
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      t.true(
        attempts.every((a) => a.resetsAt.getTime() === now.getTime() + 900_000),
        'one window, from the first attempt',
      );
      t.is((await countAttempt(db, 'login:192.0.2.2', 900, now)).hits, 1, 'each key counts on its own');
      const later = new Date(now.getTime() + 901_000);
      const fresh = await countAttempt(db, 'login:192.0.2.1', 900, later);
      t.is(fresh.hits, 1, 'a new window once the old one has run out');
      t.is(fresh.resetsAt.getTime(), later.getTime() + 900_000);
    } finally {
      await other.destroy();
      await db.destroy();
      await database.drop();
    }
  });
}

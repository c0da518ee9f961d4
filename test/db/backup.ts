// `samverka backup` on SQLite (appliance/src/db/backup.ts): the copy is written under a name of its
// own and takes the target's name only once it is whole, so a backup that fails midway - a full
// disk, a process killed - never leaves a file that looks like a backup under the name a nightly
// job and a restore look for. The failure is made at better-sqlite3's door: its Database's
// backup(), which the appliance calls, is replaced for a test by one that writes part of a file and
// then fails as a full disk does. SQLite only (PostgreSQL is backed up with pg_dump).

/** better-sqlite3's Database as far as a backup goes. */
interface Connection {
  backup: (file: string) => Promise<unknown>;
}
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { backupDatabase, BackupError } from '../../appliance/src/db/backup.ts';
import { clientOf, createDb } from '../../appliance/src/db/knex.ts';
import { passEngine } from '../helpers/databases.ts';

const sqliteTest = passEngine() === 'sqlite' ? test.serial : test.skip;

/** A database with a row in it, and a folder for its backups. */
async function withDatabase(run: (url: string, backups: string, database: Connection) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-backup-'));
  const url = `sqlite:${join(dir, 'samverka.db')}`;
  const db = createDb(url);
  let prototype: Connection;
  try {
    await db.schema.createTable('notes', (table) => table.text('text'));
    await db('notes').insert({ text: 'kept' });
    const connection = (await clientOf(db).acquireConnection()) as object;
    prototype = Object.getPrototypeOf(connection) as Connection;
    await clientOf(db).releaseConnection(connection);
  } finally {
    await db.destroy();
  }
  const backups = join(dir, 'backups');
  mkdirSync(backups);
  try {
    await run(url, backups, prototype);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

sqliteTest("a backup that fails midway leaves no file under the backup's name, nor a partial one", async (t) => {
  await withDatabase(async (url, backups, database) => {
    const { backup } = database;
    database.backup = async function (file: string) {
      writeFileSync(file, 'SQLite format 3\0 … the first pages, then the disk was full');
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const target = join(backups, 'samverka-2026-11-27.db');
    try {
      await t.throwsAsync(backupDatabase(url, target), { message: /disk is full/ });
    } finally {
      database.backup = backup;
    }
    t.false(existsSync(target), 'nothing looks like a backup under its name');
    t.deepEqual(readdirSync(backups), [], 'and the partial copy is gone');

    // The next night's backup to the same name goes through.
    await backupDatabase(url, target);
    const copy = createDb(`sqlite:${target}`);
    try {
      t.deepEqual(await copy('notes').pluck('text'), ['kept']);
    } finally {
      await copy.destroy();
    }
    t.deepEqual(readdirSync(backups), ['samverka-2026-11-27.db']);
  });
});

sqliteTest('a partial copy left by a backup killed midway does not stand in the way of the next', async (t) => {
  await withDatabase(async (url, backups) => {
    const target = join(backups, 'samverka-2026-11-27.db');
    // What a backup killed with SIGKILL leaves: its copy, cut off, under the name it writes to.
    writeFileSync(`${target}.partial`, 'SQLite format 3\0 … cut off');
    await backupDatabase(url, target);
    t.deepEqual(readdirSync(backups), ['samverka-2026-11-27.db']);
    await t.throwsAsync(backupDatabase(url, target), { instanceOf: BackupError, message: /exists already/ });
  });
});

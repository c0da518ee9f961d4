// Backup and restore of the SQLite database, for `samverka backup` and `samverka restore`
// (INSTALL.md, "Backup and restore"). PostgreSQL has its own tools (pg_dump, pg_restore).
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { syncDirectoryOf } from './directory.ts';
import { DatabaseInUseError, holdDatabase, type DatabaseHold } from './hold.ts';
import { clientOf, createDb, rawRows } from './knex.ts';
import { migrationSource } from './migrations.ts';
import { must } from '../common/must.ts';

export class BackupError extends Error {}

function sqliteFile(databaseUrl: string, what: string): string {
  if (!databaseUrl.startsWith('sqlite:')) {
    throw new BackupError(
      `${what} handles the SQLite database only; with PostgreSQL use pg_dump and pg_restore (INSTALL.md)`,
    );
  }
  const file = databaseUrl.slice('sqlite:'.length);
  if (file === ':memory:') throw new BackupError(`${what}: DATABASE_URL is an in-memory database`);
  return resolve(file);
}

/**
 * SQLite's online backup: a consistent copy page by page while the appliance keeps writing
 * (copying the file itself could catch a half-written transaction, or miss what is still in the WAL).
 * The copy is written as `<target>.partial` and takes the target's name only once it is whole and
 * on disk: a backup that fails midway (a full disk, a process killed) never leaves a file under
 * the name a nightly job keeps and a restore is pointed at. A partial copy a killed backup left is
 * written over.
 */
export async function backupDatabase(databaseUrl: string, target: string): Promise<void> {
  const source = sqliteFile(databaseUrl, 'backup');
  if (!existsSync(source)) throw new BackupError(`backup: there is no database at ${source}`);
  if (existsSync(target)) throw new BackupError(`backup: ${target} exists already; name a new file`);
  const partial = `${resolve(target)}.partial`;
  rmSync(partial, { force: true });
  const db = createDb(databaseUrl);
  try {
    const client = clientOf(db);
    // better-sqlite3's Database: its backup() is SQLite's online backup API, which syncs the copy
    // when it is complete.
    const connection = (await client.acquireConnection()) as { backup(file: string): Promise<unknown> };
    try {
      await connection.backup(partial);
    } finally {
      await client.releaseConnection(connection);
    }
    renameSync(partial, resolve(target));
    await syncDirectoryOf(resolve(target));
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    await db.destroy();
  }
}

/**
 * Puts a backup in place of the database (the appliance stopped). The copy is checked before it
 * replaces anything: SQLite's integrity check, and the appliance's migration table.
 */
export async function restoreDatabase(
  databaseUrl: string,
  backup: string,
  options: { force: boolean },
): Promise<{ migrations: number }> {
  const target = sqliteFile(databaseUrl, 'restore');
  if (!existsSync(backup)) throw new BackupError(`restore: there is no file ${backup}`);
  if (existsSync(target) && !options.force) {
    throw new BackupError(`restore: ${target} exists; stop the appliance and add --force to replace it`);
  }
  // Under the appliance's own hold (hold.ts): a running appliance is never replaced under its feet,
  // and none starts on a half-restored file.
  const held = await holdFor(databaseUrl, target);
  try {
    return await restoreHeld(target, backup);
  } finally {
    held.release();
  }
}

async function holdFor(databaseUrl: string, target: string): Promise<DatabaseHold> {
  const db = createDb(databaseUrl);
  try {
    return must(holdDatabase(db), 'a hold on the SQLite file');
  } catch (error) {
    if (!(error instanceof DatabaseInUseError)) throw error;
    const who = error.holder ? ` (process ${error.holder.pid} on host ${error.holder.host})` : '';
    throw new BackupError(`restore: the appliance is running on ${target}${who}; stop it first`);
  } finally {
    await db.destroy();
  }
}

async function restoreHeld(target: string, backup: string): Promise<{ migrations: number }> {
  const staged = `${target}.restoring`;
  for (const leftover of [staged, `${staged}-wal`, `${staged}-shm`]) rmSync(leftover, { force: true });
  copyFileSync(backup, staged);
  let migrations = 0;
  const db = createDb(`sqlite:${staged}`);
  try {
    const [check] = await rawRows<{ integrity_check: string }>(db, 'pragma integrity_check');
    const integrity = must(check, 'the integrity check').integrity_check;
    if (integrity !== 'ok') throw new BackupError(`restore: ${backup} is damaged (${integrity})`);
    const hasMigrations = await db.schema.hasTable('knex_migrations');
    if (!hasMigrations) throw new BackupError(`restore: ${backup} is not a Samverka database`);
    const applied = (await db('knex_migrations').pluck('name')) as string[];
    // A backup of a newer version (restored after going back to this one) has migrations this
    // version does not know: knex refuses to start on it, so it must not replace the database.
    const known = new Set((await migrationSource.getMigrations([])).map((f) => migrationSource.getMigrationName(f)));
    const unknown = applied.find((name) => !known.has(name));
    if (unknown)
      throw new BackupError(
        `restore: ${backup} was written by a newer Samverka (migration ${unknown}); restore it with that version or a later one`,
      );
    migrations = applied.length;
  } catch (error) {
    await db.destroy();
    rmSync(staged, { force: true });
    if (error instanceof BackupError) throw error;
    throw new BackupError(`restore: ${backup} is not a SQLite database (${(error as Error).message})`);
  }
  await db.destroy();
  // The old database's write-ahead log must not be replayed onto the restored file.
  for (const stale of [`${target}-wal`, `${target}-shm`]) rmSync(stale, { force: true });
  renameSync(staged, target);
  for (const stale of [`${staged}-wal`, `${staged}-shm`]) rmSync(stale, { force: true });
  return { migrations };
}

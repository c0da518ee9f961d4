// knex reads migrations from appliance/src/db/migrations/NNNN_name.ts (or .js once compiled).
// Names are recorded without their extension so that source and compiled runs share one history.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';

const folder = new URL('./migrations/', import.meta.url);

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

function migrationFiles(): string[] {
  return readdirSync(fileURLToPath(folder))
    .filter((f) => /^\d{4}_[a-z0-9_]+\.(ts|js)$/.test(f))
    .sort();
}

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return migrationFiles();
  },
  getMigrationName(file) {
    return file.replace(/\.(ts|js)$/, '');
  },
  async getMigration(file): Promise<Migration> {
    return (await import(new URL(file, folder).href)) as Migration;
  },
};

/**
 * The migrations applied (oldest first) and those pending, by name. knex types migrate.list() `any`:
 * it gives the applied as knex_migrations rows (`{ name }`) and the pending as this source's files.
 */
export async function listMigrations(db: Knex): Promise<{ applied: string[]; pending: string[] }> {
  const [applied, pending] = (await db.migrate.list()) as [{ name: string }[], string[]];
  return {
    applied: applied.map((m) => m.name),
    pending: pending.map((file) => migrationSource.getMigrationName(file)),
  };
}

// A SITHS login refused because its HSA-ID named no account recorded that HSA-ID in the record's
// details, kept with the record for the audit log's ten years: the identity of someone who is no
// user of the appliance. Such an HSA-ID is now kept beside the record, as an address typed at a
// failed password login is (migration 0033), until the retention run forgets it after
// RETENTION_LOGIN_ADDRESS_DAYS. The records already in the log are moved there, once, as 0033 moved
// the addresses (the log's guards step aside for these statements alone). A disabled account's
// HSA-ID names that account and stays in its record.
import type { Knex } from 'knex';
import { isSqlite } from '../knex.ts';
import { sqliteAuditTriggers } from './0008_audit_append_only.ts';

interface LoggedLogin {
  id: number | string;
  at: string | Date;
  details: string;
}

export async function up(knex: Knex): Promise<void> {
  const logged: LoggedLogin[] = await knex('audit_log')
    .where({ action: 'login.failed' })
    .andWhere('details', 'like', '%"hsaId"%')
    .select('id', 'at', 'details');
  const moved = logged.flatMap((row) => {
    const { hsaId, ...rest } = JSON.parse(row.details) as Record<string, unknown>;
    return typeof hsaId === 'string' && rest.method === 'oidc' && rest.reason !== 'disabled'
      ? [{ row, hsaId: hsaId.slice(0, 254), details: JSON.stringify({ ...rest, unknownAccount: true }) }]
      : [];
  });
  if (moved.length === 0) return;
  const sqlite = isSqlite(knex);
  if (sqlite) await knex.raw('drop trigger audit_log_no_update');
  else await knex.raw('alter table audit_log disable trigger audit_log_append_only');
  for (const { row, hsaId, details } of moved) {
    await knex('audit_typed_addresses').insert({ audit_id: row.id, email: hsaId, at: row.at });
    await knex('audit_log').where({ id: row.id }).update({ details });
  }
  if (sqlite) await knex.raw(sqliteAuditTriggers[0]!);
  else await knex.raw('alter table audit_log enable trigger audit_log_append_only');
}

/** The HSA-IDs moved stay beside their records: putting them back into the ten-year log would undo the point. */
export async function down(): Promise<void> {}

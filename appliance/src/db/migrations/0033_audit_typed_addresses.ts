// A failed login recorded the e-mail address typed into the form in the record's details, kept
// with the record for the audit log's ten years. An address that names no account may be a
// patient's, or someone's private address mistyped: it is kept beside the record instead, in a table
// of its own that the nightly retention run empties after RETENTION_LOGIN_ADDRESS_DAYS (30), while the
// record (when, from where, that the account was unknown) stays its ten years. An address that named
// an account was never kept: the record names the account. The records already in the log are moved
// here, once: their address leaves the details (the only change to the append-only log ever made by
// a migration; its guards step aside for this statement alone). No foreign key, as for the marks
// of accesses outside the unit (migration 0022).
import type { Knex } from 'knex';
import { isSqlite } from '../knex.ts';
import { sqliteAuditTriggers } from './0008_audit_append_only.ts';

interface LoggedAddress {
  id: number | string;
  at: string | Date;
  details: string;
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_typed_addresses', (t) => {
    t.bigInteger('audit_id').primary();
    t.string('email', 254).notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.index(['at']);
  });
  const logged: LoggedAddress[] = await knex('audit_log')
    .whereIn('action', ['login.failed', 'login.locked'])
    .andWhere('details', 'like', '%"email"%')
    .select('id', 'at', 'details');
  const moved = logged.flatMap((row) => {
    const { email, ...rest } = JSON.parse(row.details) as Record<string, unknown>;
    return typeof email === 'string'
      ? [{ row, email: email.slice(0, 254), details: JSON.stringify({ ...rest, unknownAccount: true }) }]
      : [];
  });
  if (moved.length === 0) return;
  const sqlite = isSqlite(knex);
  if (sqlite) await knex.raw('drop trigger audit_log_no_update');
  else await knex.raw('alter table audit_log disable trigger audit_log_append_only');
  for (const { row, email, details } of moved) {
    await knex('audit_typed_addresses').insert({ audit_id: row.id, email, at: row.at });
    await knex('audit_log').where({ id: row.id }).update({ details });
  }
  if (sqlite) await knex.raw(sqliteAuditTriggers[0]!);
  else await knex.raw('alter table audit_log enable trigger audit_log_append_only');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_typed_addresses');
}

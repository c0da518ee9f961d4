// The audit log is append-only (Patientdatalagen: the access log is evidence). The database itself
// refuses UPDATE and DELETE on audit_log, so that no code path of the application — nor a mistaken
// query — can alter it. Purging old records is the one exception, and only through the purge routine
// (admin/retention.ts), which keeps a long retention period of its own.
//
// PostgreSQL: a trigger raises unless the transaction set `samverka.audit_purge` = 'on', which only
// the SQL function purge_audit_log(cutoff) does, and that function refuses cutoffs younger than the
// retention period. SQLite: triggers that abort; the purge routine drops and recreates them inside
// its own transaction. (A database superuser can of course still do anything: this guards against
// the application, not against the DBA, whose access the hospital logs by its own means.)
import type { Knex } from 'knex';
import { isSqlite } from '../knex.ts';

/** Ten years, as for patient records (Patientdatalagen 3 kap. 17 §): logs of access to them are kept as long. */
export const auditRetentionYears = 10;

export const sqliteAuditTriggers = [
  `create trigger audit_log_no_update before update on audit_log begin select raise(abort, 'audit_log is append-only: records cannot be changed'); end`,
  `create trigger audit_log_no_delete before delete on audit_log begin select raise(abort, 'audit_log is append-only: records are removed only by the retention purge'); end`,
];

export async function up(knex: Knex): Promise<void> {
  if (isSqlite(knex)) {
    for (const sql of sqliteAuditTriggers) await knex.raw(sql);
    return;
  }
  await knex.raw(`
    create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and coalesce(current_setting('samverka.audit_purge', true), '') = 'on' then
        return old;
      end if;
      raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
    end $$`);
  await knex.raw(
    `create trigger audit_log_append_only before update or delete on audit_log for each row execute function audit_log_append_only()`,
  );
  // TRUNCATE bypasses row triggers: refuse it as a statement.
  await knex.raw(
    `create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_append_only()`,
  );
  await knex.raw(`
    create or replace function purge_audit_log(cutoff timestamptz) returns bigint language plpgsql as $$
    declare removed bigint;
    begin
      if cutoff > now() - interval '${auditRetentionYears} years' then
        raise exception 'audit records are kept ${auditRetentionYears} years: cutoff % is too recent', cutoff;
      end if;
      perform set_config('samverka.audit_purge', 'on', true);
      delete from audit_log where at < cutoff;
      get diagnostics removed = row_count;
      perform set_config('samverka.audit_purge', 'off', true);
      return removed;
    end $$`);
}

export async function down(knex: Knex): Promise<void> {
  if (isSqlite(knex)) {
    await knex.raw('drop trigger if exists audit_log_no_update');
    await knex.raw('drop trigger if exists audit_log_no_delete');
    return;
  }
  await knex.raw('drop trigger if exists audit_log_append_only on audit_log');
  await knex.raw('drop trigger if exists audit_log_no_truncate on audit_log');
  await knex.raw('drop function if exists purge_audit_log(timestamptz)');
  await knex.raw('drop function if exists audit_log_append_only()');
}

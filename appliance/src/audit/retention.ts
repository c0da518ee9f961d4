// Purging the audit log follows its own, long retention period (see migration 0008): records
// younger than auditRetentionYears are never removed, whatever the caller asks.
import { isSqlite, rawRows, type Db } from '../db/knex.ts';
import { iso, type DbBigint } from '../db/values.ts';
import { auditRetentionYears, sqliteAuditTriggers } from '../db/migrations/0008_audit_append_only.ts';
import { must } from '../common/must.ts';

export { auditRetentionYears };

/** The oldest moment a record may still be kept at `now`: anything before it may go. */
export function retentionCutoff(now = new Date()): Date {
  const cutoff = new Date(now);
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - auditRetentionYears);
  return cutoff;
}

/** Removes audit records older than the retention period, with their marks; returns how many went. */
export async function purgeAudit(db: Db, now = new Date()): Promise<number> {
  const cutoff = retentionCutoff(now);
  return db.transaction(async (trx) => {
    let removed: number;
    if (!isSqlite(trx)) {
      const [row] = await rawRows<{ removed: DbBigint }>(trx, 'select purge_audit_log(?::timestamptz) as removed', [
        iso(cutoff),
      ]);
      removed = Number(must(row, 'the purge function returns one row').removed);
    } else {
      // SQLite has no session settings: the guard triggers step aside within this one transaction.
      await trx.raw('drop trigger audit_log_no_delete');
      removed = await trx('audit_log').where('at', '<', iso(cutoff)).delete();
      await trx.raw(must(sqliteAuditTriggers[1], 'the no-delete trigger of migration 0008'));
    }
    // The marks of accesses outside the unit (migration 0022) whose records went.
    if (removed > 0)
      await trx.raw(
        'delete from audit_outside_unit where not exists (select 1 from audit_log a where a.id = audit_outside_unit.audit_id)',
      );
    return removed;
  });
}

/**
 * Forgets the e-mail addresses typed at failed logins that named no account (kept beside their
 * records, migration 0033) once older than `before`; the records stay. Returns how many went.
 */
export async function forgetTypedAddresses(db: Db, before: Date): Promise<number> {
  return db('audit_typed_addresses').where('at', '<', iso(before)).delete();
}

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

/** Removes audit records older than the retention period; returns how many went. */
export async function purgeAudit(db: Db, now = new Date()): Promise<number> {
  const cutoff = retentionCutoff(now);
  if (!isSqlite(db)) {
    const [row] = await rawRows<{ removed: DbBigint }>(db, 'select purge_audit_log(?::timestamptz) as removed', [
      iso(cutoff),
    ]);
    return Number(must(row, 'the purge function returns one row').removed);
  }
  // SQLite has no session settings: the guard triggers step aside within this one transaction.
  return db.transaction(async (trx) => {
    await trx.raw('drop trigger audit_log_no_delete');
    const removed = await trx('audit_log').where('at', '<', iso(cutoff)).delete();
    await trx.raw(must(sqliteAuditTriggers[1], 'the no-delete trigger of migration 0008'));
    return removed;
  });
}

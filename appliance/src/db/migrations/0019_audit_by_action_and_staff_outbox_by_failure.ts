// Three reads that walked a whole growing table. The audit viewer lists a search's newest 200
// records (`findAudit`, order by id desc): searched by action alone, SQLite went back through the
// whole log for a rare action (a cancellation, an extract); searched by staff member, it took every
// record that person ever made through (staff_id, at) and sorted them all by id. Both indexes end in
// the id, so the newest come first and the read stops at the page's last record. The status page
// counts the messages that failed in the last day (`queueStats`): it went through every failed
// message by the status index; by the time of failure it reads only the last day's.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.index(['action', 'id'], 'audit_log_action_id_index');
    t.index(['staff_id', 'id'], 'audit_log_staff_id_id_index');
    t.dropIndex(['staff_id', 'at']);
  });
  await knex.schema.alterTable('outbox_messages', (t) => {
    t.index(['failed_at'], 'outbox_messages_failed_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_messages', (t) => {
    t.dropIndex(['failed_at'], 'outbox_messages_failed_at_index');
  });
  await knex.schema.alterTable('audit_log', (t) => {
    t.index(['staff_id', 'at']);
    t.dropIndex(['staff_id', 'id'], 'audit_log_staff_id_id_index');
    t.dropIndex(['action', 'id'], 'audit_log_action_id_index');
  });
}

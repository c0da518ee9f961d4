// The log check's first question (Patientdatalagen 4 kap. 3 §): which staff opened meetings of
// another care unit than their own. `findAudit({ outsideUnit })` answered it by joining every
// record of the log to its meeting and walking back from the newest until 200 matched: when such
// accesses are rare, as they should be, that is the whole log (ten years of it) on every search,
// and SQLite runs it on the event loop. An access outside the unit is now marked as it is recorded,
// in a table of its own that holds only the record's id: the log itself stays append-only and is
// not touched. The records already in the log are marked here, once, by the same rule (the unit the
// staff member was recorded with is not the meeting's). The retention purge removes a record's mark
// with it (audit/retention.ts). No foreign key: one would make PostgreSQL refuse a TRUNCATE of the
// log for the key's sake before the log's own append-only guard could say why.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_outside_unit', (t) => {
    t.bigInteger('audit_id').primary();
  });
  await knex.raw(
    `insert into audit_outside_unit (audit_id)
     select a.id from audit_log a join meetings m on m.id = a.meeting_id
     where a.staff_id is not null and a.unit_id is not null and a.unit_id <> m.unit_id`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_outside_unit');
}

// The admin's staff search in SQL, a page at a time: a region has thousands of accounts, and the
// list read every one of them and compared their names in JavaScript, because neither engine knows
// the name rule (common/names.ts: letter case, Unicode composition, apostrophes and hyphens do not
// count; SQLite's lower() knows only ASCII). Each account now keeps its name by that rule beside
// it, written wherever the name is (staff/store.ts), so that the database can compare it.
import type { Knex } from 'knex';

// The name rule as it is at this migration, written out here: a migration must run the same in ten
// years, whatever the rule becomes (a change of the rule brings a migration of its own).
const apostrophes = /[\u2018\u2019\u201b\u02bc\u02b9\u00b4\u0060\u2032]/gu;
const hyphens = /[\u2010-\u2015\u2212\ufe63\uff0d]/gu;
const nameKey = (name: string): string =>
  name
    .normalize('NFC')
    .replace(/\s+/gu, ' ')
    .trim()
    .toLocaleLowerCase('sv-SE')
    .replace(apostrophes, "'")
    .replace(hyphens, '-');

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.text('name_key').notNullable().defaultTo('');
  });
  const rows: { id: string; name: string }[] = await knex('staff').select('id', 'name');
  for (const row of rows)
    await knex('staff')
      .where({ id: row.id })
      .update({ name_key: nameKey(row.name) });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.dropColumn('name_key');
  });
}

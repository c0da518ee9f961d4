// Where a SITHS login leads on is kept with its flow: the page asked for, up to the longest address
// a login keeps (staff/schemas.ts, `longestPath`: a connection-log timeline with the support's
// sealed search runs to thousands of characters). It was a varchar(500), which PostgreSQL refused
// for such an address (the login failed with an error); text now. SQLite does not hold a varchar
// to its length, so its column is left as it is.
import type { Knex } from 'knex';
import { isSqlite } from '../knex.ts';

export async function up(knex: Knex): Promise<void> {
  if (!isSqlite(knex)) await knex.raw('alter table oidc_flows alter column next_path type text');
}

export async function down(knex: Knex): Promise<void> {
  if (!isSqlite(knex))
    await knex.raw('alter table oidc_flows alter column next_path type varchar(500) using left(next_path, 500)');
}

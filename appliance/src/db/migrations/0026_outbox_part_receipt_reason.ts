// A long SMS whose part the network reported not delivered while the rest still waited to go (its
// receipt kept with the part, migration 0025) failed once sent with "a part taken earlier was
// reported not delivered": what the network said was lost. Each part keeps it now beside its
// receipt, and the message fails with it, as a message of one part does.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_provider_ids', (t) => {
    t.text('receipt_reason');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_provider_ids', (t) => {
    t.dropColumn('receipt_reason');
  });
}

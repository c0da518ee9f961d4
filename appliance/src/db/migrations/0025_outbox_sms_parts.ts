// The parts of a long SMS the gateway took before it refused a later part for now were remembered
// only in the SMS adapter's memory: after a restart the retry sent the whole text again under a new
// reference, and the phone showed part 1 twice. The outbox row keeps them now between attempts
// (JSON: the reference, each part's id, a digest of number and text, when the first attempt began),
// and clears them once the message is sent, fails or has its contact data erased.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_messages', (t) => {
    t.text('sms_parts');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox_messages', (t) => {
    t.dropColumn('sms_parts');
  });
}

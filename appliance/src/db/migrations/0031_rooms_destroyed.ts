// A room's removal from Prosody, apart from its meeting's end (ended_at): any process records the
// end, but only the one leading room control can take the room out of Prosody, and a leader that
// died before it did left the room there. A new leader takes out every room ended and not yet
// removed, however long ago it ended (it looked back a fixed eight hours and the grace period
// before, and a room ended earlier went on for whoever was still in it). Rooms that ended more than
// a week before this migration are taken as removed (nobody is still in them); the rest the next
// leader tries once, and one already gone answers item-not-found. The partial index holds only
// the rooms opened and not yet removed: what a new leader reads.
import type { Knex } from 'knex';
import { iso } from '../values.ts';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rooms', (t) => {
    t.timestamp('destroyed_at', { useTz: true });
  });
  const weekAgo = new Date(Date.now() - 7 * 24 * 60 * 60_000);
  await knex('rooms')
    .whereNotNull('ended_at')
    .where('ended_at', '<', iso(weekAgo))
    .update({ destroyed_at: knex.ref('ended_at') });
  await knex.raw(
    'create index rooms_not_destroyed_index on rooms (meeting_id) where opened_at is not null and destroyed_at is null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index rooms_not_destroyed_index');
  await knex.schema.alterTable('rooms', (t) => {
    t.dropColumn('destroyed_at');
  });
}

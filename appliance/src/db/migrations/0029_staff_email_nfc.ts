// Staff e-mail addresses in Unicode NFC, as they are now found (staff/store.ts, normaliseEmail): an
// address saved with a decomposed letter ("a" and a combining ring, from macOS, a phone or a pasted
// text) would otherwise never be found by the same address typed with the composed "å", nor the
// other way round. Two accounts whose addresses are one and the same once normalised are not merged
// (each has its own sessions, tokens, meetings and audit records): the migration refuses, names
// both, and changes nothing until one of them has been given another address.
import type { Knex } from 'knex';

/** How an address is written, for the refusal: two such look the same on a terminal. */
const written = (row: { id: string; email: string }) =>
  `staff ${row.id} (${row.email}, written ${row.email === row.email.normalize('NFC') ? 'composed' : 'decomposed'})`;

export async function up(knex: Knex): Promise<void> {
  const rows: { id: string; email: string }[] = await knex('staff').select('id', 'email');
  const byAddress = new Map<string, { id: string; email: string }>();
  const clashes: string[] = [];
  for (const row of rows) {
    const address = row.email.normalize('NFC');
    const other = byAddress.get(address);
    if (other) clashes.push(`${written(other)} and ${written(row)} are both ${address}`);
    else byAddress.set(address, row);
  }
  if (clashes.length > 0)
    throw new Error(
      `The migration of staff e-mail addresses to Unicode NFC stopped: two accounts would have the same address - ${clashes.join('; ')}. ` +
        'Nothing was changed, and the accounts are not merged (each has its own sessions, tokens, meetings and audit records). ' +
        "Give one of each pair another address in the database (update staff set email = '<another address>' where id = '<its id>'), " +
        'the one no longer in use, which can then be disabled; then start again.',
    );
  for (const row of rows) {
    const address = row.email.normalize('NFC');
    if (address !== row.email) await knex('staff').where({ id: row.id }).update({ email: address });
  }
}

export async function down(): Promise<void> {
  // The decomposed forms are not kept: NFC addresses are what every version finds accounts by.
}

// ARCHITECTURE.md's domain table says which domain owns each table: every table a migration
// creates (and no later one drops) must be named there, so that a new table gets an owner.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { projectRoot } from '../../appliance/src/config.ts';

const migrations = join(projectRoot, 'appliance/src/db/migrations');
const architecture = readFileSync(join(projectRoot, 'ARCHITECTURE.md'), 'utf8');

/** Tables the migrations leave: created in an `up`, in the order the files run. */
function tables(): Set<string> {
  const made = new Set<string>();
  for (const file of readdirSync(migrations)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const up = readFileSync(join(migrations, file), 'utf8').split(/export async function down/)[0] ?? '';
    for (const [, name] of up.matchAll(/createTable\('([a-z_]+)'/g)) made.add(name!);
    for (const [, name] of up.matchAll(/dropTable(?:IfExists)?\('([a-z_]+)'/g)) made.delete(name!);
  }
  return made;
}

test("every table the migrations create has its owner in ARCHITECTURE.md's domain table", (t) => {
  const domains = architecture.slice(architecture.indexOf('## Domains'), architecture.indexOf('One named crossing'));
  const owned = new Set([...domains.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));
  const made = tables();
  t.true(made.size > 20, 'the migrations were read');
  t.deepEqual(
    [...made].filter((table) => !owned.has(table)),
    [],
  );
});

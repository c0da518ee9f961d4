// ARCHITECTURE.md's domain table says which domain owns each table and emits which events: every
// table the migrations create (and no later one drops) and every event a domain declares must be
// in it, so that a new table gets an owner and a new event its emitter.
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

/** The events each domain declares (`declare module '../events.ts'`), by its folder. */
function declaredEvents(): Map<string, string[]> {
  const source = join(projectRoot, 'appliance/src');
  const byDomain = new Map<string, string[]>();
  for (const file of readdirSync(source, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    const domain = file.split(/[\\/]/)[0]!;
    if (domain === file) continue; // the shared kernel's own files
    const text = readFileSync(join(source, file), 'utf8');
    for (const [block] of text.matchAll(/declare module '\.\.\/events\.ts' \{[\s\S]*?\n\}/g))
      for (const [, name] of block.matchAll(/^ {4}'([a-z_]+\.[a-z_]+)':/gm))
        byDomain.set(domain, [...(byDomain.get(domain) ?? []), name!]);
  }
  return byDomain;
}

test("every event a domain declares is in its row of ARCHITECTURE.md's domain table", (t) => {
  const events = declaredEvents();
  t.true(events.size > 4, 'the declarations were read');
  for (const [domain, names] of events) {
    const row = new RegExp(`^\\| \`${domain}/\` .*$`, 'm').exec(architecture)?.[0] ?? '';
    const emits = row.split('|').at(-2) ?? '';
    const listed = [...emits.matchAll(/`([a-z_.*]+)`/g)].map((m) => m[1]!);
    for (const name of names) {
      const covered = listed.some((l) => l === name || (l.endsWith('.*') && name.startsWith(l.slice(0, -1))));
      t.true(covered, `${domain}/ declares ${name}, which its row does not list`);
    }
  }
});

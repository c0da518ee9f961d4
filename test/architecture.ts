// The domain boundaries of ARCHITECTURE.md: each domain plugin declares, in its `dependencies`,
// every domain it imports, and is registered after them (so no cycle can hide between domains).
// The import rules themselves (.dependency-cruiser.cjs) run in `npm run lint`.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plugins } from '../appliance/src/plugins.ts';

const src = join(import.meta.dirname, '..', 'appliance', 'src');
const order = plugins.map((p) => (p as { name: string }).name);

/** The domains a domain's files import (through their index.ts: the import rules allow nothing else). */
function importedDomains(domain: string): Set<string> {
  const found = new Set<string>();
  for (const file of readdirSync(join(src, domain)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
    const text = readFileSync(join(src, domain, file), 'utf8');
    for (const [, other] of text.matchAll(/from '\.\.\/(\w+)\/index\.ts'/g)) {
      if (other && other !== domain && order.includes(other)) found.add(other);
    }
  }
  return found;
}

test('every domain plugin declares the domains it imports and is registered after them', (t) => {
  for (const plugin of plugins) {
    const { name, dependencies } = plugin as { name: string; dependencies?: string[] };
    const declared = new Set(dependencies ?? []);
    for (const other of importedDomains(name)) {
      t.true(declared.has(other), `${name} imports ${other} but does not declare it`);
      t.true(order.indexOf(other) < order.indexOf(name), `${name} imports ${other}, registered after it`);
    }
    for (const other of declared) {
      t.true(order.indexOf(other) < order.indexOf(name), `${name} depends on ${other}, registered after it`);
    }
  }
});

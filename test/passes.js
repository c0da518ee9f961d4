#!/usr/bin/env node
// Runs the suite in passes: every test on SQLite, then - when TEST_DATABASE_URL names a
// PostgreSQL server (CI sets it) - every test that uses a database once more on PostgreSQL.
// Tests that never touch a database (configuration, GSM, the bundle's files) run once.
// Extra arguments go to ava in both passes (e.g. --match); a failing pass fails the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const avaDir = join(root, 'node_modules', 'ava');
const ava = join(avaDir, JSON.parse(readFileSync(join(avaDir, 'package.json'), 'utf8')).bin.ava);
const args = process.argv.slice(2);

// What makes a test use a database: it starts the appliance or opens one of the test databases.
const usesDatabase = /\b(startServer|testDatabase|everyDatabase|postgresDatabase)\b/;

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'helpers' ? [] : testFiles(path);
    // ava's own rule: files starting with an underscore are helpers, not tests.
    return entry.name.endsWith('.ts') && !entry.name.startsWith('_') ? [path] : [];
  });
}

/** Whether a file, or a test-local module it imports (transitively), uses a database. */
function reachesDatabase(file, seen = new Set()) {
  if (seen.has(file)) return false;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  if (usesDatabase.test(source)) return true;
  const imports = [...source.matchAll(/from '(\.{1,2}\/[^']+\.ts)'/g)].map((m) => resolve(dirname(file), m[1]));
  return imports.some((path) => path.startsWith(join(root, 'test')) && reachesDatabase(path, seen));
}

function pass(engine, files) {
  process.stdout.write(
    `\n== tests on ${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${files.length ? ` (${files.length} files that use a database)` : ''}\n`,
  );
  const run = spawnSync(process.execPath, [ava, ...files, ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TEST_DB: engine },
  });
  return run.status ?? 1;
}

let failed = pass('sqlite', []);
if (process.env.TEST_DATABASE_URL) {
  const files = testFiles(join(root, 'test'))
    .filter((file) => reachesDatabase(file))
    .map((file) => relative(root, file))
    .sort();
  failed = pass('postgres', files) || failed;
} else {
  process.stdout.write('\nTEST_DATABASE_URL is not set: the PostgreSQL pass is skipped (CI runs it)\n');
}
if (process.env.NODE_V8_COVERAGE) dropUnrunClassInitializers(process.env.NODE_V8_COVERAGE);
process.exit(failed);

/**
 * Corrects what V8 reports of a class that a process loaded but never instantiated (V8 in Node 24;
 * Node 20's does not do it): the class's field initializer, `<instance_members_initializer>`, comes
 * with a count of 0 over the whole class body, where a process that made an instance reports it
 * over the field initializers alone. c8 merges the processes' reports range by range, so that
 * wide 0 range stays, and it marked every method of such a class as never run: the CLI's
 * processes, which load the domains and instantiate nothing, took `MeetingService` from 98 % to
 * 81 % and the whole suite from 98 % to 95.5 % under Node 24. A count of 0 adds nothing to the
 * merged counts: the entry is dropped from the raw reports before c8 reads them.
 */
function dropUnrunClassInitializers(dir) {
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.json'))) {
    const path = join(dir, name);
    const report = JSON.parse(readFileSync(path, 'utf8'));
    let dropped = 0;
    for (const script of report.result ?? []) {
      const kept = script.functions.filter(
        (fn) => !(fn.functionName === '<instance_members_initializer>' && fn.ranges.every((r) => r.count === 0)),
      );
      dropped += script.functions.length - kept.length;
      script.functions = kept;
    }
    if (dropped > 0) writeFileSync(path, JSON.stringify(report));
  }
}

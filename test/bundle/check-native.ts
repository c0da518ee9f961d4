// provisioning/check-native.sh, run by CI and the image build: it passes the installed
// better-sqlite3, and refuses a module compiled against Node 24.19+'s node_object_wrap.h (whose
// cleanup hook makes better-sqlite3 12 abort the process; README, "Node versions").
import { appendFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { root, run, tempDir } from './_bundle.ts';

/** A project folder holding the check and a copy of the installed better-sqlite3. */
function project(): string {
  const dir = tempDir('check-native');
  mkdirSync(join(dir, 'provisioning'));
  cpSync(join(root, 'provisioning/check-native.sh'), join(dir, 'provisioning/check-native.sh'));
  for (const module of ['better-sqlite3', 'bindings', 'file-uri-to-path']) {
    cpSync(join(root, 'node_modules', module), join(dir, 'node_modules', module), {
      recursive: true,
      dereference: true,
    });
  }
  return dir;
}

test('the installed better-sqlite3 passes the check', async (t) => {
  const result = await run('bash', [join(project(), 'provisioning/check-native.sh')]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /better-sqlite3 loads in Node v\d+/);
});

test('a module built against Node 24.19+ headers is refused with the fix', async (t) => {
  const dir = project();
  // The symbol such a build carries: node::ObjectWrap::CleanupHook, inlined from the header.
  appendFileSync(
    join(dir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
    '_ZN4node10ObjectWrap11CleanupHookEPv',
  );
  const result = await run('bash', [join(dir, 'provisioning/check-native.sh')]);
  t.is(result.code, 1);
  t.regex(result.stderr, /compiled against Node 24\.19\+ headers/);
  t.regex(result.stderr, /Node 24\.18\.0's headers/);
});

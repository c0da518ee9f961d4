// `npm start` builds only when the sources changed: the build script run twice on an unchanged
// tree builds once; a file touched but not changed builds nothing; an edited source builds again.
// Run on a small copy of the project's layout (the real build scripts, a tiny server and client).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';

const root = new URL('../..', import.meta.url).pathname;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-build-'));
  for (const file of ['bin/build.js', 'admin/build.js', 'tsconfig.json']) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(root, file), join(dir, file));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package-lock.json'), '{}\n');
  mkdirSync(join(dir, 'appliance/src'), { recursive: true });
  mkdirSync(join(dir, 'admin/client'), { recursive: true });
  writeFileSync(join(dir, 'appliance/src/main.ts'), "export const greeting: string = 'hej';\n");
  writeFileSync(join(dir, 'appliance/src/cli.ts'), "export const cli = 'samverka';\n");
  writeFileSync(join(dir, 'admin/client/entry.ts'), "document.title = 'Samverka';\n");
  return dir;
}

const build = (dir: string) => {
  const run = spawnSync(process.execPath, ['bin/build.js', '--if-changed'], { cwd: dir, encoding: 'utf8' });
  return { code: run.status, built: run.stderr.includes('Building') };
};

test('an unchanged tree starts without building; a changed source is built again', (t) => {
  t.timeout(5 * 60_000, 'four builds with tsc and esbuild, on a shared machine');
  const dir = project();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(build(dir), { code: 0, built: true }, 'a fresh checkout is built');
  t.true(existsSync(join(dir, 'dist/appliance/src/main.js')));
  t.true(existsSync(join(dir, 'dist/static/entry.js')));
  t.deepEqual(build(dir), { code: 0, built: false }, 'nothing changed: nothing built');

  const main = join(dir, 'appliance/src/main.ts');
  utimesSync(main, new Date(), new Date(Date.now() + 60_000));
  t.deepEqual(build(dir), { code: 0, built: false }, 'a newer time on the same content builds nothing');

  writeFileSync(main, "export const greeting: string = 'hallå';\n");
  t.deepEqual(build(dir), { code: 0, built: true }, 'an edited source is built');
  t.regex(readFileSync(join(dir, 'dist/appliance/src/main.js'), 'utf8'), /hallå/);

  rmSync(join(dir, 'dist/static'), { recursive: true });
  t.deepEqual(build(dir), { code: 0, built: true }, 'a missing output is built again');
});

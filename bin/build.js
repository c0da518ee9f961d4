#!/usr/bin/env node
// Builds the appliance into dist/: the server with tsc, the client scripts with admin/build.js.
// `--if-changed` (what `npm start` runs) builds only when the sources differ from the last build:
// a stamp in dist/ holds a hash of every input's content, so an edit, a checkout or a new
// dependency rebuilds, and an unchanged tree starts at once.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stampFile = join(root, 'dist', '.build-stamp');
/** What the build reads: the sources, their compiler settings, the build scripts and the locked dependencies. */
const inputs = [
  'appliance/src',
  'admin/client',
  'admin/build.js',
  'bin/build.js',
  'tsconfig.json',
  'package-lock.json',
];
/** What must be there for a build to count as done. */
const outputs = ['dist/appliance/src/main.js', 'dist/appliance/src/cli.js', 'dist/static/entry.js'];

/** Every file under `path` (or the file itself), relative to the root, in a stable order. */
function files(path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

function stamp() {
  const hash = createHash('sha256');
  for (const path of inputs.flatMap(files))
    hash
      .update(`${path}\0`)
      .update(readFileSync(join(root, path)))
      .update('\0');
  return hash.digest('hex');
}

function run(args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const current = stamp();
const built = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
if (process.argv.includes('--if-changed') && built === current && outputs.every((o) => existsSync(join(root, o))))
  process.exit(0);

if (process.argv.includes('--if-changed'))
  process.stderr.write('Building (the sources changed since the last build) …\n');
run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
run([join(root, 'admin', 'build.js')]);
writeFileSync(stampFile, `${current}\n`);

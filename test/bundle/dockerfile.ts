// The Dockerfile, read: a build stage and a slim Node 24 LTS runtime, both pinned by version and digest, an unprivileged user, a health
// check on /health/live, data in /data, and the `samverka` command on the PATH. (No engine runs
// here, so the image itself is built only in a real deployment.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { present } from '../helpers/present.ts';
import { root } from './_bundle.ts';

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
const stages = instructions.filter((l) => l.startsWith('FROM '));
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

test('the image is built and runs on Node 24 LTS, both base images pinned by version and digest', (t) => {
  t.is(stages.length, 2);
  t.is(stages[0], 'FROM ${BUILD_IMAGE} AS build');
  t.is(stages[1], 'FROM ${RUNTIME_IMAGE} AS runtime');
  const build = present(/^ARG BUILD_IMAGE=(.+)$/m.exec(dockerfile)?.[1], 'ARG BUILD_IMAGE');
  const runtimeImage = present(/^ARG RUNTIME_IMAGE=(.+)$/m.exec(dockerfile)?.[1], 'ARG RUNTIME_IMAGE');
  t.regex(build, /^node:24\.\d+\.\d+-bookworm@sha256:[0-9a-f]{64}$/);
  t.regex(runtimeImage, /^node:24\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64}$/);
  const version = (image: string) => present(/^node:([\d.]+)-/.exec(image)?.[1], `the Node version of ${image}`);
  t.is(version(build), version(runtimeImage), 'the native module is built for the Node that runs it');
  // CI runs the suite on the same Node version the image runs.
  t.regex(
    readFileSync(join(root, '.ci/node24.sh'), 'utf8'),
    new RegExp(`^node24_version=${version(build).replace(/\./g, '\\.')}$`, 'm'),
  );
  const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node as string;
  t.true(
    engines.split('||').some((range) => range.trim() === '^24.0.0'),
    engines,
  );
  t.regex(dockerfile, /RUN npm ci [^\n]*\n/);
  // better-sqlite3 12 compiled against Node 24.19+'s headers aborts under load: built against
  // 24.18.0's (the version CI uses too), and checked before the image is finished.
  const headers = /^ARG NODE_HEADERS_VERSION=(\S+)$/m.exec(dockerfile)?.[1];
  t.is(headers, /^node24_headers_version=(\S+)$/m.exec(readFileSync(join(root, '.ci/node24.sh'), 'utf8'))?.[1]);
  t.regex(dockerfile, /npm_config_nodedir=\/opt\/node-headers/);
  t.true(dockerfile.indexOf('npm_config_nodedir') < dockerfile.indexOf('RUN npm ci'));
  t.regex(dockerfile, /RUN bash provisioning\/check-native\.sh/);
  t.regex(dockerfile, /npm run build && npm prune --omit=dev/);
});

test('the runtime holds production dependencies, the compiled server, views, strings, templates and the CLI', (t) => {
  for (const copied of [
    '/src/node_modules ./node_modules',
    '/src/dist ./dist',
    'admin/views ./admin/views',
    'admin/locales ./admin/locales',
    'admin/static ./admin/static',
    'templates ./templates',
    'bin ./bin',
  ]) {
    t.true(runtime.includes(copied), copied);
  }
  t.notRegex(
    runtime,
    /COPY (--from=build )?\/?src\/appliance|COPY appliance/,
    'the TypeScript source stays out of the runtime',
  );
  t.regex(runtime, /ln -s \/app\/bin\/samverka\.js \/usr\/local\/bin\/samverka/);
  t.regex(runtime, /COPY provisioning\/first-run \/usr\/local\/bin\/first-run/);
  // The tests' identity provider stays out of the image (npm prune --omit=dev drops it).
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  t.false('oidc-provider' in pkg.dependencies);
  t.true('oidc-provider' in pkg.devDependencies);
});

test('it runs as an unprivileged user, with data in a volume and configuration for the bundle', (t) => {
  const users = instructions.filter((l) => l.startsWith('USER '));
  t.deepEqual(users, ['USER node']);
  t.true(runtime.indexOf('USER node') > runtime.indexOf('chown node:node /data'));
  t.regex(runtime, /VOLUME \["\/data"\]/);
  t.regex(runtime, /DATA_DIR=\/data/);
  t.regex(runtime, /DATABASE_URL=sqlite:\/data\/samverka\.db/);
  t.regex(runtime, /NODE_ENV=production/);
});

test('a health check asks /health/live, and the entry script fails fast before the server starts', (t) => {
  const healthcheck = instructions.find((l) => l.startsWith('HEALTHCHECK '));
  t.regex(present(healthcheck, 'a HEALTHCHECK instruction'), /\/health\/live/);
  t.regex(runtime, /ENTRYPOINT \["samverka-entrypoint"\]/);
  t.regex(runtime, /CMD \["node", "dist\/appliance\/src\/main\.js"\]/);
});

test('.dockerignore keeps secrets, builds and tests out of the build context', (t) => {
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['.env', 'node_modules', 'dist', 'data', 'test', '.git']) t.true(ignored.includes(entry), entry);
});

// The container image's file layout, assembled without an engine exactly as the Dockerfile's
// runtime stage lays it out (compiled dist/, views, strings, static files, templates, bin/, no
// TypeScript source): the `samverka` command runs the compiled CLI there, first-run works through
// it, and the server starts through the entry script and answers /health/live.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { freePort } from '../helpers/coturn.ts';
import { cleanEnv, root, run, tempDir } from './_bundle.ts';

/** /app as the Dockerfile builds it; node_modules is the checkout's (the image prunes dev ones). */
async function assembleImage(): Promise<string> {
  const app = tempDir('image');
  const compiled = await run(join(root, 'node_modules/.bin/tsc'), [
    '-p',
    join(root, 'tsconfig.json'),
    '--outDir',
    join(app, 'dist'),
  ]);
  if (!existsSync(join(app, 'dist/appliance/src/main.js')))
    throw new Error(`tsc emitted no main.js: ${compiled.stdout}`);
  const bundled = await run('node', [join(root, 'admin/build.js')], { cwd: app });
  if (bundled.code !== 0) throw new Error(`admin/build.js failed: ${bundled.stderr}`);
  for (const path of ['package.json', 'bin', 'templates', 'admin/views', 'admin/locales', 'admin/static']) {
    cpSync(join(root, path), join(app, path), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return app;
}

test('in the image layout the CLI runs compiled, first-run works, and the server answers /health/live', async (t) => {
  const app = await assembleImage();
  t.false(existsSync(join(app, 'appliance')), 'the runtime holds no TypeScript source');
  const port = await freePort();
  const data = join(app, 'data');
  const env = cleanEnv({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: 'https://samverka.region.se',
    DATA_DIR: data,
    DATABASE_URL: `sqlite:${join(data, 'samverka.db')}`,
    SESSION_SECRET: 'a'.repeat(64),
    DATA_KEY: 'b'.repeat(64),
    SMTP_URL: 'smtp://127.0.0.1:9',
    SMPP_URL: 'smpp://samverka:secret@127.0.0.1:9',
    LOG_LEVEL: 'silent',
    SAMVERKA_COMMAND: `node ${join(app, 'bin/samverka.js')}`,
  });

  const setup = await run(
    'sh',
    [
      join(root, 'provisioning/first-run'),
      '--unit',
      'Barnkliniken',
      '--email',
      'anna@region.se',
      '--name',
      'Anna',
      '--password',
      'rätt-häftklammer-42',
    ],
    { env, cwd: app },
  );
  t.is(setup.code, 0, setup.stderr);
  t.regex(setup.stdout, /added admin anna@region\.se/);

  const server = spawn('sh', [join(root, 'provisioning/docker/entrypoint.sh'), 'node', 'dist/appliance/src/main.js'], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout.on('data', (c: Buffer) => (output += c.toString()));
  server.stderr.on('data', (c: Buffer) => (output += c.toString()));
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGTERM');
  });

  const deadline = Date.now() + 30_000;
  let answer: { status: number; body: unknown } | undefined;
  while (!answer && Date.now() < deadline && server.exitCode === null) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/live`);
      answer = { status: response.status, body: await response.json() };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.truthy(answer, `the server did not answer: ${output}`);
  t.is(answer!.status, 200);
  t.deepEqual(answer!.body, { ok: true });
  t.regex(output, /Samverka is running at https:\/\/samverka\.region\.se/);
  t.notRegex(output, /First start: created the admin account/, 'first-run already made an admin');

  server.kill('SIGTERM');
  const [code] = await once(server, 'exit');
  t.is(code, 0, output);
});

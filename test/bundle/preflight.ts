// The preflight: `docker compose config -q` is silent with env.example's examples still in place,
// so the appliance checks them itself. `samverka check --config` runs on the environment compose.yaml
// gives the appliance: it refuses the example names, the documentation address and the gateway
// placeholder, one line per variable, and passes once the hospital's real values are in. The
// container's entry script and first-run run it before anything else.
import { join } from 'node:path';
import test from 'ava';
import { present } from '../helpers/present.ts';
import {
  cleanEnv,
  realValues,
  renderCompose,
  renderEnv,
  root,
  run,
  serviceEnvironment,
  tempDir,
  withValues,
} from './_bundle.ts';

const samverka = (env: Record<string, string>, ...args: string[]) =>
  run('node', [join(root, 'bin/samverka.js'), ...args], { env: cleanEnv({ ...env, DATA_DIR: tempDir('preflight') }) });

test('the appliance refuses to start with the values env.example ships with', async (t) => {
  const { file } = await renderEnv();
  t.is(
    (
      await run(
        'docker-compose',
        ['--project-directory', root, '-f', join(root, 'compose.yaml'), '--env-file', file, 'config', '-q'],
        { env: cleanEnv() },
      )
    ).code,
    0,
    'compose alone does not notice',
  );
  const env = serviceEnvironment(await renderCompose(file), 'appliance');
  const result = await samverka(env, 'check', '--config');
  t.is(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  for (const variable of [
    'PUBLIC_URL',
    'JITSI_URL',
    'TURN_URLS',
    'TURN_HOST',
    'JVB_ADVERTISE_IPS',
    'SMPP_URL',
    'MAIL_FROM',
    'RELAYHOST',
    'MAIL_SENDER_DOMAINS',
    'MAIL_HOSTNAME',
  ]) {
    t.true(
      lines.some((l) => l.startsWith(`FATAL: ${variable} `)),
      `${variable} not refused:\n${result.stderr}`,
    );
  }
  t.regex(result.stderr, /FATAL: SMPP_URL still holds a placeholder from env\.example/);
  t.regex(result.stderr, /FATAL: JVB_ADVERTISE_IPS is 192\.0\.2\.10, an address reserved for documentation/);
  t.regex(result.stderr, /FATAL: PUBLIC_URL names samverka\.example\.se, an example domain/);
  t.false(result.stderr.includes(present(env.SESSION_SECRET, 'SESSION_SECRET')), 'no secret in the output');
});

test("with the hospital's real values the preflight passes", async (t) => {
  const { file } = await renderEnv();
  const env = serviceEnvironment(await renderCompose(withValues(file, realValues)), 'appliance');
  const result = await samverka(env, 'check', '--config');
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /ok {3}configuration/);
});

test('the entry script runs the preflight and starts nothing when it fails', async (t) => {
  const { file } = await renderEnv();
  const env = serviceEnvironment(await renderCompose(file), 'appliance');
  const entry = await run('sh', [join(root, 'provisioning/docker/entrypoint.sh'), 'echo', 'started'], {
    env: cleanEnv({
      ...env,
      DATA_DIR: tempDir('preflight'),
      SAMVERKA_COMMAND: `node ${join(root, 'bin/samverka.js')}`,
    }),
  });
  t.is(entry.code, 1);
  t.is(entry.stdout, '');
  t.regex(entry.stderr, /FATAL: PUBLIC_URL names samverka\.example\.se/);
});

test('first-run refuses to set up an appliance whose configuration still holds examples', async (t) => {
  const dir = tempDir('preflight-first-run');
  const result = await run(
    'sh',
    [join(root, 'provisioning/first-run'), '--unit', 'Barnkliniken', '--email', 'anna@region.se', '--name', 'Anna'],
    {
      env: cleanEnv({
        PUBLIC_URL: 'https://samverka.example.se',
        DATA_DIR: dir,
        DATABASE_URL: `sqlite:${join(dir, 'samverka.db')}`,
        SAMVERKA_COMMAND: `node ${join(root, 'bin/samverka.js')}`,
      }),
    },
  );
  t.is(result.code, 1);
  t.regex(result.stderr, /FATAL: PUBLIC_URL names samverka\.example\.se/);
  t.notRegex(result.stdout, /added/);
});

// provisioning/gen-secrets.sh: .env from env.example with a fresh, distinct secret in every slot.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { present } from '../helpers/present.ts';
import { loadConfig } from '../../appliance/src/config.ts';
import { cleanEnv, parseEnvFile, renderEnv, root, run, secretBits, tempDir } from './_bundle.ts';

test('every secret is fresh hexadecimal randomness of at least 128 bits, and no two are alike', async (t) => {
  const { values } = await renderEnv();
  const secrets = Object.keys(secretBits).map((name) => values.get(name) ?? '');
  for (const [name, bits] of Object.entries(secretBits)) {
    t.regex(values.get(name) ?? '', new RegExp(`^[0-9a-f]{${bits / 4}}$`), `${name} should be ${bits} bits in hex`);
  }
  t.is(new Set(secrets).size, secrets.length, 'a secret was reused');
});

test('two runs never produce the same secret', async (t) => {
  const first = await renderEnv();
  const second = await renderEnv();
  for (const name of Object.keys(secretBits)) t.not(first.values.get(name), second.values.get(name), name);
});

test('the generated keys satisfy the appliance in production', async (t) => {
  const { values } = await renderEnv();
  const config = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: tempDir('data'),
    SESSION_SECRET: values.get('SESSION_SECRET'),
    DATA_KEY: values.get('DATA_KEY'),
    SMTP_URL: 'smtp://postfix:587',
    SMPP_URL: values.get('SMPP_URL'),
    JITSI_URL: values.get('JITSI_URL'),
    JWT_APP_ID: values.get('JWT_APP_ID'),
    JWT_APP_SECRET: values.get('JWT_APP_SECRET'),
    TURN_URLS: `turn:${values.get('TURN_HOST')}:3478?transport=udp`,
    TURN_SECRET: values.get('TURN_SECRET'),
  });
  t.is(config.dataKey.length, 32);
  t.deepEqual(config.generatedSecrets, []);
});

test('the file is readable by its owner only, and everything but the secrets is env.example verbatim', async (t) => {
  const { file, values } = await renderEnv();
  t.is(statSync(file).mode & 0o777, 0o600);
  const example = parseEnvFile(readFileSync(join(root, 'env.example'), 'utf8'));
  for (const [name, value] of example) {
    if (!(name in secretBits)) t.is(values.get(name), value, name);
  }
  t.regex(
    readFileSync(file, 'utf8'),
    new RegExp(`postgres://samverka:${values.get('POSTGRES_PASSWORD')}@postgres:5432/samverka`),
  );
});

test('an existing .env is never overwritten without --force, and --force keeps a backup', async (t) => {
  const { dir, file } = await renderEnv();
  const before = readFileSync(file, 'utf8');
  const refused = await run('bash', [join(root, 'provisioning/gen-secrets.sh'), file], { env: cleanEnv() });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /already exists; not overwriting it/);
  t.is(readFileSync(file, 'utf8'), before);

  const forced = await run('bash', [join(root, 'provisioning/gen-secrets.sh'), '--force', file], { env: cleanEnv() });
  t.is(forced.code, 0, forced.stderr);
  const backup = present(
    /kept the previous file as (\S+)/.exec(forced.stdout)?.[1],
    `the kept file in: ${forced.stdout}`,
  );
  t.is(readFileSync(backup, 'utf8'), before);
  t.not(parseEnvFile(readFileSync(file, 'utf8')).get('DATA_KEY'), parseEnvFile(before).get('DATA_KEY'));
  t.true(backup.startsWith(dir));
});

test('a template without a slot for a required secret is refused rather than half filled', async (t) => {
  const dir = tempDir('template');
  // Pretend to be the project: a copy of gen-secrets.sh beside an env.example that lacks DATA_KEY.
  const copy = join(dir, 'provisioning');
  await run('mkdir', ['-p', copy]);
  writeFileSync(join(copy, 'gen-secrets.sh'), readFileSync(join(root, 'provisioning/gen-secrets.sh')));
  writeFileSync(join(dir, 'env.example'), readFileSync(join(root, 'env.example'), 'utf8').replace(/^DATA_KEY=\n/m, ''));
  const result = await run('bash', [join(copy, 'gen-secrets.sh'), join(dir, 'out.env')], { env: cleanEnv() });
  t.is(result.code, 1);
  t.regex(result.stderr, /no empty line "DATA_KEY=" to fill/);
});

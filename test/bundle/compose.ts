// compose.yaml, validated by Debian's docker-compose without an engine (`config -q` interpolates
// every variable and checks the schema): it accepts a .env from gen-secrets.sh and stops with a
// message naming the variable when a required one is missing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cleanEnv, renderEnv, root, run } from './_bundle.ts';

const compose = (envFile: string, ...args: string[]) =>
  run('docker-compose', ['--project-directory', root, '-f', join(root, 'compose.yaml'), '--env-file', envFile, ...args], { env: cleanEnv() });

function withoutValue(file: string, name: string): string {
  const changed = `${file}.without-${name}`;
  writeFileSync(changed, readFileSync(file, 'utf8').replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=`));
  return changed;
}

test('the bundle validates with a .env rendered by gen-secrets.sh', async (t) => {
  const { file } = await renderEnv();
  const result = await compose(file, 'config', '-q');
  t.is(result.code, 0, result.stderr);
});

for (const secret of ['SESSION_SECRET', 'DATA_KEY', 'JWT_APP_SECRET', 'TURN_SECRET', 'XMPP_PASSWORD', 'JICOFO_AUTH_PASSWORD', 'JVB_AUTH_PASSWORD']) {
  test(`a missing ${secret} stops the bundle with a message that names it and the fix`, async (t) => {
    const { file } = await renderEnv();
    const result = await compose(withoutValue(file, secret), 'config', '-q');
    t.is(result.code, 1);
    t.regex(result.stderr, new RegExp(`${secret} must be set in \\.env, run provisioning/gen-secrets\\.sh`));
  });
}

test('a missing public address or mail relay stops the bundle too', async (t) => {
  const { file } = await renderEnv();
  for (const name of ['PUBLIC_URL', 'JITSI_URL', 'RELAYHOST', 'SMPP_URL', 'JVB_ADVERTISE_IPS', 'TURN_HOST']) {
    const result = await compose(withoutValue(file, name), 'config', '-q');
    t.is(result.code, 1, name);
    t.regex(result.stderr, new RegExp(`${name} must be set in \\.env`), name);
  }
});

test('the rendered bundle wires the appliance, Prosody and coturn to the same secrets', async (t) => {
  const { file, values } = await renderEnv();
  const { stdout, code, stderr } = await compose(file, 'config');
  t.is(code, 0, stderr);
  const env = (service: string, name: string) => new RegExp(`\\n  ${service}:\\n[\\s\\S]*?\\n      ${name}: ([^\\n]*)`).exec(stdout)?.[1];
  t.is(env('appliance', 'JWT_APP_SECRET'), values.get('JWT_APP_SECRET'));
  t.is(env('prosody', 'JWT_APP_SECRET'), values.get('JWT_APP_SECRET'));
  t.is(env('prosody', 'TURN_CREDENTIALS'), values.get('TURN_SECRET'));
  t.is(env('appliance', 'TURN_SECRET'), values.get('TURN_SECRET'));
  t.true(stdout.includes(`--static-auth-secret=${values.get('TURN_SECRET')}`));
  // The appliance's XMPP account is the one Prosody creates on the hidden domain.
  t.is(env('prosody', 'JIBRI_RECORDER_PASSWORD'), values.get('XMPP_PASSWORD'));
  t.is(env('appliance', 'XMPP_PASSWORD'), values.get('XMPP_PASSWORD'));
  t.is(env('appliance', 'XMPP_DOMAIN'), 'hidden.meet.jitsi');
  t.is(env('prosody', 'XMPP_HIDDEN_DOMAIN'), 'hidden.meet.jitsi');
  // Prosody: JWT only, issuers and audiences explicit, no anonymous rooms, lobby on.
  t.is(env('prosody', 'ENABLE_AUTH'), "'1'");
  t.is(env('prosody', 'AUTH_TYPE'), 'jwt');
  t.is(env('prosody', 'JWT_ACCEPTED_ISSUERS'), 'samverka');
  t.is(env('prosody', 'JWT_ACCEPTED_AUDIENCES'), 'samverka');
  t.is(env('appliance', 'JWT_APP_ID'), 'samverka', "the appliance's tokens carry the app id as issuer and audience");
  t.is(env('prosody', 'ENABLE_GUESTS'), "'0'");
  t.is(env('prosody', 'JWT_ALLOW_EMPTY'), "'0'");
  t.is(env('prosody', 'ENABLE_LOBBY'), "'1'");
  t.is(env('appliance', 'NODE_ENV'), 'production');
  t.is(env('appliance', 'SMTP_URL'), 'smtp://postfix:587');
});

test('the four Jitsi images come from one stable release, and every image is pinned', (t) => {
  const text = readFileSync(join(root, 'compose.yaml'), 'utf8');
  const images = [...text.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]);
  const jitsi = images.filter((i) => /\/jitsi\/(web|prosody|jicofo|jvb):/.test(i));
  t.is(jitsi.length, 4);
  const tags = new Set(jitsi.map((i) => i.split(':')[1]));
  t.is(tags.size, 1);
  t.regex([...tags][0], /^stable-\d+(-\d+)?$/);
  for (const image of images) t.notRegex(image, /:latest$|^[^:]+$/, `${image} is not pinned`);
});

test('services run read-only where the images allow, on one private network, with named volumes', (t) => {
  const text = readFileSync(join(root, 'compose.yaml'), 'utf8');
  const services = text.split(/\n(?=  [a-z]+:\n)/).slice(1);
  const named = (block: string) => /^  ([a-z]+):/.exec(block)?.[1];
  for (const block of services.filter((b) => /^  [a-z]+:\n    (build|image):/.test(b))) {
    const name = named(block)!;
    if (name !== 'postfix') t.regex(block, /read_only: true/, `${name} should be read-only`);
    t.regex(block, /networks:\n      samverka:/, `${name} should be on the private network`);
  }
  t.notRegex(text, /^name:/m, 'docker-compose 1.29 rejects a top-level name');
  t.regex(text, /samverka-data:\/data/);
  t.regex(text, /\$\{TEMPLATES_OVERRIDE_DIR:-\.\/templates\.local\}:\/templates:ro/);
  t.regex(text, /\$\{TURN_CERTS_DIR:-\.\/certs\/turn\}:\/certs:ro/);
  t.regex(text, /prosody-data:\/var\/lib\/prosody/);
  t.regex(text, /prosody-certs:\/config\/certs/);
  t.regex(text, /profiles:\n      - postgres/);
  // Samverka's part of the Prosody configuration is the file the Debian install uses, mounted read-only.
  const mount = /- \.\/(provisioning\/prosody\/samverka\.cfg\.lua):\/config\/conf\.d\/samverka\.cfg\.lua:ro/.exec(text);
  t.truthy(mount);
  t.true(existsSync(join(root, mount![1])));
});

test('two appliance processes share the bundled PostgreSQL and the secrets, each on its own bind', async (t) => {
  const { file, values } = await renderEnv();
  // As INSTALL.md says: the postgres:// line instead of the SQLite one, both profiles.
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^DATABASE_URL=sqlite:.*$/m, '#$&').replace(/^#(DATABASE_URL=postgres:.*)$/m, '$1'));
  const { stdout, code, stderr } = await compose(file, '--profile', 'postgres', '--profile', 'replicas', 'config');
  t.is(code, 0, stderr);
  const env = (service: string, name: string) => new RegExp(`\\n  ${service}:\\n[\\s\\S]*?\\n      ${name}: ([^\\n]*)`).exec(stdout)?.[1];
  const databaseUrl = `postgres://samverka:${values.get('POSTGRES_PASSWORD')}@postgres:5432/samverka`;
  for (const service of ['appliance', 'appliance-2']) {
    t.is(env(service, 'DATABASE_URL'), databaseUrl, service);
    for (const secret of ['SESSION_SECRET', 'DATA_KEY', 'JWT_APP_SECRET', 'XMPP_PASSWORD']) t.is(env(service, secret), values.get(secret), `${service} ${secret}`);
  }
  t.regex(stdout, /\n {2}appliance-2:\n[\s\S]*?- 127\.0\.0\.1:3001:3000\/tcp/);
  // Only with its profile: without it the bundle is the one process it always was.
  t.regex(stdout, /\n {2}appliance-2:\n[\s\S]*?profiles:\n {4}- replicas\n/);
});

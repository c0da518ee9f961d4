// compose.yaml, validated by Debian's docker-compose without an engine (`config -q` interpolates
// every variable and checks the schema): it accepts a .env from gen-secrets.sh and stops with a
// message naming the variable when a required one is missing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { present } from '../helpers/present.ts';
import { cleanEnv, renderCompose, renderEnv, root, run, secretBits, serviceEnvironment } from './_bundle.ts';

const compose = (envFile: string, ...args: string[]) =>
  run(
    'docker-compose',
    ['--project-directory', root, '-f', join(root, 'compose.yaml'), '--env-file', envFile, ...args],
    { env: cleanEnv() },
  );

/** The bundle as INSTALL.md sets up two processes: the postgres:// line instead of the SQLite one, both profiles. */
function withReplicas(envFile: string) {
  writeFileSync(
    envFile,
    readFileSync(envFile, 'utf8')
      .replace(/^DATABASE_URL=sqlite:.*$/m, '#$&')
      .replace(/^#(DATABASE_URL=postgres:.*)$/m, '$1'),
  );
  return compose(envFile, '--profile', 'postgres', '--profile', 'replicas', 'config');
}

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

for (const secret of [
  'SESSION_SECRET',
  'DATA_KEY',
  'JWT_APP_SECRET',
  'TURN_SECRET',
  'XMPP_PASSWORD',
  'JICOFO_AUTH_PASSWORD',
  'JVB_AUTH_PASSWORD',
]) {
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
  const env = (service: string, name: string) =>
    new RegExp(`\\n  ${service}:\\n[\\s\\S]*?\\n      ${name}: ([^\\n]*)`).exec(stdout)?.[1];
  t.is(env('appliance', 'JWT_APP_SECRET'), values.get('JWT_APP_SECRET'));
  t.is(env('prosody', 'JWT_APP_SECRET'), values.get('JWT_APP_SECRET'));
  t.is(env('prosody', 'TURN_CREDENTIALS'), values.get('TURN_SECRET'));
  t.is(env('appliance', 'TURN_SECRET'), values.get('TURN_SECRET'));
  t.is(env('coturn', 'TURN_SECRET'), values.get('TURN_SECRET'));
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
  // No secret on any command line: `ps` on the host shows command lines to every user.
  for (const name of Object.keys(secretBits))
    t.false(
      present(/\n    command:\n(?:    - .*\n)*/.exec(stdout)?.[0], 'the command list').includes(
        present(values.get(name), name),
      ),
      name,
    );
  t.is(env('appliance', 'NODE_ENV'), 'production');
  t.is(env('appliance', 'SMTP_URL'), 'smtp://postfix:587');
});

test('the four Jitsi images come from one stable release, and every image is pinned', (t) => {
  const text = readFileSync(join(root, 'compose.yaml'), 'utf8');
  const images = [...text.matchAll(/^\s+image: (\S+)$/gm)].map((m) => present(m[1], 'an image'));
  const jitsi = images.filter((i) => /\/jitsi\/(web|prosody|jicofo|jvb):/.test(i));
  t.is(jitsi.length, 4);
  const tags = new Set(jitsi.map((i) => i.split(':')[1]));
  t.is(tags.size, 1);
  t.regex(present([...tags][0], 'a tag'), /^stable-\d+(-\d+)?$/);
  for (const image of images) t.notRegex(image, /:latest$|^[^:]+$/, `${image} is not pinned`);
});

test('services run read-only where the images allow, on one private network, with named volumes', (t) => {
  const text = readFileSync(join(root, 'compose.yaml'), 'utf8');
  const services = text.split(/\n(?=  [a-z]+:\n)/).slice(1);
  const named = (block: string) => /^  ([a-z]+):/.exec(block)?.[1];
  for (const block of services.filter((b) => /^  [a-z]+:\n    (build|image):/.test(b))) {
    const name = present(named(block), 'the service name');
    if (name !== 'postfix') t.regex(block, /read_only: true/, `${name} should be read-only`);
    t.regex(block, /networks:\n      samverka:/, `${name} should be on the private network`);
  }
  t.notRegex(text, /^name:/m, 'docker-compose 1.29 rejects a top-level name');
  t.regex(text, /samverka-data:\/data/);
  t.regex(text, /\$\{TEMPLATES_OVERRIDE_DIR:-\.\/templates\.local\}:\/templates:ro/);
  t.regex(text, /\$\{TURN_CERTS_DIR:-\.\/certs\/turn\}:\/certs:ro/);
  t.regex(text, /prosody-certs:\/config\/certs/);
  t.regex(text, /profiles:\n      - postgres/);
  // Samverka's part of the Prosody configuration is the file the Debian install uses, mounted read-only.
  const mount = /- \.\/(provisioning\/prosody\/samverka\.cfg\.lua):\/config\/conf\.d\/samverka\.cfg\.lua:ro/.exec(text);
  t.truthy(mount);
  t.true(existsSync(join(root, present(mount?.[1], 'the mounted configuration'))));
});

test('two appliance processes share the bundled PostgreSQL and the secrets, each on its own bind', async (t) => {
  const { file, values } = await renderEnv();
  const { stdout, code, stderr } = await withReplicas(file);
  t.is(code, 0, stderr);
  const env = (service: string, name: string) =>
    new RegExp(`\\n  ${service}:\\n[\\s\\S]*?\\n      ${name}: ([^\\n]*)`).exec(stdout)?.[1];
  const databaseUrl = `postgres://samverka:${values.get('POSTGRES_PASSWORD')}@postgres:5432/samverka`;
  for (const service of ['appliance', 'appliance-2']) {
    t.is(env(service, 'DATABASE_URL'), databaseUrl, service);
    for (const secret of ['SESSION_SECRET', 'DATA_KEY', 'JWT_APP_SECRET', 'XMPP_PASSWORD'])
      t.is(env(service, secret), values.get(secret), `${service} ${secret}`);
  }
  t.regex(stdout, /\n {2}appliance-2:\n[\s\S]*?- 127\.0\.0\.1:3001:3000\/tcp/);
  // Only with its profile: without it the bundle is the one process it always was.
  t.regex(stdout, /\n {2}appliance-2:\n[\s\S]*?profiles:\n {4}- replicas\n/);
});

test('the appliance is hidden in every meeting: web client and Jicofo both know its domain', async (t) => {
  const { file } = await renderEnv();
  const rendered = await renderCompose(file);
  const appliance = serviceEnvironment(rendered, 'appliance');
  const web = serviceEnvironment(rendered, 'web');
  const jicofo = serviceEnvironment(rendered, 'jicofo');
  // docker-jitsi-meet's web/rootfs/defaults/settings-config.js writes
  //   config.hiddenDomain = '{{ $XMPP_HIDDEN_DOMAIN }}'
  // under {{ if or $ENABLE_RECORDING $ENABLE_TRANSCRIPTIONS }}: recording is on for that line only.
  t.is(web.ENABLE_RECORDING, '1');
  t.is(web.XMPP_HIDDEN_DOMAIN, appliance.XMPP_DOMAIN);
  t.is(web.ENABLE_SERVICE_RECORDING, 'false', 'no recording service: no Jibri runs');
  t.is(web.DISABLE_LOCAL_RECORDING, 'true', 'no recording in the browser either');
  t.is(web.ENABLE_LIVESTREAMING, 'false');
  // jicofo/rootfs/defaults/jicofo.conf: trusted-domains from JICOFO_TRUSTED_DOMAINS, else only with recording.
  t.is(jicofo.JICOFO_TRUSTED_DOMAINS, appliance.XMPP_DOMAIN);
  // The appliance's account is the recorder account Prosody creates on that same domain.
  const prosody = serviceEnvironment(rendered, 'prosody');
  t.is(prosody.XMPP_HIDDEN_DOMAIN, appliance.XMPP_DOMAIN);
  t.is(prosody.JIBRI_RECORDER_USER, appliance.XMPP_USER);
});

test('every service has a health check, waits for the health of what it needs, and rotates its logs', async (t) => {
  const { file } = await renderEnv();
  const rendered = await renderCompose(file);
  const services = rendered
    .slice(rendered.indexOf('\nservices:\n'))
    .split(/\n(?=  [a-z]+:\n)/)
    .slice(1)
    .filter((b) => /^  [a-z]+:\n/.test(b) && !/^  (samverka|[a-z-]+-[a-z-]+):/.test(b));
  const names = services.map((b) => present(/^  ([a-z]+):/.exec(b)?.[1], 'a service name'));
  t.deepEqual(names.sort(), ['appliance', 'coturn', 'jicofo', 'jvb', 'postfix', 'postgres', 'prosody', 'web']);
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  for (const block of services) {
    const name = present(/^  ([a-z]+):/.exec(block)?.[1], 'the service name');
    if (name === 'appliance') t.regex(dockerfile, /\nHEALTHCHECK /, 'the appliance image has its own');
    else t.regex(block, /\n    healthcheck:\n(?:      .*\n)*?      test:/, `${name} has no health check`);
    t.regex(
      block,
      /\n    logging:\n      driver: json-file\n      options:\n        max-file: '5'\n        max-size: 20m\n/,
      `${name} does not rotate its logs`,
    );
    const dependsOn = /\n    depends_on:\n((?:      .*\n)+)/.exec(block)?.[1] ?? '';
    for (const dependency of dependsOn.matchAll(/^      ([a-z]+):\n        condition: (\S+)/gm)) {
      t.is(dependency[2], 'service_healthy', `${name} waits for ${dependency[1]} only to start, not to be healthy`);
    }
    t.notRegex(dependsOn, /^      - /m, `${name} has a depends_on without a condition`);
  }
  t.regex(
    rendered,
    /\n  appliance:\n[\s\S]*?depends_on:\n      postfix:\n        condition: service_healthy\n      prosody:\n        condition: service_healthy/,
  );
});

test("Prosody's accounts are not kept in a volume: every start takes the passwords in .env", async (t) => {
  const { file } = await renderEnv();
  const rendered = await renderCompose(file);
  const prosody = present(/\n  prosody:\n[\s\S]*?(?=\n  [a-z]+:\n)/.exec(rendered)?.[0], 'the prosody service');
  t.regex(prosody, /\n    - \/var\/lib\/prosody:size=\d+M,mode=0700,uid=1000,gid=1000/);
  t.notRegex(prosody, /:\/var\/lib\/prosody/, 'no volume over the accounts');
});

test('the appliance has as long to stop under Docker as under systemd: its own 10 s for requests, then the rest', async (t) => {
  // Docker's default is 10 s before SIGKILL: exactly the time the appliance gives requests in flight
  // (start.ts), so a stop with one still running was killed before it closed the database and handed
  // back what it was sending. systemd gives it TimeoutStopSec.
  const unit = readFileSync(join(root, 'provisioning/systemd/samverka.service'), 'utf8');
  const systemd = Number(present(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1], "the unit's TimeoutStopSec"));
  const { file } = await renderEnv();
  const { stdout, code, stderr } = await withReplicas(file);
  t.is(code, 0, stderr);
  for (const service of ['appliance', 'appliance-2']) {
    const from = stdout.indexOf(`\n  ${service}:\n`);
    t.true(from >= 0, service);
    // The service's own lines: up to the next service (two spaces, a name) or the next top-level key.
    const rest = stdout.slice(from + 1);
    const block = rest.slice(0, rest.slice(1).search(/\n {0,2}[a-z]/) + 1);
    const grace = /\n {4}stop_grace_period: (\d+)s\n/.exec(block)?.[1];
    t.is(Number(grace ?? 10), systemd, `${service}: stop_grace_period`);
  }
});

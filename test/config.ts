import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './helpers/scratch.ts';
import test from 'ava';
import {
  ConfigError,
  describeParts,
  environmentDescription,
  loadConfig,
  type Environment,
} from '../appliance/src/config.ts';
import { describeDbError } from '../appliance/src/db/knex.ts';
import { present } from './helpers/present.ts';

const tmp = () => scratchDir('config');
const secrets = { SESSION_SECRET: 'a'.repeat(64), DATA_KEY: 'b'.repeat(64) };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ DATA_DIR: tmp(), ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

test('embedded defaults need no configuration at all', (t) => {
  const dir = tmp();
  const config = loadConfig({ DATA_DIR: dir });
  t.is(config.port, 3000);
  t.is(config.publicUrl.toString(), 'http://localhost:3000/');
  t.is(config.databaseUrl, 'sqlite:./data/samverka.db');
  t.is(config.mail.smtpUrl, undefined);
  t.is(config.xmpp, undefined);
  t.deepEqual(config.generatedSecrets.sort(), ['DATA_KEY', 'SESSION_SECRET']);
});

test('generated secrets are written once, private, and reused on the next start', (t) => {
  const dir = tmp();
  const first = loadConfig({ DATA_DIR: dir });
  const file = join(dir, 'secrets.json');
  t.true(existsSync(file));
  t.is(statSync(file).mode & 0o777, 0o600);
  const second = loadConfig({ DATA_DIR: dir });
  t.is(second.sessionSecret, first.sessionSecret);
  t.deepEqual(second.dataKey, first.dataKey);
  t.deepEqual(second.generatedSecrets, []);
  t.is(first.dataKey.length, 32);
  t.true(readFileSync(file, 'utf8').includes(first.sessionSecret));
});

test('a short SESSION_SECRET stops the start with one line naming the fix', (t) => {
  t.deepEqual(problems({ SESSION_SECRET: 'short' }), [
    'SESSION_SECRET must be at least 32 characters: generate one with openssl rand -hex 32',
  ]);
});

test('a wrong DATABASE_URL stops the start with one line naming the fix', (t) => {
  t.deepEqual(problems({ DATABASE_URL: 'mysql://db/samverka' }), [
    'DATABASE_URL must be sqlite: or postgres:// URL: use sqlite:./data/samverka.db or postgres://user:password@host:5432/samverka',
  ]);
});

test('every bad variable gets its own line', (t) => {
  const lines = problems({
    PORT: 'eighty',
    PUBLIC_URL: 'ftp://x',
    DATA_KEY: 'abc',
    SMPP_URL: 'http://gw',
    LOG_LEVEL: 'loud',
  });
  t.is(lines.length, 5);
  t.true(lines.some((l) => l.startsWith('PORT must be a number')));
  t.true(lines.some((l) => l.startsWith('PUBLIC_URL must be a URL starting with')));
  t.true(
    lines.some((l) =>
      l.startsWith('DATA_KEY must be 64 hexadecimal characters (256 bits): generate one with openssl rand -hex 32'),
    ),
  );
  t.true(lines.some((l) => l.startsWith('SMPP_URL must be a URL starting with smpp')));
  t.true(lines.some((l) => l.startsWith('LOG_LEVEL must be one of')));
});

test('a part half-configured names what is missing', (t) => {
  t.deepEqual(problems({ XMPP_SERVICE: 'xmpp://prosody:5222', XMPP_DOMAIN: 'meet.jitsi' }), [
    'XMPP_SERVICE, XMPP_DOMAIN set without XMPP_MUC_DOMAIN, XMPP_USER, XMPP_PASSWORD: set all of them or none',
  ]);
});

test('production refuses to generate secrets or embed the mail and SMS sinks', (t) => {
  t.deepEqual(problems({ NODE_ENV: 'production' }).sort(), [
    'DATA_KEY must be set: generate one with openssl rand -hex 32',
    'SESSION_SECRET must be set: generate one with openssl rand -hex 32',
    'SMPP_URL must be set: use smpp://system_id:password@smsc.hospital.se:2775',
    'SMTP_URL must be set: use smtp://user:password@relay.hospital.se:587 (or smtps://…:465)',
  ]);
  t.deepEqual(
    problems({ NODE_ENV: 'production', ...secrets, SMTP_URL: 'smtp://relay:25', SMPP_URL: 'smpp://a:b@gw:2775' }),
    [],
  );
});

test('the start log says what each part is, and never a secret', (t) => {
  const config = loadConfig({
    DATA_DIR: tmp(),
    ...secrets,
    SMTP_URL: 'smtp://user:relay-password@relay.example:587',
    JITSI_URL: 'https://meet.example',
    JWT_APP_ID: 'samverka',
    JWT_APP_SECRET: 'j'.repeat(40),
  });
  const lines = describeParts(config).join('\n');
  t.regex(lines, /mail: SMTP relay smtp:\/\/user:\*\*\*@relay\.example:587/);
  t.regex(lines, /sms: embedded development SMSC/);
  t.regex(lines, /xmpp: off/);
  t.regex(lines, /jitsi: https:\/\/meet\.example/);
  t.regex(lines, /turn: off/);
  t.regex(lines, /identity provider: off/);
  for (const secret of ['relay-password', 'j'.repeat(40), secrets.SESSION_SECRET]) t.false(lines.includes(secret));
});

test('TLS_CA_FILE is read once at start; a missing file or one without a certificate stops the start', (t) => {
  const dir = tmp();
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeFileSync(join(dir, 'ca.pem'), pem);
  writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');
  t.is(loadConfig({ DATA_DIR: dir, TLS_CA_FILE: join(dir, 'ca.pem') }).tlsCa, pem);
  t.is(loadConfig({ DATA_DIR: dir }).tlsCa, undefined);
  t.regex(
    present(problems({ TLS_CA_FILE: join(dir, 'none.pem') })[0], 'the problem'),
    /^TLS_CA_FILE cannot be read \(ENOENT\): use the path of a PEM file/,
  );
  t.regex(
    present(problems({ TLS_CA_FILE: join(dir, 'key.pem') })[0], 'the problem'),
    /^TLS_CA_FILE holds no PEM certificate/,
  );
});

test('PUBLIC_URL follows PORT when it is not set', (t) => {
  t.is(loadConfig({ DATA_DIR: tmp(), PORT: '8080' }).publicUrl.toString(), 'http://localhost:8080/');
});

test('TRUSTED_PROXIES takes addresses and CIDR blocks, and names what is neither', (t) => {
  t.deepEqual(loadConfig({ DATA_DIR: tmp(), TRUSTED_PROXIES: '127.0.0.1, ::1,10.0.0.0/24' }).trustedProxies, [
    '127.0.0.1',
    '::1',
    '10.0.0.0/24',
  ]);
  t.deepEqual(loadConfig({ DATA_DIR: tmp() }).trustedProxies, []);
  const line = present(problems({ TRUSTED_PROXIES: '127.0.0.1,proxy.region.se' })[0], 'the problem');
  t.regex(
    line,
    /^TRUSTED_PROXIES must be addresses or CIDR blocks: "proxy\.region\.se" is neither: use the proxy's addresses/,
  );
  t.is(problems({ TRUSTED_PROXIES: '10.0.0.0/33' }).length, 1);
});

/** The variables the Environment type says always have a value. */
type AlwaysSet = { [K in keyof Environment]-?: undefined extends Environment[K] ? never : K }[keyof Environment];

test('the variables typed as always set are exactly those the schema gives a default', (t) => {
  // The compiler holds this list to AlwaysSet, no name missing and none extra.
  const typed: Record<AlwaysSet, true> = {
    NODE_ENV: true,
    HOST: true,
    PORT: true,
    PUBLIC_URL: true,
    DATABASE_URL: true,
    DATA_DIR: true,
    MAIL_FROM: true,
    SMS_SENDER: true,
    SMPP_THROTTLE: true,
    SMPP_MESSAGE_IDS: true,
    OIDC_SCOPE: true,
    OIDC_HSA_ID_CLAIM: true,
    OIDC_NAME_CLAIM: true,
    OIDC_EMAIL_CLAIM: true,
    OIDC_PERSONAL_NUMBER_CLAIM: true,
    OIDC_STAFF_MATCH: true,
    OIDC_AUTO_PROVISION: true,
    LOCAL_LOGIN: true,
    LOG_LEVEL: true,
    LOGIN_MAX_FAILURES: true,
    LOGIN_LOCKOUT_MINUTES: true,
    SESSION_HOURS: true,
    SESSION_IDLE_MINUTES: true,
    ROOM_OPENS_MINUTES: true,
    ROOM_GRACE_MINUTES: true,
    NOSHOW_MINUTES: true,
    REMINDER_OFFSETS: true,
    MAX_PARTICIPANTS: true,
    EVALUATION_DAYS: true,
    EVALUATION_MIN_GROUP: true,
    RETENTION_CONNLOG_DAYS: true,
    RETENTION_ANSWERS_DAYS: true,
    RETENTION_CONTACTS_DAYS: true,
    RETENTION_LOGIN_ADDRESS_DAYS: true,
  };
  const withDefault = Object.entries(environmentDescription())
    .filter(([, description]) => description.flags !== undefined && 'default' in description.flags)
    .map(([name]) => name);
  t.deepEqual(withDefault.sort(), Object.keys(typed).sort());
});

test("SESSION_HOURS sets a staff session's lifetime (12 by default), and the idle limit must fit within it", (t) => {
  t.is(loadConfig({ DATA_DIR: tmp() }).sessionHours, 12);
  t.is(loadConfig({ DATA_DIR: tmp(), SESSION_HOURS: '8' }).sessionHours, 8);
  t.is(loadConfig({ DATA_DIR: tmp(), SESSION_HOURS: '24', SESSION_IDLE_MINUTES: '1000' }).sessionIdleMinutes, 1000);
  for (const hours of ['0', '25', '1.5', 'twelve']) {
    const lines = problems({ SESSION_HOURS: hours });
    t.is(lines.length, 1, `${hours}: ${lines.join(' / ')}`);
    t.regex(present(lines[0], hours), /^SESSION_HOURS .*: use the hours after the login/);
  }
  const tooIdle = problems({ SESSION_HOURS: '8', SESSION_IDLE_MINUTES: '481' });
  t.is(tooIdle.length, 1, tooIdle.join(' / '));
  t.regex(present(tooIdle[0], 'the idle limit'), /^SESSION_IDLE_MINUTES .*at most the SESSION_HOURS/);
});

test('a URL that Node cannot read (a port past 65535) or that names no host stops the start with a line naming it', (t) => {
  // Each of these passed the schema and then crashed the start with "TypeError: Invalid URL" (PUBLIC_URL)
  // or was taken and failed at every message sent (SMPP_URL, SMTP_URL).
  const urls: Record<string, string> = {
    PUBLIC_URL: 'https://samverka.region.se:99999',
    SMPP_URL: 'smpp://samverka:secret@smsc.region.se:277500',
    SMTP_URL: 'smtp:/relay.region.se:587',
    OIDC_ISSUER: 'https://idp.region.se:443443',
  };
  for (const [variable, value] of Object.entries(urls)) {
    const oidc: Record<string, string> =
      variable === 'OIDC_ISSUER' ? { OIDC_CLIENT_ID: 'samverka', OIDC_CLIENT_SECRET: 'secret' } : {};
    const lines = problems({ [variable]: value, ...oidc });
    t.is(lines.length, 1, `${variable}: ${lines.join(' / ')}`);
    t.regex(present(lines[0], variable), new RegExp(`^${variable} must be a URL`));
  }
  t.deepEqual(problems({ PUBLIC_URL: 'https://samverka region.se' }), [
    'PUBLIC_URL must be a URL starting with http|https: use the address people open, e.g. https://samverka.region.se',
  ]);
  t.deepEqual(problems({ SMPP_URL: 'smpp:/smsc.region.se:2775' }), [
    'SMPP_URL must be a URL that names its host: use smpp://system_id:password@smsc.hospital.se:2775',
  ]);
});

test('a PostgreSQL password with a character the URL reads as its own is refused at start, and never shown', (t) => {
  // pg reads "#" as the start of a fragment and "/" or "?" as the end of the host: it connected to a
  // host named after part of the password, or failed with "Invalid URL", and the start printed the
  // URL with the password (or the rest of it) in the clear.
  for (const password of ['Vår#Lösen1', 'Vår/Lösen1', 'Vår?Lösen1', 'Vår@Lö#sen1']) {
    const lines = problems({ DATABASE_URL: `postgres://samverka:${password}@db.region.se:5432/samverka` });
    t.is(lines.length, 1, password);
    t.regex(present(lines[0], password), /^DATABASE_URL must be a URL .*percent-encode/);
    t.false(lines.join('\n').includes('Lösen'), 'the password stays out of the message');
  }
  // Percent-encoded, and an "@" (the last one ends the user part), it is taken as written.
  for (const url of [
    'postgres://samverka:V%C3%A5r%23L%C3%B6sen1@db.region.se:5432/samverka?sslmode=require',
    'postgres://samverka:V@r@db.region.se:5432/samverka',
  ])
    t.is(loadConfig({ DATA_DIR: tmp(), DATABASE_URL: url }).databaseUrl, url);
});

test('a database that cannot be opened is named without its password, whatever characters the password has', (t) => {
  const line = describeDbError('postgres://samverka:hemligt@Lösen1@db.region.se:5432/samverka', new Error('refused'));
  t.is(line, 'DATABASE_URL: cannot open postgres://***@db.region.se:5432/samverka: refused');
});

test('a "%" not written as %25 in a URL\'s user or password is refused at start, not met by the SMS or mail client', (t) => {
  // The SMS client decodes the password when it binds: "50%rabatt" threw "URI malformed" in the
  // connect handler and the whole appliance went down moments after it said it was running.
  for (const [variable, value] of [
    ['SMPP_URL', 'smpp://samverka:50%rabatt@smsc.region.se:2775'],
    ['SMTP_URL', 'smtp://samverka:50%rabatt@relay.region.se:587'],
    ['SMPP_URL', 'smpp://sam%verka:secret@smsc.region.se:2775'],
  ] as const) {
    const lines = problems({ [variable]: value });
    t.is(lines.length, 1, value);
    t.regex(present(lines[0], value), new RegExp(`^${variable} must be a URL .*%25`));
    t.false(lines.join('\n').includes('rabatt'), 'the password stays out of the message');
  }
  t.is(
    loadConfig({ DATA_DIR: tmp(), SMPP_URL: 'smpp://samverka:50%25rabatt@smsc.region.se:2775' }).sms.smppUrl,
    'smpp://samverka:50%25rabatt@smsc.region.se:2775',
  );
});

test('SMS_SENDER is at most 11 letters, or a number of at most 16 digits, as env.example and INSTALL.md say', (t) => {
  // A phone shows an alphanumeric sender of 11 characters at the most; the gateway refuses a longer
  // one (or cuts it), so every SMS failed or came from a truncated name. The schema took 16 of any kind.
  t.deepEqual(problems({ SMS_SENDER: 'Barnkliniken' }), [
    'SMS_SENDER must be at most 11 letters or digits, or a number of at most 16 digits: use a name such as Samverka, or the number replies go to',
  ]);
  t.is(problems({ SMS_SENDER: 'Habilitering Väst' }).length, 1);
  for (const sender of ['Samverka', 'Barnklinik', 'Region Öst', '+46101234567', '4610123456789012'])
    t.is(loadConfig({ DATA_DIR: tmp(), SMS_SENDER: sender }).sms.sender, sender);
});

test('PUBLIC_URL with a path is refused: Samverka is served from the root of its host name', (t) => {
  // Invitations put the path in their links (…/samverka/j/…), but the identity provider's redirect
  // (https://region.se/auth/callback) and every page's own links (/login, /static/…) leave it out:
  // the appliance half worked behind a proxy path, or PUBLIC_URL=…/login pasted from the browser.
  for (const value of [
    'https://region.se/samverka',
    'https://samverka.region.se/login',
    'https://samverka.region.se/?x=1',
  ])
    t.deepEqual(problems({ PUBLIC_URL: value }), [
      'PUBLIC_URL must be the address of the host alone, without a path: use the address people open, e.g. https://samverka.region.se',
    ]);
  t.is(
    loadConfig({ DATA_DIR: tmp(), PUBLIC_URL: 'https://samverka.region.se/' }).publicUrl.href,
    'https://samverka.region.se/',
  );
  t.is(
    loadConfig({ DATA_DIR: tmp(), PUBLIC_URL: 'https://samverka.region.se:8443' }).publicUrl.href,
    'https://samverka.region.se:8443/',
  );
});

test('MAIL_FROM must hold an e-mail address, alone or as Name <address>', (t) => {
  // "Samverka" alone, or a ">" left out, went to the relay as the sender of every invitation.
  for (const value of ['Samverka', 'noreply', 'Samverka <noreply@region.se', 'Samverka noreply@region.se'])
    t.deepEqual(problems({ MAIL_FROM: value }), [
      'MAIL_FROM must be an e-mail address, alone or as Name <address>: use an address such as Samverka <noreply@hospital.se>',
    ]);
  for (const value of ['Samverka <noreply@region.se>', 'noreply@region.se', '"Region Öst" <samverka@region.se>'])
    t.is(loadConfig({ DATA_DIR: tmp(), MAIL_FROM: value }).mail.from, value);
});

test('a TEMPLATES_DIR that is not a folder stops the start, rather than its overrides being passed over', (t) => {
  // In the bundle, TEMPLATES_DIR=./templates.local (the host's name for the folder, not /templates)
  // started fine and sent the built-in texts: the hospital's edited templates were silently unused.
  const dir = tmp();
  writeFileSync(join(dir, 'invitation.hbs'), 'Hej');
  t.regex(
    present(problems({ TEMPLATES_DIR: join(dir, 'templates.local') })[0], 'the problem'),
    /^TEMPLATES_DIR is not a folder \(ENOENT\): use the folder holding your copies of templates\//,
  );
  t.regex(
    present(problems({ TEMPLATES_DIR: join(dir, 'invitation.hbs') })[0], 'the problem'),
    /^TEMPLATES_DIR is not a folder/,
  );
  t.is(loadConfig({ DATA_DIR: dir, TEMPLATES_DIR: dir }).templatesDir, dir);
});

test('a damaged secrets.json in DATA_DIR stops the start with a line naming it, and is not overwritten', (t) => {
  // A file cut short (a full disk) or edited by hand stopped the start with a bare SyntaxError, or,
  // with a DATA_KEY of the wrong length in it, started and failed at the first booking.
  const dir = tmp();
  const file = join(dir, 'secrets.json');
  for (const text of ['{"SESSION_SECRET": "', JSON.stringify({ SESSION_SECRET: 's'.repeat(64), DATA_KEY: 'abc' })]) {
    writeFileSync(file, text);
    const lines = problems({ DATA_DIR: dir });
    t.is(lines.length, 1, text);
    t.regex(present(lines[0], text), /^DATA_DIR\/secrets\.json cannot be used \(.+\): /);
    t.is(readFileSync(file, 'utf8'), text);
  }
});

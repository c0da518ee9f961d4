// The samverka CLI, run as hospital IT runs it: as a child process with exit codes.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { createDb } from '../appliance/src/db/knex.ts';
import { checkPassword } from '../appliance/src/staff/service.ts';
import { findStaff } from '../appliance/src/staff/store.ts';
import { findAudit } from '../appliance/src/audit/store.ts';
import { testDatabase } from './helpers/databases.ts';
import { startJitsiStandIn } from './helpers/jitsi.ts';
import { present } from './helpers/present.ts';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'samverka-cli-'));
const database = await testDatabase();
const env = { ...process.env, DATA_DIR: dir, DATABASE_URL: database.url, LOG_LEVEL: 'silent' };
const bin = new URL('../bin/samverka.js', import.meta.url).pathname;

async function samverka(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { env, cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `samverka user add` with these options, given in this order as `--option value`. */
const userAdd = (options: Record<string, string>) =>
  samverka('user', 'add', ...Object.entries(options).flatMap(([option, value]) => [`--${option}`, value]));

test.after.always(async () => {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('migrate, add a unit and a user, then log in with the given password', async (t) => {
  // On a fresh database, migrate says what it applied; run again, that there was nothing left.
  const migrate = await samverka('migrate');
  t.is(migrate.code, 0, migrate.stderr);
  t.regex(migrate.stdout, /^applied [1-9]\d* migration\(s\)$/m);
  const again = await samverka('migrate');
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /^database is up to date$/m);
  const unit = await samverka('unit', 'add', '--name', 'Habilitering Väst', '--phone', '010-441 00 00');
  t.is(unit.code, 0, unit.stderr);
  t.regex(unit.stdout, /added care unit Habilitering Väst/);
  const user = await userAdd({
    email: 'Anna.Lind@Region.example',
    name: 'Anna Lind',
    role: 'clinician',
    unit: 'Habilitering Väst',
    password: 'ett-långt-lösenord',
  });
  t.is(user.code, 0, user.stderr);
  t.regex(user.stdout, /added clinician anna\.lind@region\.example/);
  const db = createDb(env.DATABASE_URL);
  try {
    const login = await checkPassword(
      db,
      { maxFailures: 5, lockoutMinutes: 15 },
      'anna.lind@region.example',
      'ett-långt-lösenord',
    );
    t.true(login.ok);
    const audit = await findAudit(db, { action: 'staff.add' });
    t.is(present(audit[0], 'the audit record').details?.via, 'cli');
  } finally {
    await db.destroy();
  }
});

test.serial(
  'an address typed with a decomposed å is the account stored with a composed one, and a password is counted in letters',
  async (t) => {
    const composed = 'åsa.öberg@region.example';
    const decomposed = composed.normalize('NFD');
    t.not(decomposed, composed);
    // Six letters typed decomposed are twelve code points: as short on the command line as on the password page.
    const short = await userAdd({
      email: decomposed,
      name: 'Åsa Öberg',
      role: 'clinician',
      unit: 'Habilitering Väst',
      password: 'åäöåäö'.normalize('NFD'),
    });
    t.is(short.code, 2, short.stdout);
    t.regex(short.stderr, /at least 12 characters/);
    const added = await userAdd({
      email: decomposed,
      name: 'Åsa Öberg',
      role: 'clinician',
      unit: 'Habilitering Väst',
      password: 'ett-långt-lösenord',
    });
    t.is(added.code, 0, added.stderr);
    const db = createDb(env.DATABASE_URL);
    try {
      t.is(present(await findStaff(db, { email: composed }), 'the account, by the composed address').email, composed);
      t.true((await checkPassword(db, { maxFailures: 5, lockoutMinutes: 15 }, composed, 'ett-långt-lösenord')).ok);
    } finally {
      await db.destroy();
    }
    // The same address typed the other way is the same account.
    const again = await userAdd({ email: composed, name: 'Åsa Öberg', role: 'clinician', unit: 'Habilitering Väst' });
    t.is(again.code, 1);
    t.regex(again.stderr, /already has an account/);
  },
);

test.serial('without a password and without a terminal, one is generated and printed once', async (t) => {
  const user = await userAdd({ email: 'it@region.example', name: 'IT', role: 'admin', unit: 'Habilitering Väst' });
  t.is(user.code, 0, user.stderr);
  const [, password] = /password: (\S+)/.exec(user.stdout) ?? [];
  t.is(password?.length, 20);
  // Printed where IT (and a script's log) can read it: like every generated password, it is
  // one-time, replaced at the first login before anything else.
  const db = createDb(env.DATABASE_URL);
  try {
    t.true((await findStaff(db, { email: 'it@region.example' }))?.mustChangePassword);
  } finally {
    await db.destroy();
  }
});

test.serial('a token is created, printed once, and revoked', async (t) => {
  const created = await samverka('token', 'create', '--user', 'anna.lind@region.example', '--name', 'journal');
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout.trim(), /^smv_[A-Za-z0-9_-]{43}$/);
  const again = await samverka('token', 'create', '--user', 'anna.lind@region.example', '--name', 'journal');
  t.is(again.code, 1);
  t.regex(again.stderr, /already has a token named "journal"/);
  t.is((await samverka('token', 'revoke', '--user', 'anna.lind@region.example', '--name', 'journal')).code, 0);
  const twice = await samverka('token', 'revoke', '--user', 'anna.lind@region.example', '--name', 'journal');
  t.is(twice.code, 1);
  t.regex(twice.stderr, /no active token named "journal"/);
});

test.serial(
  'the only admin, who forgot their password, gets a new one-time password from the command line',
  async (t) => {
    const reset = await samverka('user', 'password', '--email', 'it@region.example');
    t.is(reset.code, 0, reset.stderr);
    const password = present(/^password: (\S+)$/m.exec(reset.stdout)?.[1], 'the printed one-time password');
    const db = createDb(database.url);
    try {
      const login = await checkPassword(db, { maxFailures: 5, lockoutMinutes: 15 }, 'it@region.example', password);
      t.true(login.ok);
      t.true(login.ok && login.staff.mustChangePassword, 'to be changed at the first login');
      const [record] = await findAudit(db, { action: 'staff.password_reset' });
      t.like(record?.details, { via: 'cli' });
    } finally {
      await db.destroy();
    }
    t.is((await samverka('user', 'password', '--email', 'nobody@region.example')).code, 1);
  },
);

test.serial('disabling a user', async (t) => {
  const done = await samverka('user', 'disable', '--email', 'it@region.example');
  t.is(done.code, 0);
  t.regex(done.stdout, /disabled it@region\.example/);
  t.is((await samverka('user', 'disable', '--email', 'nobody@region.example')).code, 1);
  const token = await samverka('token', 'create', '--user', 'it@region.example', '--name', 'efter');
  t.is(token.code, 1, 'a disabled account gets no new token');
  t.regex(token.stderr, /it@region\.example is disabled: enable it first/);
});

test.serial('usage errors exit 2 with a sentence and the usage', async (t) => {
  const missing = await userAdd({ email: 'x@region.example' });
  t.is(missing.code, 2);
  t.regex(missing.stderr, /missing --name, --role, --unit/);
  const role = await userAdd({ email: 'x@region.example', name: 'X', role: 'boss', unit: 'Habilitering Väst' });
  t.is(role.code, 2);
  t.regex(role.stderr, /--role must be one of admin, clinician, support/);
  t.is((await samverka('frobnicate')).code, 2);
  t.is((await samverka('--nonsense')).code, 2);
  t.is((await samverka()).code, 2);
  const help = await samverka('--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /Usage: samverka/);
});

test.serial('unknown unit and duplicate e-mail are failures with a sentence', async (t) => {
  const unit = await userAdd({
    email: 'y@region.example',
    name: 'Y',
    role: 'clinician',
    unit: 'Finns Inte',
    password: 'ett-långt-lösenord',
  });
  t.is(unit.code, 1);
  t.regex(unit.stderr, /no care unit named "Finns Inte": add it first/);
  const dup = await userAdd({
    email: 'anna.lind@region.example',
    name: 'A',
    role: 'clinician',
    unit: 'Habilitering Väst',
    password: 'ett-långt-lösenord',
  });
  t.is(dup.code, 1);
  t.regex(dup.stderr, /already has an account/);
});

test.serial('check prints one line per part and exits 0 when all configured parts answer', async (t) => {
  const check = await samverka('check');
  t.is(check.code, 0, check.stdout + check.stderr);
  t.regex(
    check.stdout,
    database.kind === 'sqlite' ? /^ok {3}database: SQLite open$/m : /^ok {3}database: PostgreSQL reachable$/m,
  );
  t.regex(check.stdout, /^note xmpp: off/m);
  t.regex(check.stdout, /^note mail: embedded development mail sink/m);
});

test.serial(
  "check asks Jitsi's web server for external_api.js, and fails saying so when it does not answer",
  async (t) => {
    const jitsi = await startJitsiStandIn();
    const withJitsi = (url: string) =>
      exec(process.execPath, [bin, 'check'], {
        env: { ...env, JITSI_URL: url, JWT_APP_ID: 'samverka', JWT_APP_SECRET: 'a'.repeat(32) },
        cwd: dir,
      }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
    try {
      const up = await withJitsi(jitsi.url);
      t.is(up.code, 0, up.stdout);
      t.regex(up.stdout, new RegExp(`^ok {3}jitsi: ${jitsi.url}/external_api.js answers 200$`, 'm'));
    } finally {
      await jitsi.close();
    }
    const down = await withJitsi(jitsi.url);
    t.is(down.code, 1, down.stdout);
    t.regex(down.stdout, /^FAIL jitsi: .*external_api\.js/m);
  },
);

test.serial("check fails on each of IT's template overrides that is not used, and says so when all are", async (t) => {
  const templates = join(dir, 'templates');
  mkdirSync(join(templates, 'sms', 'sv'), { recursive: true });
  const withTemplates = () =>
    exec(process.execPath, [bin, 'check'], { env: { ...env, TEMPLATES_DIR: templates }, cwd: dir }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
  writeFileSync(join(templates, 'sms', 'sv', 'nudge.hbs'), 'Vi väntar på dig: {{link}}');
  const good = await withTemplates();
  t.is(good.code, 0, good.stdout);
  t.true(good.stdout.includes(`ok   templates: 1 override(s) in ${templates}, all used`), good.stdout);

  writeFileSync(join(templates, 'sms', 'sv', 'invitation.hbs'), 'Hej {{name}}! Välkommen {{date}}.');
  const bad = await withTemplates();
  t.is(bad.code, 1, bad.stdout);
  t.regex(
    bad.stdout,
    /^FAIL templates: sms\/sv\/invitation\.hbs leaves out \{\{link\}\} for a patient or guest with a mobile number: the built-in template is sent instead$/m,
  );
  t.notRegex(bad.stdout, /^ok {3}templates/m);

  // An e-mail whose subject comes out empty: a mail without a subject looks like spam.
  mkdirSync(join(templates, 'email', 'en'), { recursive: true });
  writeFileSync(
    join(templates, 'email', 'en', 'reminder.hbs'),
    'Subject: {{nothing}}\n--- text ---\nHello {{name}}: {{link}}\n',
  );
  const noSubject = await withTemplates();
  t.is(noSubject.code, 1, noSubject.stdout);
  t.regex(
    noSubject.stdout,
    /^FAIL templates: email\/en\/reminder\.hbs has an empty subject for a patient or guest reached by e-mail, .*: the built-in template is sent instead$/m,
  );
});

test.serial('check exits 1 and says why when the database cannot be opened', async (t) => {
  const { code, stdout, stderr } = await exec(process.execPath, [bin, 'check'], {
    env: { ...env, DATABASE_URL: 'postgres://nobody:wrong@127.0.0.1:1/none' },
    cwd: dir,
  }).catch((e) => e);
  t.is(code, 1);
  t.regex(stdout + stderr, /FAIL database: .*ECONNREFUSED|FAIL database:/);
});

test.serial('invalid configuration stops the CLI with the same lines as the server', async (t) => {
  const { code, stderr } = await exec(process.execPath, [bin, 'migrate'], {
    env: { ...env, SESSION_SECRET: 'short' },
    cwd: dir,
  }).catch((e) => e);
  t.is(code, 1);
  t.regex(stderr, /SESSION_SECRET must be at least 32 characters: generate one with openssl rand -hex 32/);
});

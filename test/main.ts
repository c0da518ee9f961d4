// The appliance started as a process, the way `npm start` and systemd start it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { testDatabase } from './helpers/databases.ts';
import { startServer } from './helpers/server.ts';
import { booking, loggedIn, patientWithBankId } from './meetings/_booking.ts';
import { present } from './helpers/present.ts';

const main = new URL('../appliance/src/main.ts', import.meta.url).pathname;

function start(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [`--import=${import.meta.resolve('tsx')}`, main], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

test('invalid configuration stops the start with a header and one line per problem', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-main-'));
  try {
    const run = start({ SESSION_SECRET: 'too-short', DATABASE_URL: 'mysql://x/y', PORT: '0' }, dir);
    t.is(await run.exited, 1);
    const lines = run.err().trim().split('\n');
    t.is(lines[0], 'Environment configuration is invalid, please check the following:');
    t.is(lines.length, 3);
    t.true(
      lines.some((l) =>
        l.includes('SESSION_SECRET must be at least 32 characters: generate one with openssl rand -hex 32'),
      ),
    );
    t.true(lines.some((l) => l.includes('DATABASE_URL must be sqlite: or postgres:// URL')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable database stops the start with one clear line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-main-'));
  try {
    const run = start({ DATABASE_URL: 'postgres://samverka:secret-pw@127.0.0.1:1/samverka', PORT: '0' }, dir);
    t.is(await run.exited, 1);
    const err = run.err().trim();
    t.regex(err, /^DATABASE_URL: cannot open postgres:\/\/\*\*\*@127\.0\.0\.1:1\/samverka: ECONNREFUSED/);
    t.false(err.includes('secret-pw'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a fresh start without a terminal puts the first admin's one-time password in a private file, never in the log, and serves the login page", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-main-'));
  // The embedded default is a SQLite file in ./data; the PostgreSQL pass gives a fresh database instead.
  const database = process.env.TEST_DB === 'postgres' ? await testDatabase() : undefined;
  const run = start(database ? { PORT: '0', DATABASE_URL: database.url } : { PORT: '0' }, dir);
  try {
    // A wait for the start, not a speed check: on a shared machine under load a first start (tsx
    // compiling, migrations) has been seen to take over 30 s.
    const deadline = Date.now() + 100_000;
    while (!/one-time password is in (\S+)/.test(run.out()) && Date.now() < deadline) {
      if (run.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.regex(run.out(), /Samverka is running at http:\/\/localhost:0 \(listening on 127\.0\.0\.1:\d+\)/);
    const file = present(
      /one-time password is in (\S+) \(readable only by this user\)/.exec(run.out())?.[1],
      'the file named in the start message',
    );
    t.is(statSync(file).mode & 0o777, 0o600);
    const [email, written] = readFileSync(file, 'utf8').trim().split('\n');
    t.is(email, 'admin@samverka.local');
    const password = present(written, 'a password on the second line');
    t.regex(password, /^\S{20,}$/);
    t.false(run.out().includes(password) || run.err().includes(password), 'the password is in no log line');
    const port = present(/listening on 127\.0\.0\.1:(\d+)/.exec(run.out())?.[1], 'the port in the start message');
    const page = await fetch(`http://127.0.0.1:${port}/login`);
    t.is(page.status, 200);
    t.regex(await page.text(), /Logga in/);
  } finally {
    run.child.kill('SIGTERM');
    t.is(await run.exited, 0, 'stops cleanly on SIGTERM');
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// systemd or a test may stop the process the moment it says it is running: the stop signals are
// taken before the appliance loads, so that moment too ends in a graceful stop and exit 0.
test('a stop asked for the moment it says it is running ends in a clean exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'samverka-main-'));
  const database = process.env.TEST_DB === 'postgres' ? await testDatabase() : undefined;
  const run = start(database ? { PORT: '0', DATABASE_URL: database.url } : { PORT: '0' }, dir);
  try {
    run.child.stdout.on('data', (chunk) => {
      if (String(chunk).includes('listening on')) run.child.kill('SIGTERM');
    });
    t.is(await run.exited, 0, 'stops cleanly on SIGTERM');
    t.regex(run.out(), /listening on 127\.0\.0\.1:\d+/);
  } finally {
    run.child.kill('SIGKILL');
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a port another process listens on stops the start with one line naming PORT, and creates nobody', async (t) => {
  // Before, the start created the first admin and then failed to listen with a stack trace: the
  // admin's one-time password was never shown, and the next start (port fixed) created none.
  const dir = mkdtempSync(join(tmpdir(), 'samverka-main-'));
  const database = process.env.TEST_DB === 'postgres' ? await testDatabase() : undefined;
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  const dbEnv: Record<string, string> = database ? { DATABASE_URL: database.url } : {};
  try {
    const refused = start({ ...dbEnv, PORT: String(port) }, dir);
    t.is(await refused.exited, 1);
    t.is(
      refused.err().trim(),
      `PORT: cannot listen on 127.0.0.1:${port}: another process listens there (EADDRINUSE): stop it, or use a free TCP port`,
    );
    t.false(refused.out().includes('First start'));

    const run = start({ ...dbEnv, PORT: '0' }, dir);
    try {
      const deadline = Date.now() + 100_000;
      while (!/one-time password is in/.test(run.out()) && run.child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      t.regex(run.out(), /First start: created the admin account admin@samverka\.local; its one-time password is in/);
    } finally {
      run.child.kill('SIGTERM');
      t.is(await run.exited, 0);
    }
  } finally {
    taken.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a DATA_KEY that does not open the numbers already sealed stops the start, naming DATA_KEY and never the key', async (t) => {
  // A .env regenerated with gen-secrets.sh --force, or a backup restored beside another .env: the
  // appliance started, and then every meeting with an identified participant answered 500.
  const dir = mkdtempSync(join(tmpdir(), 'samverka-main-'));
  const database = await testDatabase();
  const kept = { ...database, drop: async () => {} };
  const dataKey = randomBytes(32).toString('hex');
  try {
    const app = await startServer({ env: { DATA_KEY: dataKey, DATA_DIR: dir }, database: kept });
    try {
      const { client } = await loggedIn(app);
      const booked = await client.request('POST', '/api/v1/meetings', {
        json: booking({ participants: [patientWithBankId('Tolvan Tolvansson', '19121212-1212')] }),
      });
      t.is(booked.status, 201, booked.text);
    } finally {
      await app.stop();
    }
    const other = randomBytes(32).toString('hex');
    const run = start({ DATABASE_URL: database.url, DATA_DIR: dir, DATA_KEY: other, PORT: '0' }, dir);
    // Stopped at once should it say it is running: the outcome is the point, not how long it takes.
    run.child.stdout.on('data', () => {
      if (run.out().includes('listening on')) run.child.kill('SIGTERM');
    });
    t.is(await run.exited, 1, run.out());
    t.regex(run.err().trim(), /^DATA_KEY does not open the personal identity numbers already in this database/);
    t.false(run.err().includes(other));
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

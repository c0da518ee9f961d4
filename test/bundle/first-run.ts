// provisioning/first-run and the container's entry script, run for real: first-run drives the
// `samverka` command against a temporary database; the entry script against an empty environment.
import { join } from 'node:path';
import test from 'ava';
import { present } from '../helpers/present.ts';
import { createDb } from '../../appliance/src/db/knex.ts';
import { testDatabase, type TestDatabase } from '../helpers/databases.ts';
import { cleanEnv, root, run, tempDir } from './_bundle.ts';

const databases: TestDatabase[] = [];
test.after.always(() => Promise.all(databases.map((d) => d.drop())));

async function cliEnv() {
  const dir = tempDir('first-run');
  const database = await testDatabase();
  databases.push(database);
  return cleanEnv({
    DATA_DIR: dir,
    DATABASE_URL: database.url,
    SAMVERKA_COMMAND: `node ${join(root, 'bin/samverka.js')}`,
  });
}

const firstRun = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  run('sh', [join(root, 'provisioning/first-run'), ...args], { env });

async function staff(env: NodeJS.ProcessEnv) {
  const db = createDb(present(env.DATABASE_URL, 'DATABASE_URL'));
  try {
    return await db('staff')
      .join('care_units', 'care_units.id', 'staff.unit_id')
      .select('staff.email', 'staff.role', 'staff.disabled_at', 'care_units.name as unit')
      .orderBy('staff.email');
  } finally {
    await db.destroy();
  }
}

test('first-run creates the care unit and its admin, and a second admin reuses the unit', async (t) => {
  const env = await cliEnv();
  const first = await firstRun(
    env,
    '--unit',
    'Barnkliniken Östra',
    '--email',
    'anna.odman@region.se',
    '--name',
    'Anna Ödman',
    '--password',
    'rätt-häftklammer-42',
  );
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /added care unit Barnkliniken Östra/);
  t.regex(first.stdout, /added admin anna\.odman@region\.se/);

  const second = await firstRun(env, '--unit', 'Barnkliniken Östra', '--email', 'bo@region.se', '--name', 'Bo Berg');
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, /care unit "Barnkliniken Östra" already exists: using it/);
  t.regex(second.stdout, /password: \S{12,}/, 'without a terminal the password is generated and printed once');

  const rows = await staff(env);
  t.deepEqual(
    rows.map((r) => [r.email, r.role, r.unit]),
    [
      ['anna.odman@region.se', 'admin', 'Barnkliniken Östra'],
      ['bo@region.se', 'admin', 'Barnkliniken Östra'],
    ],
  );
});

test('the bootstrap admin from the first start is disabled once a named admin exists, unless kept', async (t) => {
  const env = await cliEnv();
  const cli = (...args: string[]) => run('node', [join(root, 'bin/samverka.js'), ...args], { env });
  t.is((await cli('unit', 'add', '--name', 'Administration')).code, 0);
  t.is(
    (
      await cli(
        'user',
        'add',
        '--email',
        'admin@samverka.local',
        '--name',
        'Administratör',
        '--role',
        'admin',
        '--unit',
        'Administration',
        '--password',
        'engångs-lösen-123',
      )
    ).code,
    0,
  );

  const kept = await firstRun(
    env,
    '--unit',
    'Psykiatri',
    '--email',
    'kim@region.se',
    '--name',
    'Kim',
    '--password',
    'rätt-häftklammer-42',
    '--keep-bootstrap-admin',
  );
  t.is(kept.code, 0, kept.stderr);
  t.is((await staff(env)).find((r) => r.email === 'admin@samverka.local')?.disabled_at, null);

  const done = await firstRun(
    env,
    '--unit',
    'Psykiatri',
    '--email',
    'lo@region.se',
    '--name',
    'Lo',
    '--password',
    'rätt-häftklammer-42',
  );
  t.is(done.code, 0, done.stderr);
  t.regex(done.stdout, /disabled the bootstrap account admin@samverka\.local/);
  t.not((await staff(env)).find((r) => r.email === 'admin@samverka.local')?.disabled_at, null);
});

test('first-run names what is missing and does nothing', async (t) => {
  const env = await cliEnv();
  const result = await firstRun(env, '--email', 'anna@region.se');
  t.is(result.code, 2);
  t.regex(result.stderr, /first-run: missing --unit --name/);
});

test('the entry script stops with one FATAL line per empty variable', async (t) => {
  const entry = join(root, 'provisioning/docker/entrypoint.sh');
  const empty = await run('sh', [entry, 'echo', 'started'], { env: cleanEnv({ SMTP_URL: 'smtp://postfix:587' }) });
  t.is(empty.code, 1);
  t.deepEqual(
    empty.stderr
      .trim()
      .split('\n')
      .map((l) => l.replace(/ \(.*$/, '')),
    [
      'FATAL: PUBLIC_URL must be set',
      'FATAL: SESSION_SECRET must be set',
      'FATAL: DATA_KEY must be set',
      'FATAL: SMPP_URL must be set',
    ],
  );
  t.is(empty.stdout, '');

  const bundle = await run('sh', [entry, 'echo', 'started'], {
    env: cleanEnv({ SAMVERKA_REQUIRED: 'JITSI_URL TURN_SECRET', JITSI_URL: 'https://meet.region.se' }),
  });
  t.is(bundle.code, 1);
  t.regex(bundle.stderr, /^FATAL: TURN_SECRET must be set/);

  const complete = await run('sh', [entry, 'echo', 'started'], {
    env: cleanEnv({
      PUBLIC_URL: 'https://samverka.region.se',
      SESSION_SECRET: 's',
      DATA_KEY: 'k',
      SMTP_URL: 'smtp://postfix:587',
      SMPP_URL: 'smpp://u:p@smsc:2775',
    }),
  });
  t.is(complete.code, 0, complete.stderr);
  t.is(complete.stdout, 'started\n');
});

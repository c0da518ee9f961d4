// The `samverka` command for hospital IT: migrations, staff, units, API tokens and a check of
// every configured part. Exit codes: 0 done, 1 failed, 2 wrong usage.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { insertAudit, type AuditAction } from './audit/index.ts';
import { ConfigError, describeParts, loadConfig, loadDotEnv, type Config } from './config.ts';
import { findPlaceholders } from './preflight.ts';
import { backupDatabase, BackupError, restoreDatabase } from './db/backup.ts';
import { createDb, describeDbError, isSqlite, type Db } from './db/knex.ts';
import { announce } from './db/notify.ts';
import { migrateLatest } from './db/locks.ts';
import { listMigrations } from './db/migrations.ts';
import { jitsiWebState } from './rooms/index.ts';
import {
  addStaff,
  addUnit,
  createToken,
  disableStaff,
  longEnough,
  minPasswordLength,
  resetPassword,
  revokeToken,
  roles,
  StaffError,
  type Role,
} from './staff/index.ts';

const usage = `Usage: samverka <command> [options]

  migrate                                         apply pending database migrations
  unit add --name NAME [--phone PHONE]            add a care unit (vårdenhet)
  user add --email E --name N --role R --unit U [--password P] [--hsa-id ID]
                                                  add a staff account (role: ${roles.join(', ')});
                                                  without --password: asked for on a terminal,
                                                  otherwise generated and printed once (one-time:
                                                  changed at the first login)
  user password --email E                         give a new one-time password (printed once) to
                                                  someone who forgot theirs: ends their sessions,
                                                  lifts a lockout; changed at the next login
  user disable --email E                          disable an account, end its sessions and revoke
                                                  its API tokens
  token create --user EMAIL --name NAME           create an API token (printed once)
  token revoke --user EMAIL --name NAME           revoke an API token
  check                                           check every configured part
  check --config                                  check only the configuration: valid, and no
                                                  example or placeholder value left from env.example
  backup --to FILE                                write a consistent copy of the SQLite database while
                                                  the appliance runs (PostgreSQL: pg_dump, INSTALL.md)
  restore --from FILE [--force]                   put a backup in place of the SQLite database (the
                                                  appliance stopped); --force replaces an existing one
  purge                                           delete logs, evaluation answers and contact data past
                                                  their retention periods (RETENTION_*_DAYS)

Configuration comes from the environment and ./.env, as for the server (the environment wins);
./.env is not read when SAMVERKA_ENV_FILE names the file the environment came from, as the
Debian samverka command does with /etc/samverka/samverka.env.`;

class UsageError extends Error {}

const options = {
  email: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string' },
  unit: { type: 'string' },
  password: { type: 'string' },
  'hsa-id': { type: 'string' },
  phone: { type: 'string' },
  user: { type: 'string' },
  config: { type: 'boolean' },
  to: { type: 'string' },
  from: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = Partial<Record<keyof typeof options, string | boolean>>;

function need<const N extends (keyof typeof options)[]>(flags: Flags, ...names: N): { [I in keyof N]: string } {
  const missing = names.filter((n) => typeof flags[n] !== 'string' || flags[n].trim() === '');
  if (missing.length) throw new UsageError(`missing ${missing.map((n) => `--${n}`).join(', ')}`);
  // One trimmed value per name asked for, in order (a tuple the callers destructure).
  return names.map((n) => (flags[n] as string).trim()) as { [I in keyof N]: string };
}

async function askPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  // Do not echo what is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    if (s.includes('Password')) process.stdout.write(s);
  };
  const answer = await new Promise<string>((resolve) =>
    rl.question(`Password (at least ${minPasswordLength} characters): `, resolve),
  );
  rl.close();
  process.stdout.write('\n');
  return answer;
}

const cli = (
  db: Db,
  what: AuditAction,
  details: Record<string, unknown>,
  target: { targetType: string; targetId?: string },
) => insertAudit(db, { action: what, ...target, details: { ...details, via: 'cli' } });

async function withDb<T>(config: Config, run: (db: Db) => Promise<T>, migrate = true): Promise<T> {
  const db = createDb(config.databaseUrl);
  try {
    if (migrate) await applyMigrations(db, config);
    return await run(db);
  } finally {
    await db.destroy();
  }
}

/** Applies pending migrations; returns their names. A database that cannot be reached says why. */
async function applyMigrations(db: Db, config: Config): Promise<string[]> {
  try {
    return await migrateLatest(db);
  } catch (error) {
    throw new Error(describeDbError(config.databaseUrl, error));
  }
}

export async function run(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  out = (s: string) => process.stdout.write(`${s}\n`),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`samverka: ${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  const flags = parsed.values as Flags;
  const [command, sub] = parsed.positionals;
  if (flags.help || !command) {
    out(usage);
    return command || flags.help ? 0 : 2;
  }

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }

  try {
    switch (`${command} ${sub ?? ''}`.trim()) {
      case 'migrate': {
        // Migrating here rather than in withDb: what it applied is what migrate reports.
        const applied = await withDb(config, (db) => applyMigrations(db, config), false);
        out(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
        return 0;
      }

      case 'unit add': {
        const [name] = need(flags, 'name');
        const unit = await withDb(config, async (db) => {
          const u = await addUnit(db, { name, phone: (flags.phone as string | undefined) ?? null });
          await cli(db, 'unit.add', { name }, { targetType: 'care_unit', targetId: u.id });
          return u;
        });
        out(`added care unit ${unit.name}`);
        return 0;
      }

      case 'user add': {
        const [email, name, role, unit] = need(flags, 'email', 'name', 'role', 'unit');
        if (!roles.includes(role as Role)) throw new UsageError(`--role must be one of ${roles.join(', ')}`);
        let password = flags.password as string | undefined;
        if (password === undefined && process.stdin.isTTY) password = await askPassword();
        if (password !== undefined && !longEnough(password)) {
          throw new UsageError(`the password must have at least ${minPasswordLength} characters`);
        }
        const result = await withDb(config, async (db) => {
          const added = await addStaff(db, {
            email,
            name,
            role: role as Role,
            unit,
            password,
            hsaId: (flags['hsa-id'] as string | undefined) ?? null,
          });
          await cli(
            db,
            'staff.add',
            { email: added.staff.email, role },
            { targetType: 'staff', targetId: added.staff.id },
          );
          return added;
        });
        out(`added ${result.staff.role} ${result.staff.email}`);
        if (result.generatedPassword) out(`password: ${result.generatedPassword}`);
        return 0;
      }

      case 'user password': {
        const [email] = need(flags, 'email');
        const { staff, generatedPassword } = await withDb(config, async (db) => {
          const reset = await resetPassword(db, { email });
          await cli(db, 'staff.password_reset', {}, { targetType: 'staff', targetId: reset.staff.id });
          // Their open pages end with their sessions, as after a disable (below).
          if (!isSqlite(db)) await announce(db, 'staff.changed', { staffId: reset.staff.id });
          return reset;
        });
        out(`new one-time password for ${staff.email}; their sessions are ended`);
        out(`password: ${generatedPassword}`);
        return 0;
      }

      case 'user disable': {
        const [email] = need(flags, 'email');
        const staff = await withDb(config, async (db) => {
          const s = await disableStaff(db, email);
          await cli(db, 'staff.disable', { email: s.email }, { targetType: 'staff', targetId: s.id });
          // The running appliance's open pages of the person end at once on PostgreSQL, in every
          // process; on SQLite, where no bus crosses processes, at its next check of them (a minute).
          if (!isSqlite(db)) await announce(db, 'staff.changed', { staffId: s.id });
          return s;
        });
        out(`disabled ${staff.email}; their sessions are ended and their API tokens revoked`);
        return 0;
      }

      case 'token create': {
        const [user, name] = need(flags, 'user', 'name');
        const { token } = await withDb(config, async (db) => {
          const created = await createToken(db, user, name);
          await cli(db, 'token.create', { name }, { targetType: 'staff', targetId: created.staff.id });
          return created;
        });
        out(token);
        return 0;
      }

      case 'token revoke': {
        const [user, name] = need(flags, 'user', 'name');
        await withDb(config, async (db) => {
          const staff = await revokeToken(db, user, name);
          await cli(db, 'token.revoke', { name }, { targetType: 'staff', targetId: staff.id });
        });
        out(`revoked token "${name}"`);
        return 0;
      }

      case 'purge': {
        const { purge } = await import('./admin/index.ts');
        const counts = await withDb(config, (db) => purge(db, config.retention, 'cli'));
        out(
          `deleted ${counts.connlogEntries} connection log entries, ${counts.evaluationResponses} evaluation answers and ${counts.evaluationRespondents} evaluation respondents; erased the contact data of ${counts.participantContacts} participants and ${counts.messageContacts} messages; deleted ${counts.techtestResults} tech test results; forgot ${counts.loginAddresses} addresses typed at failed logins`,
        );
        return 0;
      }

      case 'backup': {
        const [to] = need(flags, 'to');
        await backupDatabase(config.databaseUrl, to);
        out(
          `backup written to ${to}; keep it with DATA_KEY (.env), without which the personal identity numbers in it cannot be read`,
        );
        return 0;
      }

      case 'restore': {
        const [from] = need(flags, 'from');
        const { migrations } = await restoreDatabase(config.databaseUrl, from, { force: flags.force === true });
        out(`restored ${from} (${migrations} migrations); start the appliance: newer migrations run at start`);
        return 0;
      }

      case 'check':
        if (flags.config) {
          const placeholders = findPlaceholders(env);
          for (const line of placeholders) process.stderr.write(`FATAL: ${line}\n`);
          if (placeholders.length === 0) out('ok   configuration: valid, no example or placeholder values');
          return placeholders.length ? 1 : 0;
        }
        return await check(config, out);

      default:
        throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`samverka: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    if (error instanceof StaffError || error instanceof BackupError) {
      process.stderr.write(`samverka: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`samverka: ${(error as Error).message}\n`);
    return 1;
  }
}

/** One line per part: the same checks as /health/ready, plus what is off or embedded. */
async function check(config: Config, out: (s: string) => void): Promise<number> {
  // Imported here: building the server loads every plugin, which the other commands do not need.
  const { createServer } = await import('./server.ts');
  const { describeProblem, messageTemplates } = await import('./invites/index.ts');
  const server = await createServer({ ...config, logLevel: 'silent' });
  try {
    const state = await server.app.health.run();
    // Jitsi is not part of readiness (a Jitsi outage must not take the appliance out of a load
    // balancer: booking, messages and logs go on), but an installation without it has no video.
    const parts = { ...state.parts, ...(config.jitsi && { jitsi: await jitsiWebState(config.jitsi.url) }) };
    for (const [part, s] of Object.entries(parts)) out(`${s.ok ? 'ok  ' : 'FAIL'} ${part}: ${s.detail}`);
    // Not part of readiness either (a broken override is sent as the built-in template), but what
    // IT wrote should be used: each override that is not fails the check.
    const templates = messageTemplates(server);
    for (const problem of templates.problems) out(`FAIL templates: ${describeProblem(problem)}`);
    if (templates.overridesDir && templates.problems.length === 0)
      out(`ok   templates: ${templates.overrideCount} override(s) in ${templates.overridesDir}, all used`);
    if (state.parts.database?.ok) {
      const { pending } = await listMigrations(server.app.db);
      if (pending.length) out(`note database: ${pending.length} migration(s) pending: run "samverka migrate"`);
    }
    for (const line of describeParts(config)) {
      if (/: (off|embedded)/.test(line)) out(`note ${line}`);
    }
    return Object.values(parts).every((s) => s.ok) && templates.problems.length === 0 ? 0 : 1;
  } finally {
    await server.app.db.destroy();
  }
}

if ((process.argv[1] && /cli\.(ts|js)$/.test(process.argv[1])) || process.env.SAMVERKA_CLI === '1') {
  loadDotEnv();
  process.exitCode = await run(process.argv.slice(2));
}

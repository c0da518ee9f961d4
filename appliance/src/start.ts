// Starts the appliance: configuration, database, every plugin, then listens; and stops it when main.ts
// (the process's entry point, which takes the stop signals) is asked to.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeParts, loadConfig, loadDotEnv, type Config } from './config.ts';
import { DataKeyError } from './crypto.ts';
import { DatabaseInUseError } from './db/hold.ts';
import { describeDbError } from './db/knex.ts';
import { lockKeys, withLock } from './db/locks.ts';
import { reloadTemplates } from './invites/index.ts';
import { createServer } from './server.ts';
import { ensureFirstAdmin } from './staff/index.ts';

type Server = Awaited<ReturnType<typeof createServer>>;

/** Starts the appliance and runs it until `stop` is aborted (with the signal's name); then stops it gracefully and
 * exits 0, so the promise never settles. Each event on `hangup` (SIGHUP) reads the message templates again. */
export async function start(stop: AbortSignal, hangup: EventTarget = new EventTarget()): Promise<void> {
  loadDotEnv();

  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail([error.message]);
    throw error;
  }

  // Listened for before the server is made: one that comes while the plugins register (the
  // templates may just have been read) is not lost, but done once the server is there.
  let server: Server | undefined;
  let hungUp = false;
  hangup.addEventListener('SIGHUP', () => {
    if (server) reloadTemplates(server, 'signal');
    else hungUp = true;
  });
  server = await createServer(config);
  if (hungUp) reloadTemplates(server, 'signal');
  try {
    await server.initialize(); // applies pending migrations
  } catch (error) {
    // Another process runs on this SQLite file (its message names the file and that process), or
    // DATA_KEY is not this database's: each says so; anything else is the database's own failure.
    const refusal = error instanceof DatabaseInUseError || error instanceof DataKeyError;
    fail([refusal ? error.message : describeDbError(config.databaseUrl, error)]);
  }
  // Asked to stop while migrating (or waiting for another process's migrations): stop before
  // creating anyone or listening at all.
  if (stop.aborted) await stopWhenAsked(stop, server);

  for (const line of describeParts(config)) server.log(['info', 'config'], line);
  for (const key of config.generatedSecrets) {
    server.log(
      ['warn', 'config'],
      `${key} was not set: generated one into ${config.dataDir}/secrets.json (keep that file with the database)`,
    );
  }

  // Listening before the first admin is created: its one-time password is handed out only by a
  // start that runs, so a start that cannot listen (the port taken) must create nobody.
  try {
    await server.start();
  } catch (error) {
    fail([describeListenError(config, error)]);
  }
  // Under the start lock: of several processes starting at once on an empty database, one creates it.
  const admin = await withLock(server.app.db, lockKeys.start, () => ensureFirstAdmin(server.app.db));

  const url = config.publicUrl.toString().replace(/\/$/, '');
  process.stdout.write(`\nSamverka is running at ${url} (listening on ${server.info.host}:${server.info.port})\n`);
  if (admin) {
    // The one-time password goes to a person, never into a log: on a terminal it is shown there;
    // under Docker or systemd (stdout is the log) it goes into a file only the appliance's user reads.
    if (process.stdout.isTTY) {
      process.stdout.write(
        `First start: created the admin account ${admin.email} with the one-time password ${admin.password}\n` +
          'Log in and choose a new password; then add care units and staff (npx samverka --help).\n\n',
      );
    } else {
      const file = join(config.dataDir, 'first-admin-password');
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${admin.email}\n${admin.password}\n`, { mode: 0o600 });
      process.stdout.write(
        `First start: created the admin account ${admin.email}; its one-time password is in ${file} (readable only by this user).\n` +
          'Log in and choose a new password, or create a named admin with first-run, which disables this account.\n\n',
      );
    }
  }

  await stopWhenAsked(stop, server);
}

/** Why the appliance cannot listen on HOST:PORT, as a line naming PORT. */
function describeListenError(config: Config, error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  const why =
    code === 'EADDRINUSE'
      ? 'another process listens there (EADDRINUSE): stop it, or use a free TCP port'
      : code === 'EACCES'
        ? 'a port below 1024 needs privileges the appliance does not have (EACCES): use a port such as 3000 behind the TLS proxy'
        : code === 'EADDRNOTAVAIL'
          ? 'HOST is not an address of this machine (EADDRNOTAVAIL): use 0.0.0.0, 127.0.0.1 or one of its addresses'
          : `${code ?? ''} ${message}`.trim();
  return `PORT: cannot listen on ${config.host}:${config.port}: ${why}`;
}

function fail(lines: string[]): never {
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}

/** Waits until a stop is asked for (at once if it already was), then stops every plugin and exits 0. */
async function stopWhenAsked(stop: AbortSignal, server: Server): Promise<never> {
  if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
  server.log(['info'], `${String(stop.reason)}: stopping`);
  await server.stop({ timeout: 10_000 });
  process.exit(0);
}

// Shared by the bundle tests: the project's root, running a command to completion, and a .env
// rendered by provisioning/gen-secrets.sh into a temporary folder.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scratchDir } from '../helpers/scratch.ts';
import { fileURLToPath } from 'node:url';
import { present } from '../helpers/present.ts';

export const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and waits for it; a non-zero exit is a result, not an exception. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd ?? root, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return fail(new Error(error.message, { cause: error }));
        done({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    // A child that exits before reading its input must not fail the test with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

/** The environment a hospital's shell would have: no variable of ours leaks in from the test run. */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: tmpdir(),
  ...extra,
});

/** A folder of a test's own, removed when the test file's process ends. */
export const tempDir = scratchDir;

export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(present(match[1], 'a name'), present(match[2], `the value of ${match[1]}`));
  }
  return values;
}

/** Writes .env with gen-secrets.sh into a new temporary folder and returns its path and values. */
export async function renderEnv(): Promise<{ dir: string; file: string; values: Map<string, string> }> {
  const dir = tempDir('bundle');
  const file = join(dir, '.env');
  const result = await run('bash', [join(root, 'provisioning/gen-secrets.sh'), file], { env: cleanEnv() });
  if (result.code !== 0) throw new Error(`gen-secrets.sh failed: ${result.stderr}`);
  return { dir, file, values: parseEnvFile(readFileSync(file, 'utf8')) };
}

/** The secrets gen-secrets.sh fills in, with the bits of randomness each must carry. */
export const secretBits: Record<string, number> = {
  SESSION_SECRET: 256,
  DATA_KEY: 256,
  JWT_APP_SECRET: 256,
  TURN_SECRET: 128,
  XMPP_PASSWORD: 128,
  JICOFO_AUTH_PASSWORD: 128,
  JVB_AUTH_PASSWORD: 128,
  POSTGRES_PASSWORD: 128,
};

/** compose.yaml rendered by docker-compose (every variable interpolated) with the given .env. */
export async function renderCompose(envFile: string): Promise<string> {
  const result = await run(
    'docker-compose',
    ['--project-directory', root, '-f', join(root, 'compose.yaml'), '--env-file', envFile, 'config'],
    { env: cleanEnv() },
  );
  if (result.code !== 0) throw new Error(`docker-compose config failed: ${result.stderr}`);
  return result.stdout;
}

/** One service's environment from `docker-compose config` output (long values fold onto more lines). */
export function serviceEnvironment(rendered: string, service: string): Record<string, string> {
  const block = new RegExp(`\\n  ${service}:\\n(?:[\\s\\S]*?\\n)??    environment:\\n((?:      .*\\n)+)`).exec(
    rendered,
  )?.[1];
  if (!block) throw new Error(`no environment for ${service}`);
  const environment: Record<string, string> = {};
  let last = '';
  for (const line of block.trimEnd().split('\n')) {
    const entry = /^      ([A-Za-z_][A-Za-z0-9_]*): ?(.*)$/.exec(line);
    if (entry) {
      last = present(entry[1], 'a name');
      environment[last] = present(entry[2], `the value of ${last}`);
    } else {
      environment[last] = `${present(environment[last], `a variable that ${line.trim()} continues`)} ${line.trim()}`;
    }
  }
  for (const [name, value] of Object.entries(environment))
    environment[name] = /^"(.*)"$/.test(value)
      ? JSON.parse(value)
      : value.replace(/^'(.*)'$/, '$1').replace(/''/g, "'");
  return environment;
}

/** Replaces NAME=… in a .env file (or adds it) and returns the new file's path. */
export function withValues(file: string, values: Record<string, string>): string {
  let text = readFileSync(file, 'utf8');
  for (const [name, value] of Object.entries(values)) {
    const line = `${name}=${value}`;
    text = new RegExp(`^#?${name}=.*$`, 'm').test(text)
      ? text.replace(new RegExp(`^#?${name}=.*$`, 'm'), line)
      : `${text}${line}\n`;
  }
  const changed = `${file}.${Object.keys(values).join('-').slice(0, 60)}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(changed, text);
  return changed;
}

/** What a hospital fills into .env after gen-secrets.sh (INSTALL.md step 3). */
export const realValues = {
  PUBLIC_URL: 'https://samverka.region.se',
  JITSI_URL: 'https://meet.region.se',
  TURN_HOST: 'turn.region.se',
  JVB_ADVERTISE_IPS: '193.10.20.30',
  RELAYHOST: '[smtp.region.se]:25',
  MAIL_SENDER_DOMAINS: 'region.se',
  MAIL_FROM: 'Samverka <noreply@region.se>',
  MAIL_HOSTNAME: 'samverka.region.se',
  SMPP_URL: 'smpp://samverka:Xk7pQ2mV9rT4@smsc.region.se:2775',
};

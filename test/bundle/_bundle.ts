// Shared by the bundle tests: the project's root, running a command to completion, and a .env
// rendered by provisioning/gen-secrets.sh into a temporary folder.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and waits for it; a non-zero exit is a result, not an exception. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = execFile(command, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return fail(error);
      done({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    // A child that exits before reading its input must not fail the test with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

/** The environment a hospital's shell would have: no variable of ours leaks in from the test run. */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: tmpdir(), ...extra });

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `samverka-${prefix}-`));

export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(match[1], match[2]);
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

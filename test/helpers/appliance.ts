// The appliance as a real process (main.ts through tsx), the way systemd or a container starts it:
// for the tests where several processes share one PostgreSQL, or a process is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './wait.ts';

const main = new URL('../../appliance/src/main.ts', import.meta.url).pathname;

export interface ApplianceProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  out(): string;
  err(): string;
  /** Resolves with the port once the process says it is running; fails if it exits first. */
  running(timeoutMs?: number): Promise<number>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the process dies with whatever it held. */
  kill(): Promise<void>;
}

/** Secrets every process of one installation shares (sessions and encrypted data cross processes). */
export const sharedSecrets = () => ({
  SESSION_SECRET: randomBytes(32).toString('hex'),
  DATA_KEY: randomBytes(32).toString('hex'),
});

export function startAppliance(env: Record<string, string>): ApplianceProcess {
  const dataDir = mkdtempSync(join(tmpdir(), 'samverka-proc-'));
  const child = spawn(process.execPath, [`--import=${import.meta.resolve('tsx')}`, main], {
    cwd: dataDir,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  // 'close', not 'exit': the process has ended and everything it wrote has been read.
  // The folder is this process's alone (a test that restarts on one DATA_DIR passes its own): it goes
  // with the process.
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    async running(timeoutMs = 60_000) {
      const port = await until(
        `the appliance (pid ${child.pid}) to start`,
        () => {
          if (child.exitCode !== null) throw new Error(`the appliance exited with ${child.exitCode}: ${stderr}`);
          return /listening on 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
        },
        timeoutMs,
      );
      return Number(port);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

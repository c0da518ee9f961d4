// Starts Debian's coturn (`turnserver`) for a test: loopback only, on ports found free, with the
// TURN REST shared secret, and stops it by its pid. allocate() checks credentials against it
// without a browser, with the appliance's own TURN probe. Relay between two loopback peers needs
// --allow-loopback-peers, which is fine here and never in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocate as probe } from '../../appliance/src/techtest/turn-probe.ts';

export interface Coturn {
  port: number;
  secret: string;
  realm: string;
  /** TURN_URLS for the appliance: the same port over UDP and over TCP. */
  urls: string;
  /** Everything turnserver printed (it logs to stdout here). */
  output(): string;
  stop(): Promise<void>;
}

/** A TCP port the kernel just handed out; coturn listens on it for both UDP and TCP. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startCoturn(options: { secret?: string; binary?: string } = {}): Promise<Coturn> {
  const secret = options.secret ?? randomBytes(16).toString('hex');
  const realm = 'samverka.test';
  const dir = mkdtempSync(join(tmpdir(), 'samverka-coturn-'));
  const port = await freePort();
  // Relay ports: a random window of the ephemeral range, so that parallel test files rarely meet.
  const minPort = 50000 + randomInt(0, 150) * 100;
  const args = [
    '-n',
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    `--min-port=${minPort}`,
    `--max-port=${minPort + 99}`,
    `--realm=${realm}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--fingerprint',
    '--allow-loopback-peers',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--log-file=stdout',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`,
  ];
  const child: ChildProcess = spawn(options.binary ?? '/usr/bin/turnserver', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr!.on('data', (c: Buffer) => chunks.push(c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const output = () => Buffer.concat(chunks).toString('utf8');

  const stop = async () => {
    if (running && child.pid) {
      process.kill(child.pid, 'SIGTERM');
      const killed = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ]);
      if (!killed && running) {
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (!running) {
      await stop();
      throw new Error(`turnserver exited before listening on ${port}:\n${output()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`turnserver did not listen on ${port} within 10 s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    port,
    secret,
    realm,
    urls: `turn:127.0.0.1:${port}?transport=udp,turn:127.0.0.1:${port}?transport=tcp`,
    output,
    stop,
  };
}

/** The appliance's own TURN probe (appliance/src/techtest/turn-probe.ts) against this server. */
export const allocate = (port: number, username: string, password: string): Promise<number> =>
  probe('127.0.0.1', port, username, password);

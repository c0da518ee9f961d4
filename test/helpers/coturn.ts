// Starts Debian's coturn (`turnserver`) for a test: loopback only, on ports found free, with the
// TURN REST shared secret, and stops it by its pid. Also a minimal TURN client, allocate(), to
// check credentials against it without a browser. Relay between two loopback peers needs
// --allow-loopback-peers, which is fine here and never in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  const child: ChildProcess = spawn(options.binary ?? '/usr/bin/turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
      const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
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

// ---- A minimal TURN client (RFC 5766 Allocate over UDP), to check credentials without a browser.

const magicCookie = 0x2112a442;
const attr = { username: 0x0006, messageIntegrity: 0x0008, errorCode: 0x0009, realm: 0x0014, nonce: 0x0015, requestedTransport: 0x0019 };

function attribute(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function allocateRequest(attributes: Buffer[], integrityKey?: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0003, 0); // Allocate request
  header.writeUInt32BE(magicCookie, 4);
  randomBytes(12).copy(header, 8);
  let body = Buffer.concat(attributes);
  if (integrityKey) {
    // MESSAGE-INTEGRITY covers the message with its length already counting the 24-byte attribute.
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', integrityKey).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, attribute(attr.messageIntegrity, mac)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function readAttributes(message: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  for (let at = 20; at + 4 <= message.length; ) {
    const type = message.readUInt16BE(at);
    const length = message.readUInt16BE(at + 2);
    found.set(type, message.subarray(at + 4, at + 4 + length));
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return found;
}

/** One UDP socket for the whole conversation: coturn ties its nonce to the client's address and port. */
function turnSocket(port: number) {
  const socket = createSocket('udp4');
  const exchange = (request: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the TURN server')), 3000);
      socket.once('message', (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      socket.send(request, port, '127.0.0.1');
    });
  return { exchange, close: () => socket.close() };
}

/**
 * Asks the TURN server for a relay allocation with the given credentials, as a browser does:
 * first unauthenticated (the server answers 401 with its realm and a nonce), then signed with
 * the long-term key MD5(username:realm:password). Returns the final status: 200 or the error code.
 */
export async function allocate(port: number, username: string, password: string): Promise<number> {
  const { exchange, close } = turnSocket(port);
  try {
    const transport = attribute(attr.requestedTransport, Buffer.from([17, 0, 0, 0]));
    const challenge = readAttributes(await exchange(allocateRequest([transport])));
    const realm = challenge.get(attr.realm);
    const nonce = challenge.get(attr.nonce);
    if (!realm || !nonce) throw new Error('the TURN server did not send a realm and nonce');
    const key = createHash('md5').update(`${username}:${realm.toString('utf8')}:${password}`).digest();
    const signed = [transport, attribute(attr.username, Buffer.from(username)), attribute(attr.realm, realm), attribute(attr.nonce, nonce)];
    const reply = await exchange(allocateRequest(signed, key));
    if (reply.readUInt16BE(0) === 0x0103) return 200; // Allocate success response
    const error = readAttributes(reply).get(attr.errorCode);
    return error ? error[2]! * 100 + error[3]! : 0;
  } finally {
    close();
  }
}

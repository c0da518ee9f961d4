// Starts Debian's Prosody with its own configuration in a temporary folder, laid out like Jitsi's:
// a virtual host for participants, a MUC component for the rooms, a hidden domain for the
// appliance's account (a global admin, so it owns every room) and an anonymous guest host.
// Plain text on loopback with PLAIN allowed (MACHINE-NOTES: SCRAM without TLS costs ~0.9 s a login).
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeSelfSigned } from './tls.ts';

const run = promisify(execFile);

export interface Prosody {
  /** `xmpp://127.0.0.1:PORT`, the c2s address. */
  service: string;
  /** The participants' virtual host (Jitsi's main domain). */
  domain: string;
  /** The MUC component's domain. */
  mucDomain: string;
  /** Jitsi's hidden domain: accounts here are not shown as participants. */
  hiddenDomain: string;
  /** A virtual host with anonymous login, like Jitsi's guest domain. */
  guestDomain: string;
  /** The appliance's account: a global admin on the hidden domain. */
  controller: { user: string; domain: string; password: string };
  ports: { c2s: number; component: number; http: number; directTls?: number };
  /** With `tls: true`: `xmpps://127.0.0.1:PORT` (direct TLS), and the self-signed certificate to trust. */
  directTlsService?: string;
  caFile?: string;
  dir: string;
  /** `config.xmpp` for the appliance, pointing at this server as the controller. */
  xmppConfig(): { service: string; domain: string; mucDomain: string; user: string; password: string };
  register(user: string, host: string, password: string): Promise<void>;
  /**
   * Closes every session of that JID from the server side, as an admin would (prosodyctl shell);
   * with a stream error `condition`, as Prosody closes a session it gave up on (`connection-timeout`).
   */
  closeSessions(jid: string, condition?: string): Promise<void>;
  /**
   * Stops the server (the pid this helper started) and starts it again on the same ports; with
   * `whileDown`, that runs in between (what happens while Prosody is away).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** What Prosody logged (warnings and errors), for failing tests. */
  log(): string;
}

export interface ProsodyOptions {
  domain?: string;
  /** Extra Lua appended to the MUC component's section. */
  mucOptions?: string;
  /**
   * Require TLS as a production Prosody does: STARTTLS on the c2s port, direct TLS on another,
   * PLAIN only inside TLS; a self-signed certificate for the hosts and 127.0.0.1 (see caFile).
   */
  tls?: boolean;
}

export async function startProsody(options: ProsodyOptions = {}): Promise<Prosody> {
  const domain = options.domain ?? 'meet.test';
  const mucDomain = `muc.${domain}`;
  const hiddenDomain = `hidden.${domain}`;
  const guestDomain = `guest.${domain}`;
  const controller = { user: 'focus', domain: hiddenDomain, password: 'focus-secret-for-tests' };
  const dir = mkdtempSync(join(tmpdir(), 'samverka-prosody-'));
  mkdirSync(join(dir, 'data'));
  // An empty certificate folder: no TLS on loopback, and Prosody stops looking in /etc.
  mkdirSync(join(dir, 'certs'));
  const ports = {
    c2s: await freePort(),
    component: await freePort(),
    http: await freePort(),
    directTls: options.tls ? await freePort() : undefined,
  };
  if (options.tls) {
    const names = [domain, hiddenDomain, guestDomain, mucDomain].map((n) => `DNS:${n}`);
    writeSelfSigned(domain, join(dir, 'certs', 'key.pem'), join(dir, 'certs', 'cert.pem'), [...names, 'IP:127.0.0.1']);
  }
  const configFile = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    configFile,
    configuration({
      dir,
      ports,
      domain,
      mucDomain,
      hiddenDomain,
      guestDomain,
      controller: `${controller.user}@${hiddenDomain}`,
      mucOptions: options.mucOptions ?? '',
      tls: Boolean(options.tls),
    }),
  );

  const prosodyctl = (...args: string[]) =>
    run('/usr/bin/prosodyctl', ['--config', configFile, ...args], { timeout: 30_000 });
  await prosodyctl('register', controller.user, controller.domain, controller.password);

  let running: RunningProsody | undefined;
  const start = async () => {
    running = await runProsody(configFile, ports.c2s, readLog);
  };
  const stop = async () => {
    const current = running;
    running = undefined;
    await current?.stop();
  };

  function readLog(): string {
    try {
      return readFileSync(join(dir, 'prosody.log'), 'utf8');
    } catch {
      return '';
    }
  }

  await start();

  return {
    service: `xmpp://127.0.0.1:${ports.c2s}`,
    domain,
    mucDomain,
    hiddenDomain,
    guestDomain,
    controller,
    ports,
    directTlsService: ports.directTls ? `xmpps://127.0.0.1:${ports.directTls}` : undefined,
    caFile: options.tls ? join(dir, 'certs', 'cert.pem') : undefined,
    dir,
    xmppConfig: () => ({
      service: `xmpp://127.0.0.1:${ports.c2s}`,
      domain: hiddenDomain,
      mucDomain,
      user: controller.user,
      password: controller.password,
    }),
    async register(user, host, password) {
      await prosodyctl('register', user, host, password);
    },
    async closeSessions(jid, condition) {
      if (!/^[^'"\\\s]+$/.test(jid)) throw new Error(`not a JID: ${jid}`);
      if (condition !== undefined && !/^[a-z-]+$/.test(condition)) throw new Error(`not a condition: ${condition}`);
      await prosodyctl('shell', condition ? `c2s:close('${jid}', nil, '${condition}')` : `c2s:close('${jid}')`);
    },
    async restart(whileDown) {
      await stop();
      await whileDown?.();
      await start();
    },
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: readLog,
  };
}

interface Layout {
  dir: string;
  ports: { c2s: number; component: number; http: number; directTls?: number };
  tls: boolean;
  domain: string;
  mucDomain: string;
  hiddenDomain: string;
  guestDomain: string;
  controller: string;
  mucOptions: string;
}

function configuration(l: Layout): string {
  const path = (name: string) => JSON.stringify(join(l.dir, name));
  return `-- Written by test/helpers/prosody.ts for one test run.
run_as_root = true
pidfile = ${path('prosody.pid')}
data_path = ${path('data')}
admin_socket = ${path('prosody.sock')}
certificates = ${path('certs')}
log = { { levels = { min = "warn" }, to = "file", filename = ${path('prosody.log')} } }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${l.ports.c2s} }
c2s_direct_tls_ports = { ${l.ports.directTls ?? ''} }
s2s_ports = { }
component_ports = { ${l.ports.component} }
component_interfaces = { "127.0.0.1" }
http_ports = { ${l.ports.http} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
-- Without it, joins are seen ~40 ms late (MACHINE-NOTES).
network_settings = { nagle = false }

${
  l.tls
    ? `-- TLS as in production: STARTTLS offered and required, PLAIN only inside TLS.
modules_enabled = { "tls", "saslauth", "disco", "ping", "roster", "admin_shell" }
ssl = { certificate = ${path('certs/cert.pem')}, key = ${path('certs/key.pem')} }
c2s_require_encryption = true
allow_unencrypted_plain_auth = false`
    : `-- No "tls": STARTTLS would be offered and a plain-text client on loopback would fail.
modules_enabled = { "saslauth", "disco", "ping", "roster", "admin_shell" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true`
}
modules_disabled = { "s2s", "offline" }
s2s_require_encryption = false
authentication = "internal_hashed"
storage = "internal"
admins = { "${l.controller}" }

VirtualHost "${l.domain}"

VirtualHost "${l.hiddenDomain}"

VirtualHost "${l.guestDomain}"
    authentication = "anonymous"

Component "${l.mucDomain}" "muc"
    modules_enabled = { }
${l.mucOptions}
`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface RunningProsody {
  /** SIGTERM (SIGKILL after 5 s) to the process this started, and its exit. */
  stop(): Promise<void>;
}

/**
 * Runs Debian's prosody with `configFile` (as root: the file says `run_as_root = true`) until it
 * listens on `port`; fails with what it wrote and `log()` when it exits first or does not listen.
 * The one way the tests start Prosody: with the test's own layout (startProsody) or with the
 * bundle's configuration under test (test/bundle/_xmpp.ts).
 */
export async function runProsody(configFile: string, port: number, log: () => string): Promise<RunningProsody> {
  const child = spawn('/usr/bin/prosody', ['--config', configFile, '-F'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const gone = exited.then(() => {
    throw new Error(`prosody exited during start (${child.exitCode}): ${stderr}${log()}`);
  });
  try {
    await Promise.race([waitForPort(port, 15_000), gone]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`prosody did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

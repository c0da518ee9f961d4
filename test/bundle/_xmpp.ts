// Shared by the Prosody tests: just enough XMPP over plain TCP to log in and drive rooms, and
// waiting for a Prosody the test started.
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { connect, type Socket } from 'node:net';
import { runProsody } from '../helpers/prosody.ts';

/** Just enough XMPP over plain TCP to log in with SASL PLAIN and read the answers. */
export class Xmpp {
  #buffer = '';
  /** The stream features offered before login. */
  features = '';
  private constructor(
    private readonly socket: Socket,
    private readonly muc: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
    });
  }

  static async login(
    port: number,
    user: string,
    domain: string,
    password: string,
    muc = 'muc.meet.jitsi',
  ): Promise<Xmpp> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const client = new Xmpp(socket, muc);
    const open = () =>
      client.send(
        `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
      );
    open();
    const features = await client.next(/<stream:features>[\s\S]*?<\/stream:features>/);
    client.features = features;
    if (!/PLAIN/.test(features)) throw new Error(`no PLAIN mechanism offered: ${features}`);
    client.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`,
    );
    const outcome = await client.next(/<success[^>]*\/>|<success[\s\S]*?<\/success>|<failure[\s\S]*?<\/failure>/);
    if (!outcome.startsWith('<success')) throw new Error(`login as ${user}@${domain} refused: ${outcome}`);
    open();
    await client.next(/<stream:features>[\s\S]*?<\/stream:features>/);
    client.send(
      `<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>test</resource></bind></iq>`,
    );
    await client.next(/<iq[^>]*id=['"]bind['"][\s\S]*?<\/iq>/);
    return client;
  }

  send(xml: string): void {
    this.socket.write(xml);
  }

  /** Waits for the next stanza matching the pattern and consumes the buffer up to it. */
  async next(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match.index + match[0].length);
        return match[0];
      }
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms; received: ${this.#buffer}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Joins (or creates) a room and returns Prosody's answer: our own presence, or an error. */
  async join(room: string, nick: string): Promise<string> {
    const jid = `${room}@${this.muc}`;
    this.send(`<presence to='${jid}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    return this.next(
      new RegExp(`<presence[^>]*from=['"]${jid.replace(/\./g, '\\.')}(/${nick})?['"][^>]*>[\\s\\S]*?</presence>`),
    );
  }

  /** Ends a room for everyone (XEP-0045 destroy) and returns the answer to the request. */
  async destroy(room: string): Promise<string> {
    const id = `destroy-${room}-${Math.random().toString(36).slice(2)}`;
    this.send(
      `<iq type='set' id='${id}' to='${room}@${this.muc}'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy><reason>Mötet är avslutat</reason></destroy></query></iq>`,
    );
    return this.next(new RegExp(`<iq[^>]*id=['"]${id}['"][^>]*(/>|>[\\s\\S]*?</iq>)`));
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The start of a main configuration as Debian's prosody.cfg.lua gives it, reduced to a private
 * server in `dir` on a free c2s port: what the bundle's files are included into.
 */
export function mainConfig(dir: string, port: number, modules: string[]): string {
  return `run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
admin_socket = "${dir}/prosody.sock"
log = { info = "${dir}/prosody.log" }
certificates = "${dir}/certs"
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
s2s_ports = { }
component_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { ${modules.map((m) => `"${m}"`).join('; ')} }
modules_disabled = { "s2s" }
network_settings = { nagle = false }
`;
}

/** Runs Debian's prosody with a configuration while `use` runs; on a failure its log goes to the test's output. */
export async function withProsody(
  t: ExecutionContext,
  config: string,
  port: number,
  log: string,
  use: () => Promise<void>,
): Promise<void> {
  const readLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const prosody = await runProsody(config, port, readLog);
  try {
    await use();
  } catch (error) {
    t.log(readLog());
    throw error;
  } finally {
    await prosody.stop();
  }
}

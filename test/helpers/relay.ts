// A real SMTP relay for tests (smtp-server on loopback): what arrives is parsed with mailparser,
// as a mail program would read it. It can refuse recipients, and be stopped and started again on
// the same port (a relay that goes away and comes back). Like a hospital's relay it can speak TLS
// (STARTTLS on submission, or implicit TLS) and require a login.
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { present } from './present.ts';

export interface Relay {
  url: string;
  port: number;
  received: ParsedMail[];
  /** Every login tried: the method, the user, and whether the connection was encrypted by then. */
  logins: { method: string; username: string; secure: boolean; accepted: boolean }[];
  /** Resolves when `count` mails have arrived in all (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** Resolves with the `nth` mail to arrive (1 for the first), waiting for it as `waitFor` does. */
  waitForMail(nth: number, timeoutMs?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

export interface RelayOptions {
  /** Recipients refused with the SMTP reply given for them. */
  refuse?: Record<string, [number, string]>;
  port?: number;
  /** Mails already received (kept across a restart). */
  received?: ParsedMail[];
  /** A server key and certificate: STARTTLS is offered with them (or spoken at once with `implicitTls`). */
  tls?: { key: string; cert: string };
  /** TLS from the first byte (smtps, port 465) instead of STARTTLS. */
  implicitTls?: boolean;
  /** A login is required, with these credentials and methods (AUTH PLAIN and/or LOGIN). */
  auth?: { username: string; password: string; methods: ('PLAIN' | 'LOGIN')[] };
  /** Accept AUTH on an unencrypted connection (a relay configured carelessly). */
  allowInsecureAuth?: boolean;
}

export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const received = options.received ?? [];
  const logins: Relay['logins'] = [];
  const auth = options.auth;
  const server = new SMTPServer({
    authOptional: !auth,
    disabledCommands: [...(options.tls && !options.implicitTls ? [] : ['STARTTLS']), ...(auth ? [] : ['AUTH'])],
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert, secure: options.implicitTls === true } : {}),
    ...(auth ? { authMethods: auth.methods } : {}),
    allowInsecureAuth: options.allowInsecureAuth === true,
    logger: false,
    onAuth(login, session, callback) {
      const accepted = login.username === auth?.username && login.password === auth?.password;
      logins.push({ method: login.method, username: login.username ?? '', secure: session.secure, accepted });
      if (!accepted)
        return callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      return callback(null, { user: login.username });
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const refusal = options.refuse?.[address.address];
      if (!refusal) return callback();
      return callback(Object.assign(new Error(refusal[1]), { responseCode: refusal[0] }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        received.push(mail);
        callback();
      }, callback);
    },
  });
  // A client that refuses the certificate hangs up mid-handshake; the relay carries on.
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.server.address() as AddressInfo).port;
  const waitFor: Relay['waitFor'] = async (count, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} mails, ${received.length} arrived`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return received;
  };
  return {
    url: `${options.implicitTls ? 'smtps' : 'smtp'}://127.0.0.1:${port}`,
    port,
    received,
    logins,
    waitFor,
    async waitForMail(nth, timeoutMs) {
      return present((await waitFor(nth, timeoutMs))[nth - 1], `mail number ${nth}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

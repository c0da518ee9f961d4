// Starts the appliance in-process on a free port with a temporary database on this pass's engine,
// and gives tests a browser-like client (cookies, CSRF crumb) plus shortcuts to add units and staff.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Server } from '@hapi/hapi';
import { loadConfig, type Config } from '../../appliance/src/config.ts';
import { createServer } from '../../appliance/src/server.ts';
import type { Role, Staff } from '../../appliance/src/staff/model.ts';
import { addStaff, addUnit } from '../../appliance/src/staff/service.ts';
import { findUnit } from '../../appliance/src/staff/store.ts';
import { testDatabase, type TestDatabase } from './databases.ts';
import type { Prosody } from './prosody.ts';
import { present } from './present.ts';

export interface TestServer {
  server: Server;
  config: Config;
  url: string;
  /** Everything the server logged, as text (JSON lines). */
  logs(): string;
  staff(
    role?: Role,
    unit?: string,
    overrides?: { email?: string; name?: string; hsaId?: string },
  ): Promise<{ staff: Staff; password: string }>;
  client(): Client;
  stop(): Promise<void>;
}

export const testPassword = 'rätt-häftklammer-42';

/** The secret the appliance signs Jitsi tokens with in tests (the length Jitsi needs). */
export const jitsiSecret = 'a-jitsi-app-secret-of-at-least-32-chars';

/** The settings that give the appliance room control: a Prosody the test started, and a Jitsi by name. */
export function roomControlEnv(prosody: Prosody): Record<string, string> {
  const x = prosody.xmppConfig();
  return {
    XMPP_SERVICE: x.service,
    XMPP_DOMAIN: x.domain,
    XMPP_MUC_DOMAIN: x.mucDomain,
    XMPP_USER: x.user,
    XMPP_PASSWORD: x.password,
    JITSI_URL: 'https://meet.example.test',
    JWT_APP_ID: 'samverka',
    JWT_APP_SECRET: jitsiSecret,
  };
}

export async function startServer(
  options: { env?: Record<string, string>; database?: TestDatabase } = {},
): Promise<TestServer> {
  const database = options.database ?? (await testDatabase());
  const dataDir = mkdtempSync(join(tmpdir(), 'samverka-data-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DATA_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const logStream = new PassThrough();
  const chunks: Buffer[] = [];
  logStream.on('data', (c: Buffer) => chunks.push(c));
  // A start that fails (a loaded machine slow to open a connection) leaves nothing behind: an open
  // pool or connection would keep the test's process alive after its tests, and the run would hang.
  const removeData = async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const server = await createServer(config, { logStream }).catch(async (error: unknown) => {
    await removeData();
    throw error;
  });
  try {
    await server.start();
  } catch (error) {
    await server.stop({ timeout: 2000 }).catch(() => undefined);
    await removeData();
    throw error;
  }
  const url = `http://127.0.0.1:${server.info.port}`;
  // The same URL object everyone holds: links in messages point at this test server.
  config.publicUrl.href = url;
  let n = 0;
  const units: Record<string, Promise<unknown>> = {};

  return {
    server,
    config,
    url,
    logs: () => Buffer.concat(chunks).toString('utf8'),
    async staff(role = 'clinician', unit = 'Barn- och ungdomsmedicin', overrides = {}) {
      const db = server.app.db;
      // Tests run concurrently: the first to need a unit creates it.
      units[unit] ??= findUnit(db, { name: unit }).then(
        (u) => u ?? addUnit(db, { name: unit, phone: '010-123 45 67' }),
      );
      await units[unit];
      n += 1;
      const { staff } = await addStaff(db, {
        email: overrides.email ?? `${role}${n}-${randomBytes(3).toString('hex')}@region.example`,
        name: overrides.name ?? `Test ${role} ${n}`,
        role,
        unit,
        hsaId: overrides.hsaId,
        password: testPassword,
      });
      return { staff, password: testPassword };
    },
    client: () => new Client(url),
    async stop() {
      await server.stop({ timeout: 2000 });
      await removeData();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

/** A small cookie-keeping HTTP client that behaves like a browser for forms and the API. */
export class Client {
  readonly cookies = new Map<string, string>();
  /** Sent with every request: e.g. the X-Forwarded-For a proxy in TRUSTED_PROXIES would add. */
  readonly headers: Record<string, string> = {};
  constructor(readonly base: string) {}

  get crumb(): string | undefined {
    return this.cookies.get('crumb');
  }

  async request(
    method: string,
    path: string,
    init: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { accept: 'text/html,application/json', ...this.headers, ...init.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined = init.body;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
      if (this.crumb && !headers['x-csrf-token']) headers['x-csrf-token'] = this.crumb;
    }
    const res = await fetch(new URL(path, this.base), { method, headers, body, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = present(cookie.split(';')[0], 'the name=value of a Set-Cookie');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    // An event stream never ends: take the headers and leave the body (the tests read streams themselves).
    const streaming = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
    if (streaming) await res.body?.cancel();
    const text = streaming ? '' : await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }

  /** Submits a form the way a browser does: first fetching a page so that the crumb cookie exists. */
  async submit(path: string, form: Record<string, string>, from = '/login'): Promise<Reply> {
    if (!this.crumb) await this.get(from);
    return this.request('POST', path, { form: { crumb: this.crumb ?? '', ...form } });
  }

  async login(email: string, password: string): Promise<Reply> {
    return this.submit('/login', { email, password });
  }
}

/** A live page's event stream as `client` opens it: `read` waits until what has come matches. */
export async function eventStream(client: Client, path: string) {
  const controller = new AbortController();
  const res = await fetch(new URL(path, client.base), {
    // As a browser's EventSource asks.
    headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '), accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let received = '';
  return {
    res,
    get received() {
      return received;
    },
    read: async (until: RegExp): Promise<string> => {
      while (!until.test(received)) {
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value);
      }
      return received;
    },
    /**
     * Whether the server ends the stream (reading on until it does), or `false` once `waitMs` has
     * passed without its end: a stream that should have ended and did not fails the test, not hangs it.
     */
    ended: async (waitMs = 10_000): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      });
      const end = (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return true;
          received += decoder.decode(value);
        }
      })();
      try {
        return await Promise.race([end, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => controller.abort(),
  };
}

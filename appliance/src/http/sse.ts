// Server-Sent Events for live pages (the calendar, the meeting page, later the guest's waiting
// room): a text/event-stream response that sends named events, a comment heartbeat so proxies
// and browsers keep the connection, and cleans up when the browser goes away.
import type { Server as Listener } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Request, ResponseObject, ResponseToolkit, Server, UserCredentials } from '@hapi/hapi';
import type { EventBus } from '../events.ts';
import { every } from '../schedule.ts';

export interface EventStream {
  /** Sends one event; `data` is JSON-encoded. Does nothing once closed. */
  send(event: string, data: unknown): void;
  close(): void;
  /** Checks again whether the staff member may still have it (what it shows changed); ends it if not. */
  recheck(): void;
  readonly closed: boolean;
}

export interface EventStreamOptions {
  /** Comment lines keep idle connections open through proxies (default 20 s). */
  heartbeatMs?: number;
  /** How long the browser waits before reconnecting (default 3 s). */
  retryMs?: number;
  onClose?: () => void;
  /**
   * Whether the staff member may still see what the stream shows (their meeting), checked with the
   * session whenever the stream is checked again.
   */
  stillAllowed?: (staff: UserCredentials) => Promise<boolean>;
}

/** The streams open on a server, and the checks of those a staff member opened. */
interface OpenStreams {
  streams: Set<EventStream>;
  staffChecks: Set<() => Promise<void>>;
}

/**
 * The streams open on each server, by its listener (the one object every plugin's `request.server`
 * shares). A stream never ends by itself: unless the stop ends them, it waits its whole timeout
 * (start.ts: as long as Docker waits before SIGKILL) whenever a guest waits or a page is open.
 */
const openStreams = new WeakMap<Listener, OpenStreams>();

/**
 * How often every staff stream's session is checked again besides the bus's news of a change: a
 * session runs out by itself (its hours, or idle: no event says so), and `samverka user disable` is another
 * process that on SQLite reaches no bus. One indexed look-up per open stream a minute.
 */
const staffRecheckMs = 60_000;

/**
 * Makes the server's stop end every open event stream first (browsers reconnect to the next
 * process), and checks the staff streams' sessions every minute while it runs.
 */
export function registerEventStreams(server: Server): void {
  const open: OpenStreams = { streams: new Set(), staffChecks: new Set() };
  openStreams.set(server.listener, open);
  let stopChecks = () => {};
  server.ext('onPostStart', () => {
    stopChecks = every(
      staffRecheckMs,
      () => recheckStaffStreams(server),
      (error) => server.log(['error', 'sse'], { err: error }),
      { firstAfterMs: staffRecheckMs },
    );
  });
  server.ext('onPreStop', () => {
    stopChecks();
    for (const stream of open.streams) stream.close();
  });
}

/** Checks every open staff stream's session now, as the next page would; those it no longer allows end. */
export async function recheckStaffStreams(server: Server): Promise<void> {
  const checks = [...(openStreams.get(server.listener)?.staffChecks ?? [])];
  // One that cannot be checked now (the database away) is logged and checked next time; the others go on.
  const check = (one: () => Promise<void>) =>
    one().catch((error: unknown) => server.log(['error', 'sse'], { err: error }));
  // A few at a time: a thousand open calendars do not queue a thousand look-ups before a page's.
  for (let i = 0; i < checks.length; i += 20) await Promise.all(checks.slice(i, i + 20).map(check));
}

export function openEventStream(
  request: Request,
  h: ResponseToolkit,
  options: EventStreamOptions = {},
): { response: ResponseObject; stream: EventStream } {
  const body = new PassThrough();
  let closed = false;
  let unfollow = () => {};
  const heartbeat = setInterval(() => body.write(': heartbeat\n\n'), options.heartbeatMs ?? 20_000);
  heartbeat.unref();

  const open = openStreams.get(request.server.listener);
  const close = () => {
    if (closed) return;
    closed = true;
    open?.streams.delete(stream);
    clearInterval(heartbeat);
    unfollow();
    body.end();
    options.onClose?.();
  };
  // The response closes when the browser goes away (tab closed, network lost) or the server stops.
  request.raw.res.once('close', close);
  const staff = followStaff(request, close, open?.staffChecks, options.stillAllowed);
  unfollow = staff.unfollow;

  body.write(`retry: ${options.retryMs ?? 3000}\n\n`);
  const stream: EventStream = {
    send(event, data) {
      if (closed) return;
      // One data line: JSON has no raw newlines, and event names are ours.
      body.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close,
    recheck: () => void staff.check().catch((error: unknown) => request.log(['error', 'sse'], { err: error })),
    get closed() {
      return closed;
    },
  };
  open?.streams.add(stream);
  const response = h
    .response(body)
    .type('text/event-stream; charset=utf-8')
    .header('cache-control', 'no-store, no-transform')
    // Compression would hold events back until a buffer fills; nginx would buffer them too.
    .header('content-encoding', 'identity')
    .header('x-accel-buffering', 'no');
  return { response, stream };
}

/**
 * A staff member's stream is access like a page: it was allowed for a session and for the person's
 * role and unit as they were when it opened. When that session may have ended (a logout, a password
 * changed elsewhere, the account disabled, its hours over) or the rights changed, the session is
 * checked again, as the next page would check it; a stream it no longer allows, or allows with other
 * rights, ends. The browser opens it again: allowed, with the rights the person has now, or not at
 * all. A stream of one meeting is also checked against the meeting as it is now (`stillAllowed`: a
 * colleague removed from it). The check runs on the bus's news of the person (from every process),
 * when the route asks (`recheck`: its meeting changed) and every minute (`recheckStaffStreams`),
 * for what no event announces.
 */
function followStaff(
  request: Request,
  close: () => void,
  checks: Set<() => Promise<void>> | undefined,
  stillAllowed: ((staff: UserCredentials) => Promise<boolean>) | undefined,
): { check: () => Promise<void>; unfollow: () => void } {
  const staff = request.auth.credentials?.user;
  const strategy = request.auth.strategy;
  if (!staff || !strategy) return { check: () => Promise.resolve(), unfollow: () => undefined };
  const bus: EventBus = request.server.app.bus;
  let following = true;
  const check = async () => {
    if (!following) return;
    // An unauthenticated session is thrown (a 401, or the redirect to the login page).
    const now = await request.server.auth.test(strategy, request).catch(() => undefined);
    // The database away for a moment is not a session that ended: the next check decides.
    if (now?.credentials.uncheckedSession) return;
    const user = now?.credentials.user;
    if (!user || user.role !== staff.role || user.unitId !== staff.unitId || !(await (stillAllowed?.(user) ?? true)))
      close();
  };
  const ofThisPerson = ({ staffId }: { staffId?: string }) => (staffId === staff.id ? check() : undefined);
  checks?.add(check);
  const offs = [bus.follow('staff.logout', ofThisPerson), bus.follow('staff.changed', ofThisPerson)];
  return {
    check,
    unfollow: () => {
      following = false;
      checks?.delete(check);
      offs.forEach((off) => off());
    },
  };
}

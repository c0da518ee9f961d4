// Server-Sent Events for live pages (the calendar, the meeting page, later the guest's waiting
// room): a text/event-stream response that sends named events, a comment heartbeat so proxies
// and browsers keep the connection, and cleans up when the browser goes away.
import type { Server as Listener } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Request, ResponseObject, ResponseToolkit, Server } from '@hapi/hapi';
import type { EventBus } from '../events.ts';

export interface EventStream {
  /** Sends one event; `data` is JSON-encoded. Does nothing once closed. */
  send(event: string, data: unknown): void;
  close(): void;
  readonly closed: boolean;
}

export interface EventStreamOptions {
  /** Comment lines keep idle connections open through proxies (default 20 s). */
  heartbeatMs?: number;
  /** How long the browser waits before reconnecting (default 3 s). */
  retryMs?: number;
  onClose?: () => void;
}

/**
 * The streams open on each server, by its listener (the one object every plugin's `request.server`
 * shares). A stream never ends by itself: unless the stop ends them, it waits its whole timeout
 * (start.ts: as long as Docker waits before SIGKILL) whenever a guest waits or a page is open.
 */
const openStreams = new WeakMap<Listener, Set<EventStream>>();

/** Makes the server's stop end every open event stream first (browsers reconnect to the next process). */
export function registerEventStreams(server: Server): void {
  const streams = new Set<EventStream>();
  openStreams.set(server.listener, streams);
  server.ext('onPreStop', () => {
    for (const stream of streams) stream.close();
  });
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
    open?.delete(stream);
    clearInterval(heartbeat);
    unfollow();
    body.end();
    options.onClose?.();
  };
  // The response closes when the browser goes away (tab closed, network lost) or the server stops.
  request.raw.res.once('close', close);
  unfollow = followStaff(request, close);

  body.write(`retry: ${options.retryMs ?? 3000}\n\n`);
  const stream: EventStream = {
    send(event, data) {
      if (closed) return;
      // One data line: JSON has no raw newlines, and event names are ours.
      body.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close,
    get closed() {
      return closed;
    },
  };
  open?.add(stream);
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
 * changed elsewhere, the account disabled) or the rights changed, the session is checked again, as
 * the next page would check it; a stream it no longer allows, or allows with other rights, ends.
 * The browser opens it again: allowed, with the rights the person has now, or not at all.
 */
function followStaff(request: Request, close: () => void): () => void {
  const staff = request.auth.credentials?.user;
  const strategy = request.auth.strategy;
  if (!staff || !strategy) return () => undefined;
  const bus: EventBus = request.server.app.bus;
  const check = async ({ staffId }: { staffId?: string }) => {
    if (staffId !== staff.id) return;
    const now = await request.server.auth.test(strategy, request).catch(() => undefined);
    const user = now?.credentials.user;
    if (!user || user.role !== staff.role || user.unitId !== staff.unitId) close();
  };
  const offs = [bus.follow('staff.logout', check), bus.follow('staff.changed', check)];
  return () => offs.forEach((off) => off());
}

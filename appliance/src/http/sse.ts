// Server-Sent Events for live pages (the calendar, the meeting page, later the guest's waiting
// room): a text/event-stream response that sends named events, a comment heartbeat so proxies
// and browsers keep the connection, and cleans up when the browser goes away.
import type { Server as Listener } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Request, ResponseObject, ResponseToolkit, Server } from '@hapi/hapi';

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
  const heartbeat = setInterval(() => body.write(': heartbeat\n\n'), options.heartbeatMs ?? 20_000);
  heartbeat.unref();

  const open = openStreams.get(request.server.listener);
  const close = () => {
    if (closed) return;
    closed = true;
    open?.delete(stream);
    clearInterval(heartbeat);
    body.end();
    options.onClose?.();
  };
  // The response closes when the browser goes away (tab closed, network lost) or the server stops.
  request.raw.res.once('close', close);

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

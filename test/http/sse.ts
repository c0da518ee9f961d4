// The SSE helper: events as the browser's EventSource reads them, heartbeats on an idle stream,
// and the clean-up when the browser goes away.
import test from 'ava';
import Hapi from '@hapi/hapi';
import { openEventStream, type EventStream } from '../../appliance/src/http/sse.ts';

test('events arrive as named JSON lines, comments keep the stream alive, and closing the browser cleans up', async (t) => {
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  let stream: EventStream | undefined;
  let closed: () => void = () => undefined;
  const wasClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  server.route({
    method: 'GET',
    path: '/events',
    handler(request, h) {
      const opened = openEventStream(request, h, { heartbeatMs: 30, retryMs: 1000, onClose: () => closed() });
      stream = opened.stream;
      return opened.response;
    },
  });
  await server.start();
  try {
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${server.info.port}/events`, {
      signal: controller.signal,
      headers: { 'accept-encoding': 'gzip' },
    });
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    t.is(res.headers.get('cache-control'), 'no-store, no-transform', 'live meeting status: never kept by a cache');
    t.not(res.headers.get('content-encoding'), 'gzip', 'never compressed: events would wait in a buffer');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(received)) received += decoder.decode((await reader.read()).value);
    };
    await until(/^retry: 1000\n\n/);
    stream!.send('meeting', { type: 'participant.status', status: 'joined', note: 'två\nrader' });
    await until(/event: meeting\ndata: .*\n\n/);
    t.true(
      received.includes(
        'event: meeting\ndata: {"type":"participant.status","status":"joined","note":"två\\nrader"}\n\n',
      ),
    );
    await until(/: heartbeat\n\n/);
    controller.abort();
    await wasClosed;
    t.true(stream!.closed);
    stream!.send('meeting', { after: 'close' }); // a late event after the browser left does nothing
    t.pass();
  } finally {
    await server.stop();
  }
});

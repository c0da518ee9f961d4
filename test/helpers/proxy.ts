// A small round-robin HTTP proxy, as hospital IT puts nginx or a load balancer in front of two or
// more appliance processes: every request may reach another process. Like such a proxy it adds the
// client's address to X-Forwarded-For (believed by the appliance only from TRUSTED_PROXIES).
// Used by the tests of several processes (test/db/processes.ts) and the scale benchmark
// (bench/scale.ts, in a process of its own).
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Round robin over `ports()` (asked each time): a process that refuses the connection is skipped. */
export async function roundRobin(ports: () => number[]): Promise<Proxy> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
      const headers = { ...req.headers, 'x-forwarded-for': forwarded };
      const tryPort = (left: number) => {
        const live = ports();
        const port = live[next++ % live.length];
        const upstream = httpRequest(
          { host: '127.0.0.1', port, method: req.method, path: req.url, headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => (left > 0 ? tryPort(left - 1) : res.writeHead(502).end()));
        upstream.end(Buffer.concat(body));
      };
      tryPort(ports().length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

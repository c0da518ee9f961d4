// The baseline process of every benchmark: hapi with one empty route, nothing else. Plain
// JavaScript started by node, like the built appliance, so that start times compare.
//   GET /            → empty 200
//   GET /health/ready → empty 200 (what the harness polls for "started")
import Hapi from '@hapi/hapi';

// 200 with an empty body (hapi's default for an empty body is 204, which a browser does not show).
const server = Hapi.server({
  host: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  routes: { response: { emptyStatusCode: 200 } },
});
server.route({ method: 'GET', path: '/', handler: () => '' });
server.route({ method: 'GET', path: '/health/ready', handler: () => '' });
await server.start();
process.once('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});

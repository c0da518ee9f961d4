// The baseline process of every benchmark: hapi with one empty route, nothing else. Plain
// JavaScript started by node, like the built appliance, so that start times compare.
//   GET /            → empty 200
//   GET /health/ready → empty 200 (what the harness polls for "started")
import Hapi from '@hapi/hapi';

const server = Hapi.server({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
server.route({ method: 'GET', path: '/', handler: () => '' });
server.route({ method: 'GET', path: '/health/ready', handler: () => '' });
await server.start();
process.once('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});

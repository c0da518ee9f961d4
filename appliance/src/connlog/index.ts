// The connlog plugin: one timeline per meeting and participant for support, gathered from the
// other domains' events and the meeting page's client events; and the retention schedule.
import type { Plugin } from '@hapi/hapi';
import { clientEventRoute } from './client-events.ts';
import { Recorder } from './recorder.ts';
import { RetentionSchedule } from './retention.ts';
import { routes } from './routes.ts';

export const plugin: Plugin<void> = {
  name: 'connlog',
  dependencies: ['db', 'audit', 'staff', 'meetings', 'invites', 'techtest', 'entry'],
  register(server) {
    const { db, bus, config } = server.app;
    const recorder = new Recorder(db);
    recorder.subscribe(bus);
    const retention = new RetentionSchedule(db, config.retention, (level, message) => server.log([level, 'retention'], message));
    // Periodic and due once: in the leading process (db/leader.ts).
    server.app.leader.run('connection log retention', () => {
      retention.start();
      return () => retention.stop();
    });
    server.route(clientEventRoute(recorder));
    server.route(routes());
  },
};

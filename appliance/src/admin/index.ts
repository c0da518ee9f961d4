// The admin plugin: what hospital IT needs to run Samverka without a developer at hand — the audit
// log and patients' log extracts, staff and care units, system status, privacy requests.
import type { Plugin } from '@hapi/hapi';
import { auditRoutes } from './audit-pages.ts';
import { homeRoutes } from './home.ts';
import { staffRoutes } from './staff-pages.ts';
import { privacyRoutes } from './privacy.ts';
import { schedulePurge } from './retention.ts';
import { statusRoutes } from './status.ts';

export const plugin: Plugin<void> = {
  name: 'admin',
  dependencies: ['db', 'audit', 'staff', 'meetings', 'invites'],
  register(server) {
    server.route(homeRoutes);
    server.route(auditRoutes);
    server.route(staffRoutes);
    server.route(statusRoutes);
    server.route(privacyRoutes);
    // Audit records older than the retention period go once a day; younger ones never. Periodic
    // and due once: in the leading process (db/leader.ts).
    server.app.leader.run('retention', () => schedulePurge(server.app.db, (message) => server.log(['info', 'audit'], message)));
  },
};

// The admin plugin: what hospital IT needs to run Samverka without a developer at hand — the audit
// log and patients' log extracts, staff and care units, system status, privacy requests.
import type { Plugin } from '@hapi/hapi';
import { auditRoutes } from './audit-pages.ts';
import { homeRoutes } from './home.ts';
import { staffRoutes } from './staff-pages.ts';
import { privacyRoutes } from './privacy.ts';
import { scheduleRetention } from './retention.ts';
import { statusRoutes } from './status.ts';

export const plugin: Plugin<void> = {
  name: 'admin',
  dependencies: ['db', 'audit', 'staff', 'meetings', 'techtest', 'invites', 'connlog', 'evaluation', 'rooms'],
  register(server) {
    server.route(homeRoutes);
    server.route(auditRoutes);
    server.route(staffRoutes);
    server.route(statusRoutes);
    server.route(privacyRoutes);
    // Data past its retention period goes once a day, each kind purged by the domain that owns it.
    // Periodic and due once: in the leading process (db/leader.ts).
    server.app.leader.run('retention', () =>
      scheduleRetention(server.app.db, server.app.config.retention, (level, message) =>
        server.log([level, 'retention'], message),
      ),
    );
  },
};

// The public API: what other parts may use of this one (ARCHITECTURE.md).
export { purge, purgeAuditLog, scheduleRetention, type PurgeCounts } from './retention.ts';

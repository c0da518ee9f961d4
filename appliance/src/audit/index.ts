// The audit plugin gives every route one helper: `await request.audit(action, target)`.
// Every route that touches meeting or participant data calls it before answering.
import type { Plugin, Request } from '@hapi/hapi';
import { insertAudit, type AuditTarget } from './store.ts';

/** Who acted: a staff member (audit sits below staff, so it names only what it records). */
export interface Actor {
  id: string;
  role: string;
  unitId: string;
}

declare module '@hapi/hapi' {
  interface Request {
    /** Records an access; the actor is the authenticated staff member, or `actor` (e.g. at login). */
    audit(action: string, target?: AuditTarget, actor?: Actor): Promise<void>;
  }
}

export const plugin: Plugin<void> = {
  name: 'audit',
  dependencies: ['db'],
  register(server) {
    server.decorate('request', 'audit', function (this: Request, action: string, target: AuditTarget = {}, actor?: Actor) {
      const staff = actor ?? (this.auth.isAuthenticated ? this.auth.credentials.user : undefined);
      return insertAudit(server.app.db, {
        ...target,
        action,
        staffId: staff?.id,
        staffRole: staff?.role,
        unitId: staff?.unitId,
        ip: this.clientAddress,
      });
    });
  },
};

// The public API: what other domains may use of this one (ARCHITECTURE.md).
export { findAccesses, findAudit, insertAudit, type AuditRecord } from './store.ts';
export { auditRetentionYears, purgeAudit, retentionCutoff } from './retention.ts';

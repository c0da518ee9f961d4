// The audit plugin gives every route one helper: `await request.audit(action, target)`.
// Every route that touches meeting or participant data calls it before answering. A read's record
// is group-committed with other requests' (db/group-commit.ts): the request answers once it is
// durable. A change records its access inside its own transaction (`request.auditIn(trx, …)`), so
// the change and its record commit together (ARCHITECTURE.md, the data path).
import type { Plugin, Request } from '@hapi/hapi';
import type { Knex } from 'knex';
import type { AuditAction } from './actions.ts';
import { isPageViewToken, pageViewHeader, pageViewToken } from './page-views.ts';
import { insertAudit, type AuditEntry, type AuditTarget } from './store.ts';

/** Who acted: a staff member (audit sits below staff, so it names only what it records). */
export interface Actor {
  id: string;
  role: string;
  unitId: string;
}

declare module '@hapi/hapi' {
  interface Request {
    /** Records an access; the actor is the authenticated staff member, or `actor` (e.g. at login). */
    audit(action: AuditAction, target?: AuditTarget, actor?: Actor): Promise<void>;
    /** Records an access inside the caller's transaction: the change it is part of commits it. */
    auditIn(trx: Knex.Transaction, action: AuditAction, target?: AuditTarget, actor?: Actor): Promise<void>;
    /**
     * Records a staff member's view of a meeting's page once per view: the page's own live updates,
     * which present the returned token, are not recorded again (page-views.ts). Returns the token
     * for the page to send with them (undefined outside a login session: every request is recorded).
     */
    auditPageView(action: AuditAction, target: AuditTarget & { meetingId: string }): Promise<string | undefined>;
  }
}

export const plugin: Plugin<void> = {
  name: 'audit',
  dependencies: ['db'],
  register(server) {
    const entryOf = (request: Request, action: AuditAction, target: AuditTarget, actor?: Actor): AuditEntry => {
      const staff = actor ?? (request.auth.isAuthenticated ? request.auth.credentials.user : undefined);
      return {
        ...target,
        action,
        staffId: staff?.id,
        staffRole: staff?.role,
        unitId: staff?.unitId,
        ip: request.clientAddress,
      };
    };
    server.decorate(
      'request',
      'audit',
      function (this: Request, action: AuditAction, target: AuditTarget = {}, actor?: Actor) {
        // The time is taken now, when the access happened, not when the batch commits.
        const entry = entryOf(this, action, target, actor);
        const at = new Date();
        return server.app.groupCommit.write((trx) => insertAudit(trx, entry, at));
      },
    );
    server.decorate(
      'request',
      'auditIn',
      function (this: Request, trx: Knex.Transaction, action: AuditAction, target: AuditTarget = {}, actor?: Actor) {
        return insertAudit(trx, entryOf(this, action, target, actor));
      },
    );
    server.decorate(
      'request',
      'auditPageView',
      async function (this: Request, action: AuditAction, target: AuditTarget & { meetingId: string }) {
        // Bound to the session's key, which a password change that renames the session keeps.
        const sessionKey = this.auth.isAuthenticated ? this.auth.credentials.sessionKey : undefined;
        const secret = server.app.config.sessionSecret;
        if (sessionKey && isPageViewToken(secret, sessionKey, target.meetingId, this.headers[pageViewHeader]))
          return this.headers[pageViewHeader] as string;
        await this.audit(action, target);
        return sessionKey ? pageViewToken(secret, sessionKey, target.meetingId) : undefined;
      },
    );
  },
};

// The public API: what other domains may use of this one (ARCHITECTURE.md).
export { findAccesses, findAudit, insertAudit, type AuditRecord } from './store.ts';
export { auditActions, type AuditAction } from './actions.ts';
export { pageViewHeader } from './page-views.ts';
export { auditRetentionYears, forgetTypedAddresses, purgeAudit, retentionCutoff } from './retention.ts';

// What every plugin finds on server.app, and what an authenticated staff member looks like.
import type { Config } from './config.ts';
import type { GroupCommit } from './db/group-commit.ts';
import type { Db } from './db/knex.ts';
import type { Leadership } from './db/leader.ts';
import type { EventBus } from './events.ts';
import type { HealthRegistry } from './common/readiness.ts';
import type { SessionMethod, Staff } from './staff/index.ts';

declare module '@hapi/hapi' {
  interface ServerApplicationState {
    config: Config;
    db: Db;
    /** One shared transaction for the records that follow reads (db/group-commit.ts). */
    groupCommit: GroupCommit;
    bus: EventBus;
    /** Whether this process leads room control and the periodic jobs (one process at a time). */
    leader: Leadership;
    health: HealthRegistry;
  }
  // hapi declares the credentials as an interface to be merged into: the merge has no members of its own.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface UserCredentials extends Staff {}
  interface AuthCredentials {
    /** How this request authenticated: the browser session or an API bearer token. */
    via?: 'session' | 'token';
    sessionId?: string;
    /** How the session began: with a password, or through the identity provider. */
    sessionMethod?: SessionMethod;
    /**
     * What the session's own things are bound to (its technical test, its pages' view tokens): the
     * same for the whole session, also after a password change gives it a new id (sessionId).
     */
    sessionKey?: string;
    /** Why the session could not be checked (the database away, or any failure): staff/auth.ts. */
    uncheckedSession?: Error;
  }
}

export {};

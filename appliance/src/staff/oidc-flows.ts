// SQL for logins through the identity provider. A flow in progress is found by
// the hash of its state, belongs to the browser whose flow cookie hashes to its binding, and is
// deleted the moment it is used: a state (and so a code) works once, in one browser, for 10 minutes.
import type { Db } from '../db/knex.ts';
import { iso, toDate, type DbTimestamp } from '../db/values.ts';

export type FlowPurpose = 'staff' | 'entry';

export interface Flow {
  stateHash: string;
  binding: string;
  purpose: FlowPurpose;
  nonce: string;
  codeVerifier: string;
  nextPath: string | null;
  participantId: string | null;
  /** Which of the participant's persons is identifying (entry's LinkPerson): the patient or the proxy. */
  person: 'main' | 'proxy' | null;
  expiresAt: Date;
}

export const flowMinutes = 10;

/** A row of oidc_flows (migration 0009), as either driver returns it (db/values.ts). */
interface FlowRow {
  /** sha256 of the state sent to the provider. */
  id: string;
  binding: string;
  purpose: FlowPurpose;
  nonce: string;
  code_verifier: string;
  next_path: string | null;
  participant_id: string | null;
  person: 'main' | 'proxy' | null;
  created_at: DbTimestamp;
  expires_at: DbTimestamp;
}

const flows = (db: Db) => db<FlowRow>('oidc_flows');

export async function insertFlow(db: Db, flow: Omit<Flow, 'expiresAt'>, now = new Date()): Promise<void> {
  await flows(db).where('expires_at', '<=', iso(now)).delete();
  await flows(db).insert({
    id: flow.stateHash,
    binding: flow.binding,
    purpose: flow.purpose,
    nonce: flow.nonce,
    code_verifier: flow.codeVerifier,
    next_path: flow.nextPath,
    participant_id: flow.participantId,
    person: flow.person,
    created_at: iso(now),
    expires_at: iso(new Date(now.getTime() + flowMinutes * 60_000)),
  });
}

/** Takes the flow out of the table: whoever deletes the row is the only one who may use it. */
export async function takeFlow(db: Db, stateHash: string): Promise<Flow | undefined> {
  const row = await flows(db).where({ id: stateHash }).first();
  if (!row) return undefined;
  const deleted = await flows(db).where({ id: stateHash }).delete();
  if (deleted !== 1) return undefined;
  return {
    stateHash: row.id,
    binding: row.binding,
    purpose: row.purpose,
    nonce: row.nonce,
    codeVerifier: row.code_verifier,
    nextPath: row.next_path ?? null,
    participantId: row.participant_id ?? null,
    person: row.person ?? null,
    expiresAt: toDate(row.expires_at),
  };
}

/** The columns of staff_sessions (store.ts) that say how a session began. */
interface SessionOriginRow {
  id: string;
  method: string;
  id_token_sealed: string | null;
}

/**
 * How a session was started ('password' or 'oidc') and, after an IdP login, the sealed ID token:
 * logout ends the provider's session only after an IdP login, and names it with the token.
 */
export async function sessionOrigin(
  db: Db,
  sessionHash: string,
): Promise<{ method: string; idTokenSealed: string | null } | undefined> {
  const row = await db<SessionOriginRow>('staff_sessions')
    .where({ id: sessionHash })
    .first('method', 'id_token_sealed');
  return row ? { method: row.method, idTokenSealed: row.id_token_sealed ?? null } : undefined;
}

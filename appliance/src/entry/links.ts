// One-time links (PUBLIC_URL/j/<token>): 144 bits from the CSPRNG, stored only as a hash, valid
// until the meeting ends plus a grace period, revoked when the participant is removed, the meeting
// is cancelled or the invitation is re-sent.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex.ts';
import { iso, toDate, type DbTimestamp } from '../db/values.ts';
import { randomToken, sha256 } from '../crypto.ts';
import { joinState, stateColumns, stateOrFresh, type EntryState, type JoinedState, type LinkPerson } from './store.ts';

export type { LinkPerson } from './store.ts';

/** A participant who lost the connection must get back in: links outlive the meeting's end a while. */
export const linkGraceMinutes = 120;

/**
 * When a link (and the guest session it gives) ends: two hours after the meeting, or when its room
 * closes if that is later (ROOM_GRACE_MINUTES, up to 8 hours): while the room is open, whoever
 * dropped out of an overrunning meeting gets back in.
 */
export const linkExpiry = (meetingEnd: Date, roomGraceMinutes: number): Date =>
  new Date(meetingEnd.getTime() + Math.max(linkGraceMinutes, roomGraceMinutes) * 60_000);

export const linkPath = (token: string): string => `/j/${token}`;

/** A row of participant_links (migration 0005), as either driver returns it (db/values.ts). */
interface LinkRow {
  id: string;
  participant_id: string;
  person: LinkPerson;
  token_hash: string;
  created_at: DbTimestamp;
  expires_at: DbTimestamp;
  revoked_at: DbTimestamp | null;
}

const links = (db: Db) => db<LinkRow>('participant_links');

/** Issues a new token for a person (others stay valid) and returns it; only its hash is kept. */
export async function issueLink(
  trx: Db,
  link: { participantId: string; person: LinkPerson; expiresAt: Date },
  now = new Date(),
): Promise<string> {
  const token = randomToken(18);
  await links(trx).insert({
    id: randomUUID(),
    participant_id: link.participantId,
    person: link.person,
    token_hash: sha256(token),
    created_at: iso(now),
    expires_at: iso(link.expiresAt),
  });
  return token;
}

/** Revokes a participant's links: all of them, or those of `persons` (the proxy's alone, say). */
export async function revokeLinks(
  trx: Db,
  participantId: string,
  persons?: LinkPerson[],
  now = new Date(),
): Promise<number> {
  const q = links(trx).where({ participant_id: participantId }).whereNull('revoked_at');
  if (persons) q.whereIn('person', persons);
  return q.update({ revoked_at: iso(now) });
}

/** A rescheduled meeting moves its links' expiry with it. */
export async function moveLinkExpiry(trx: Db, participantIds: string[], expiresAt: Date): Promise<void> {
  if (participantIds.length === 0) return;
  await links(trx)
    .whereIn('participant_id', participantIds)
    .whereNull('revoked_at')
    .update({ expires_at: iso(expiresAt) });
}

export interface LinkRecord {
  id: string;
  participantId: string;
  person: LinkPerson;
  expiresAt: Date;
  revoked: boolean;
}

/** The link with this token, and its person's entry state, in one statement. */
export async function findLink(db: Db, token: string): Promise<(LinkRecord & { state: EntryState }) | undefined> {
  const row = await db('participant_links as l')
    .leftJoin('entry_persons as e', joinState('l'))
    .where('l.token_hash', sha256(token))
    .first<(LinkRow & JoinedState) | undefined>([
      'l.id',
      'l.participant_id',
      'l.person',
      'l.expires_at',
      'l.revoked_at',
      ...stateColumns,
    ]);
  if (!row) return undefined;
  return {
    id: row.id,
    participantId: row.participant_id,
    person: row.person,
    expiresAt: toDate(row.expires_at),
    revoked: row.revoked_at != null,
    state: stateOrFresh(row, row.participant_id, row.person),
  };
}

// The outbox store: enqueueing inside the caller's transaction, claiming rows for sending (safe
// with several processes on PostgreSQL), and recording what happened to each message.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { decrypt, encrypt } from '../crypto.ts';
import { isSqlite, type Db } from '../db/knex.ts';
import { iso, toDate } from '../db/values.ts';
import type { Language } from '../common/language.ts';

export const channels = ['email', 'sms'] as const;
export type Channel = (typeof channels)[number];

export const messageKinds = [
  'invitation',
  'reminder',
  'rescheduled',
  'cancelled',
  'sms_code',
  'nudge',
  'evaluation_request',
] as const;
export type MessageKind = (typeof messageKinds)[number];

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed';

export interface NewMessage {
  channel: Channel;
  kind: MessageKind;
  recipient: string;
  language: Language;
  meetingId?: string | null;
  participantId?: string | null;
  /** What the template needs; never a secret. */
  data: Record<string, unknown>;
  /** A one-time link token or SMS code: sealed at rest, wiped once the message is final. */
  secret?: string;
  priority?: number;
  /** Makes enqueueing idempotent, e.g. `reminder:24h:<participant>`. */
  dedupeKey?: string;
  fallbackOf?: string;
  notBefore?: Date;
}

export interface OutboxMessage {
  id: string;
  channel: Channel;
  kind: MessageKind;
  recipient: string;
  language: Language;
  meetingId: string | null;
  participantId: string | null;
  data: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  providerIds: string[];
  providerReply: string | null;
  lastError: string | null;
  fallbackOf: string | null;
  createdAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  failedAt: Date | null;
}

/** A claimed message, with its secret opened for rendering. */
export interface ClaimedMessage extends OutboxMessage {
  secret: string | null;
}

type Row = Record<string, any>;

const sealContext = (id: string) => `outbox:${id}`;

function toMessage(r: Row, providerIds: string[] = []): OutboxMessage {
  return {
    id: r.id,
    channel: r.channel,
    kind: r.kind,
    recipient: r.recipient,
    language: r.language,
    meetingId: r.meeting_id ?? null,
    participantId: r.participant_id ?? null,
    data: JSON.parse(r.data),
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: toDate(r.next_attempt_at),
    providerIds,
    providerReply: r.provider_reply ?? null,
    lastError: r.last_error ?? null,
    fallbackOf: r.fallback_of ?? null,
    createdAt: toDate(r.created_at),
    sentAt: toDate(r.sent_at, true),
    deliveredAt: toDate(r.delivered_at, true),
    failedAt: toDate(r.failed_at, true),
  };
}

/**
 * Writes a message in the caller's transaction, so that it exists exactly when the change that
 * causes it commits. With a dedupe key already used, nothing is written and undefined returned.
 */
export async function enqueue(
  trx: Db | Knex.Transaction,
  dataKey: Buffer,
  message: NewMessage,
  now = new Date(),
): Promise<string | undefined> {
  const id = randomUUID();
  const row = {
    id,
    channel: message.channel,
    kind: message.kind,
    priority: message.priority ?? 0,
    meeting_id: message.meetingId ?? null,
    participant_id: message.participantId ?? null,
    recipient: message.recipient,
    language: message.language,
    data: JSON.stringify(message.data),
    secret_sealed: message.secret ? encrypt(dataKey, message.secret, sealContext(id)) : null,
    status: 'queued',
    next_attempt_at: iso(message.notBefore ?? now),
    fallback_of: message.fallbackOf ?? null,
    dedupe_key: message.dedupeKey ?? null,
    created_at: iso(now),
  };
  if (message.dedupeKey) {
    const inserted = await trx('outbox_messages').insert(row).onConflict('dedupe_key').ignore().returning('id');
    return inserted.length > 0 ? id : undefined;
  }
  await trx('outbox_messages').insert(row);
  return id;
}

export async function dedupeTaken(trx: Db | Knex.Transaction, key: string): Promise<boolean> {
  return (await trx('outbox_messages').where({ dedupe_key: key }).first('id')) !== undefined;
}

/**
 * Claims up to `limit` messages that are due, or whose sender died mid-send (lease expired), and
 * marks them sending under a new lease — in one statement, so that two processes can never take
 * the same row: PostgreSQL skips rows another process is claiming (FOR UPDATE SKIP LOCKED), and
 * SQLite takes its write lock before reading (so a second process waits for the busy timeout
 * instead of failing).
 */
export async function claim(
  db: Db,
  dataKey: Buffer,
  options: { limit: number; leaseMs: number; now?: Date },
): Promise<ClaimedMessage[]> {
  const now = options.now ?? new Date();
  const due = db('outbox_messages')
    .select('id')
    .where((w) => w.where('status', 'queued').andWhere('next_attempt_at', '<=', iso(now)))
    .orWhere((w) => w.where('status', 'sending').andWhere('claimed_until', '<', iso(now)))
    .orderBy([
      { column: 'priority', order: 'desc' },
      { column: 'next_attempt_at', order: 'asc' },
    ])
    .limit(options.limit);
  if (!isSqlite(db)) due.forUpdate().skipLocked();
  const rows: Row[] = await db('outbox_messages')
    .whereIn('id', due)
    .update({
      status: 'sending',
      claimed_until: iso(new Date(now.getTime() + options.leaseMs)),
      attempts: db.raw('attempts + 1'),
    })
    .returning('*');
  // RETURNING keeps no order: the most urgent first, as they were chosen.
  rows.sort(
    (a, b) =>
      Number(b.priority) - Number(a.priority) ||
      toDate(a.next_attempt_at).getTime() - toDate(b.next_attempt_at).getTime(),
  );
  return rows.map((r) => ({
    ...toMessage(r),
    secret: r.secret_sealed ? decrypt(dataKey, r.secret_sealed, sealContext(r.id)) : null,
  }));
}

/** Rows a dead process left "sending" are due again at once (SQLite: only one process sends). */
export async function releaseAllClaims(db: Db): Promise<number> {
  return db('outbox_messages').where('status', 'sending').update({ status: 'queued', claimed_until: null });
}

export async function markSent(
  db: Db,
  id: string,
  result: { providerIds: string[]; reply?: string },
  now = new Date(),
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('outbox_messages')
      .where({ id, status: 'sending' })
      .update({
        status: 'sent',
        sent_at: iso(now),
        claimed_until: null,
        provider_reply: result.reply ?? null,
        last_error: null,
        secret_sealed: null,
      });
    if (result.providerIds.length > 0) {
      await trx('outbox_provider_ids')
        .insert(result.providerIds.map((providerId) => ({ provider_id: providerId, message_id: id })))
        .onConflict('provider_id')
        .merge();
    }
  });
}

export async function markRetry(db: Db, id: string, error: string, nextAttemptAt: Date): Promise<void> {
  await db('outbox_messages')
    .where({ id, status: 'sending' })
    .update({ status: 'queued', claimed_until: null, last_error: error, next_attempt_at: iso(nextAttemptAt) });
}

export async function markFailed(db: Db, id: string, reason: string, now = new Date()): Promise<void> {
  await db('outbox_messages')
    .where({ id })
    .whereIn('status', ['queued', 'sending', 'sent'])
    .update({ status: 'failed', claimed_until: null, last_error: reason, failed_at: iso(now), secret_sealed: null });
}

/**
 * Records a receipt for one provider id. A message is delivered when every part is; it failed when
 * any part did. Returns 'unknown' when no sent message has that id (yet), the message when its
 * status changed, and undefined otherwise.
 */
export async function recordReceipt(
  db: Db,
  providerId: string,
  receipt: 'delivered' | 'failed',
  reason: string | null,
  now = new Date(),
): Promise<OutboxMessage | 'unknown' | undefined> {
  return db.transaction(async (trx) => {
    const link = await trx('outbox_provider_ids').where({ provider_id: providerId }).first();
    if (!link) return 'unknown';
    // The parts' receipts arrive together. On PostgreSQL two of them, each reading the other's part
    // as not yet delivered, would both leave the message "sent" for ever: the message row is locked
    // first, so they take turns. (SQLite runs one writer at a time.)
    const locked = trx('outbox_messages').where({ id: link.message_id }).first('id');
    if (!isSqlite(db)) locked.forUpdate();
    await locked;
    await trx('outbox_provider_ids').where({ provider_id: providerId }).update({ receipt });
    const parts = await trx('outbox_provider_ids').where({ message_id: link.message_id });
    const message = await trx('outbox_messages').where({ id: link.message_id }).first();
    if (!message || message.status !== 'sent') return undefined;
    if (receipt === 'failed') {
      await trx('outbox_messages')
        .where({ id: message.id })
        .update({ status: 'failed', failed_at: iso(now), last_error: reason });
    } else if (parts.every((p: Row) => p.receipt === 'delivered')) {
      await trx('outbox_messages')
        .where({ id: message.id })
        .update({ status: 'delivered', delivered_at: iso(now) });
    } else {
      return undefined;
    }
    return toMessage(
      await trx('outbox_messages').where({ id: message.id }).first(),
      parts.map((p: Row) => p.provider_id),
    );
  });
}

export async function findMessage(db: Db, id: string): Promise<OutboxMessage | undefined> {
  const row = await db('outbox_messages').where({ id }).first();
  if (!row) return undefined;
  const ids = await db('outbox_provider_ids').where({ message_id: id }).pluck('provider_id');
  return toMessage(row, ids);
}

export async function messagesOf(
  db: Db,
  where: { meetingId?: string; participantId?: string },
): Promise<OutboxMessage[]> {
  const q = db('outbox_messages').orderBy('created_at', 'asc');
  if (where.meetingId) q.where('meeting_id', where.meetingId);
  if (where.participantId) q.where('participant_id', where.participantId);
  return (await q).map((r: Row) => toMessage(r));
}

export async function recentMessages(db: Db, limit = 200): Promise<OutboxMessage[]> {
  return (await db('outbox_messages').orderBy('created_at', 'desc').limit(limit)).map((r: Row) => toMessage(r));
}

export interface QueueStats {
  queued: number;
  retrying: number;
  sending: number;
  failedLastDay: number;
}

export async function queueStats(db: Db, now = new Date()): Promise<QueueStats> {
  const count = async (q: Knex.QueryBuilder) => Number((await q.count({ n: '*' }))[0].n);
  return {
    queued: await count(db('outbox_messages').where({ status: 'queued', attempts: 0 })),
    retrying: await count(db('outbox_messages').where('status', 'queued').andWhere('attempts', '>', 0)),
    sending: await count(db('outbox_messages').where({ status: 'sending' })),
    failedLastDay: await count(
      db('outbox_messages')
        .where('status', 'failed')
        .andWhere('failed_at', '>=', iso(new Date(now.getTime() - 86_400_000))),
    ),
  };
}

/**
 * Retention: the addresses and the template data (names, times) of these meetings' messages go
 * with the participants' contact data. The rows stay, so the record of what was sent when stays.
 */
export async function eraseMessageContacts(db: Db, meetingIds: string[]): Promise<number> {
  let erased = 0;
  for (let i = 0; i < meetingIds.length; i += 500) {
    erased += await db('outbox_messages')
      .whereIn('meeting_id', meetingIds.slice(i, i + 500))
      .whereIn('status', ['sent', 'delivered', 'failed'])
      .whereNot('recipient', '')
      .update({ recipient: '', data: '{}', secret_sealed: null });
  }
  return erased;
}

/**
 * A privacy request: messages not yet sent to the participant go nowhere now; sent ones keep their
 * record without the address and data, as retention leaves them.
 */
export async function eraseParticipantMessages(db: Db, participantId: string, now = new Date()): Promise<void> {
  await db('outbox_messages')
    .where({ participant_id: participantId })
    .whereIn('status', ['queued', 'sending'])
    .update({ status: 'failed', failed_at: iso(now), last_error: 'contact data erased on request' });
  await db('outbox_messages')
    .where({ participant_id: participantId })
    .update({ recipient: '', data: '{}', secret_sealed: null });
}

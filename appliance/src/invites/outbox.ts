// The outbox store: enqueueing inside the caller's transaction, claiming rows for sending (safe
// with several processes on PostgreSQL), and recording what happened to each message.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { decrypt, encrypt } from '../crypto.ts';
import { isSqlite, type Db } from '../db/knex.ts';
import { chunks, iso, toDate } from '../db/values.ts';
import type { Language } from '../common/language.ts';
import { readPartsOnRecord, type PartsOnRecord } from './delivery.ts';

export const channels = ['email', 'sms'] as const;
export type Channel = (typeof channels)[number];

export const messageKinds = [
  'invitation',
  'reminder',
  'rescheduled',
  'cancelled',
  /** To a person taken off a meeting that goes on: they are no longer invited (not that it is off). */
  'removed',
  'sms_code',
  'nudge',
  'evaluation_request',
] as const;
export type MessageKind = (typeof messageKinds)[number];

/** The kinds that tell a person the meeting is off, or off for them: they go whatever follows. */
const newsOfAbsence: MessageKind[] = ['cancelled', 'removed'];

/** The kinds that ask the person to come to the meeting: of no use once it is over or off. */
export const callsToMeeting: ReadonlySet<MessageKind> = new Set(['invitation', 'reminder', 'rescheduled', 'nudge']);

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
  /** Until when the claim holds: after that another process may take the row over. */
  claimedUntil: Date;
  /** The parts of a long SMS an earlier attempt got the gateway to take (migration 0025). */
  smsParts: PartsOnRecord | undefined;
}

/** A timestamp as the drivers return it: an ISO string from SQLite, a Date from PostgreSQL. */
type Stamp = string | Date;

/** A row of outbox_messages (migration 0004). */
interface MessageRow {
  id: string;
  channel: Channel;
  kind: MessageKind;
  priority: number;
  meeting_id: string | null;
  participant_id: string | null;
  recipient: string;
  language: Language;
  /** The template's data, JSON. */
  data: string;
  secret_sealed: string | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Stamp;
  claimed_until: Stamp | null;
  provider_reply: string | null;
  last_error: string | null;
  fallback_of: string | null;
  dedupe_key: string | null;
  created_at: Stamp;
  sent_at: Stamp | null;
  delivered_at: Stamp | null;
  failed_at: Stamp | null;
  /** PartsOnRecord as JSON, between attempts at a long SMS partly sent (migration 0025). */
  sms_parts: string | null;
}

/** A row of outbox_provider_ids: one per SMS part, or the e-mail's Message-ID. */
interface ProviderIdRow {
  provider_id: string;
  message_id: string;
  receipt: Receipt | null;
  /** Why a part failed, as the network said, kept until its message is sent (migration 0026). */
  receipt_reason: string | null;
}

const sealContext = (id: string) => `outbox:${id}`;

function toMessage(r: MessageRow): OutboxMessage {
  return {
    id: r.id,
    channel: r.channel,
    kind: r.kind,
    recipient: r.recipient,
    language: r.language,
    meetingId: r.meeting_id ?? null,
    participantId: r.participant_id ?? null,
    data: JSON.parse(r.data) as Record<string, unknown>,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: toDate(r.next_attempt_at),
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
  const row: MessageRow = {
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
    attempts: 0,
    next_attempt_at: iso(message.notBefore ?? now),
    claimed_until: null,
    provider_reply: null,
    last_error: null,
    fallback_of: message.fallbackOf ?? null,
    dedupe_key: message.dedupeKey ?? null,
    created_at: iso(now),
    sent_at: null,
    delivered_at: null,
    failed_at: null,
    sms_parts: null,
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
 * Claims up to `limit` messages of a channel that are due, or whose sender died mid-send (lease
 * expired), and marks them sending under one new lease. Each kind is taken by one statement (no
 * transaction around them: each is atomic), so that two processes can never take the same row:
 * PostgreSQL skips rows another process is claiming (FOR UPDATE SKIP LOCKED), and SQLite takes its
 * write lock before reading (so a second process waits for the busy timeout instead of failing).
 * The queued rows are read in sending order from the index made for it (migration 0016), so a
 * batch costs the rows it takes, not the backlog.
 */
export async function claim(
  db: Db,
  dataKey: Buffer,
  options: { limit: number; leaseMs: number; channel: Channel; now?: Date },
): Promise<ClaimedMessage[]> {
  const now = options.now ?? new Date();
  const claimedUntil = new Date(now.getTime() + options.leaseMs);
  const take = (due: Knex.QueryBuilder, limit: number): Promise<MessageRow[]> => {
    due
      .select('id')
      .andWhere('channel', options.channel)
      .orderBy([
        { column: 'priority', order: 'desc' },
        { column: 'next_attempt_at', order: 'asc' },
      ])
      .limit(limit);
    if (!isSqlite(db)) due.forUpdate().skipLocked();
    return db('outbox_messages')
      .whereIn('id', due)
      .update({ status: 'sending', claimed_until: iso(claimedUntil), attempts: db.raw('attempts + 1') })
      .returning('*');
  };
  // Rows whose sender died first: they have waited longest. Usually there are none: a read finds
  // that out without a write (on SQLite even an UPDATE that changes nothing is a commit).
  const expired = () =>
    db('outbox_messages')
      .where('status', 'sending')
      .andWhere('channel', options.channel)
      .andWhere('claimed_until', '<', iso(now));
  const rows = (await expired().first('id')) ? await take(expired(), options.limit) : [];
  if (rows.length < options.limit)
    rows.push(
      ...(await take(
        db('outbox_messages').where('status', 'queued').andWhere('next_attempt_at', '<=', iso(now)),
        options.limit - rows.length,
      )),
    );
  // RETURNING keeps no order: the most urgent first, as they were chosen.
  rows.sort(
    (a, b) =>
      Number(b.priority) - Number(a.priority) ||
      toDate(a.next_attempt_at).getTime() - toDate(b.next_attempt_at).getTime(),
  );
  return rows.map((r) => ({
    ...toMessage(r),
    secret: r.secret_sealed ? decrypt(dataKey, r.secret_sealed, sealContext(r.id)) : null,
    claimedUntil,
    smsParts: readPartsOnRecord(r.sms_parts),
  }));
}

/** Rows a dead process left "sending" are due again at once (SQLite: only one process sends). */
export async function releaseAllClaims(db: Db): Promise<number> {
  return db('outbox_messages').where('status', 'sending').update({ status: 'queued', claimed_until: null });
}

/**
 * Gives claimed messages that were never handed to a channel back to the queue, due at once, with
 * the attempt they did not make. Only while the claim is still this one's: a row whose lease ran
 * out may be another process's by now.
 */
export async function releaseClaims(db: Db, messages: ClaimedMessage[]): Promise<number> {
  let released = 0;
  for (const rows of stillClaimed(db, messages))
    released += await rows.update({ status: 'queued', claimed_until: null, attempts: db.raw('attempts - 1') });
  return released;
}

/**
 * These messages' rows while their claim is still the one they were handed out with (still sending,
 * the same lease): a statement for each lease and chunk of ids, to change them by.
 */
function* stillClaimed(db: Db, messages: ClaimedMessage[]): Generator<Knex.QueryBuilder> {
  for (const [until, group] of groupBy(messages, (m) => m.claimedUntil.getTime()))
    for (const ids of chunks(group.map((m) => m.id)))
      yield db('outbox_messages')
        .whereIn('id', ids)
        .andWhere({ status: 'sending' })
        .andWhere('claimed_until', iso(new Date(until)));
}

/**
 * Extends the claims of messages a channel still holds (waiting for its throttle, window or link),
 * so that no other claim takes them over and sends them a second time. Only while each claim is
 * still this one's and the message still sending; returns the ids whose claim now holds until `until`.
 */
export async function renewClaims(db: Db, messages: ClaimedMessage[], until: Date): Promise<Set<string>> {
  const renewed = new Set<string>();
  for (const rows of stillClaimed(db, messages)) {
    const ids: { id: string }[] = await rows.update({ claimed_until: iso(until) }).returning('id');
    for (const { id } of ids) renewed.add(id);
  }
  return renewed;
}

/** What a channel said about a message it took: the ids to match receipts with, and its reply. */
export interface Sent {
  id: string;
  providerIds: string[];
  reply?: string | undefined;
  /**
   * An earlier attempt left parts of this SMS linked to it (PartsOnRecord): those the send did not
   * keep (its text changed, and went whole under a new reference) are unlinked, or the message
   * would wait for their receipts too.
   */
  hadParts?: boolean;
}

export interface Retry {
  id: string;
  error: string;
  nextAttemptAt: Date;
  /** The parts of a long SMS the gateway has taken so far; left as they were when not given. */
  parts?: PartsOnRecord;
}

export interface Failure {
  id: string;
  reason: string;
}

export type Receipt = 'delivered' | 'failed';

export interface ReceiptOf {
  providerId: string;
  receipt: Receipt;
  /** Why it failed, as the network said. */
  reason: string | null;
}

/** A message a batch of receipts moved to delivered or failed. */
export interface ReceiptChange {
  message: OutboxMessage;
  status: Receipt;
  reason?: string;
}

/** What a batch was told and did: the provider ids no sent message has (yet), and the changes. */
export interface ReceiptsRecorded {
  unknown: Set<string>;
  changed: ReceiptChange[];
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Locks messages' rows in one order, by id, before a transaction changes several of them (on
 * PostgreSQL; SQLite runs one writer at a time). Two transactions that take the same rows in
 * different orders (a statement takes them in whatever order it finds them) can each wait for the
 * other, and PostgreSQL then fails one as a deadlock: the dispatcher's batch, a cancellation.
 */
export async function lockMessages(trx: Knex.Transaction, ids: string[]): Promise<void> {
  // Chunks of the sorted ids, in turn: one order across chunks too.
  for (const part of chunks([...new Set(ids)].sort()))
    await lockInOrder(trx, trx('outbox_messages').whereIn('id', part));
}

/** The rows of `messages` (a query of outbox_messages), locked by id: lockMessages' order. */
async function lockInOrder(trx: Knex.Transaction, messages: Knex.QueryBuilder): Promise<void> {
  if (isSqlite(trx)) return;
  await messages.orderBy('id').forUpdate().select('id');
}

/**
 * Records many sends in the caller's transaction: one UPDATE for the rows and one INSERT for their
 * provider ids. The secret goes with the send: it has been used.
 */
export async function recordSends(trx: Knex.Transaction, sends: Sent[], now = new Date()): Promise<void> {
  for (const part of chunks(sends)) {
    const replies = part.filter((s) => s.reply !== undefined);
    await trx('outbox_messages')
      .whereIn(
        'id',
        part.map((s) => s.id),
      )
      .andWhere({ status: 'sending' })
      .update({
        status: 'sent',
        sent_at: iso(now),
        claimed_until: null,
        // Each relay reply is its own ("250 Ok: queued as …"): one CASE, still one statement.
        provider_reply: replies.length === 0 ? null : perRow(trx, replies, (s) => s.reply!),
        last_error: null,
        secret_sealed: null,
        sms_parts: null,
      });
  }
  // An id the gateway gives again (its counter started over) is the new part's alone: the merge
  // clears a receipt an old part of that id was holding, or it would count for the new message. A
  // part an earlier attempt had taken keeps the receipt it already had.
  await linkProviderIds(
    trx,
    sends.flatMap((s) => s.providerIds.map((providerId) => ({ provider_id: providerId, message_id: s.id }))),
  );
  for (const s of sends.filter((sent) => sent.hadParts))
    await trx('outbox_provider_ids').where({ message_id: s.id }).whereNotIn('provider_id', s.providerIds).delete();
}

/**
 * Each row's own value of a column in an UPDATE of many rows: one CASE on the id, so that a batch
 * stays one statement however many rows it has (PostgreSQL is told when the value is a timestamp:
 * a CASE of bare parameters is text there).
 */
function perRow<T extends { id: string }>(
  trx: Db | Knex.Transaction,
  rows: T[],
  value: (row: T) => string | null,
  type?: 'timestamptz',
): Knex.Raw {
  const then = type && !isSqlite(trx) ? `?::${type}` : '?';
  return trx.raw(`case id ${rows.map(() => `when ? then ${then}`).join(' ')} else null end`, [
    ...rows.flatMap((row) => [row.id, value(row)]),
  ]);
}

/**
 * Inserts provider ids for a message; an id already there for the same message keeps the receipt
 * it had (a part taken by an earlier attempt), one that was another message's is this one's alone
 * (the gateway's counter started over) and loses that message's receipt (and its reason).
 */
async function linkProviderIds(trx: Knex.Transaction, links: { provider_id: string; message_id: string }[]) {
  for (const part of chunks(links))
    await trx('outbox_provider_ids')
      .insert(part.map((l) => ({ ...l, receipt: null, receipt_reason: null })))
      .onConflict('provider_id')
      .merge({
        message_id: trx.raw('excluded.message_id'),
        receipt: trx.raw(
          'case when outbox_provider_ids.message_id = excluded.message_id then outbox_provider_ids.receipt else null end',
        ),
        receipt_reason: trx.raw(
          'case when outbox_provider_ids.message_id = excluded.message_id then outbox_provider_ids.receipt_reason else null end',
        ),
      });
}

/**
 * Temporary failures, each due again at its own time: one statement for a batch. The parts of a
 * long SMS the gateway took are linked to the message now, so that their receipts, which may come
 * before the rest is sent (or after a restart), are kept for it.
 */
export async function recordRetries(trx: Knex.Transaction, retries: Retry[]): Promise<void> {
  for (const part of chunks(retries)) {
    await trx('outbox_messages')
      .whereIn(
        'id',
        part.map((r) => r.id),
      )
      .andWhere({ status: 'sending' })
      .update({
        status: 'queued',
        claimed_until: null,
        last_error: perRow(trx, part, (r) => r.error),
        next_attempt_at: perRow(trx, part, (r) => iso(r.nextAttemptAt), 'timestamptz'),
        ...partsOf(trx, part),
      });
  }
  await linkProviderIds(
    trx,
    retries.flatMap((r) =>
      (r.parts?.ids ?? []).flatMap((id) => (id === null ? [] : [{ provider_id: id, message_id: r.id }])),
    ),
  );
}

/**
 * The parts a batch's partly sent SMS have had taken, each row its own (one CASE); a retry that says
 * nothing of parts (a link down before any part went) keeps what its row had.
 */
function partsOf(trx: Knex.Transaction, retries: Retry[]): { sms_parts?: Knex.Raw } {
  const withParts = retries.filter((r) => r.parts !== undefined);
  if (withParts.length === 0) return {};
  return {
    sms_parts: trx.raw(`case id ${withParts.map(() => 'when ? then ?').join(' ')} else sms_parts end`, [
      ...withParts.flatMap((r) => [r.id, JSON.stringify(r.parts)]),
    ]),
  };
}

/**
 * Messages that will not go: refused for good, given up after their attempts, or erased. One
 * statement for a batch, each row with its own reason.
 */
export async function recordFailures(trx: Db | Knex.Transaction, failures: Failure[], now = new Date()): Promise<void> {
  for (const part of chunks(failures)) {
    await trx('outbox_messages')
      .whereIn(
        'id',
        part.map((f) => f.id),
      )
      // Not yet delivered or failed. Said as NOT IN so that SQLite finds the rows by id: an IN of
      // statuses sent it walking every queued, sending and sent message by the status index.
      .whereNotIn('status', ['delivered', 'failed'])
      .update({
        status: 'failed',
        claimed_until: null,
        last_error: perRow(trx, part, (f) => f.reason),
        failed_at: iso(now),
        secret_sealed: null,
        sms_parts: null,
      });
  }
}

/** Provider id → the id of the message it belongs to. */
export type ReceiptLinks = Map<string, string>;

/**
 * The messages these provider ids belong to, as far as sends are on record now: one indexed query
 * (a chunk of ids each). A batch looks them up before it locks anything, to lock these messages
 * with its outcomes' in one id order (lockMessages): locked after them, one set and then the
 * other, the two sets could deadlock with an erasure or withdrawal taking a message of each.
 */
export async function receiptLinks(db: Db | Knex.Transaction, providerIds: string[]): Promise<ReceiptLinks> {
  const links: ReceiptLinks = new Map();
  for (const ids of chunks(providerIds)) {
    const rows: Pick<ProviderIdRow, 'provider_id' | 'message_id'>[] = await db<ProviderIdRow>('outbox_provider_ids')
      .whereIn('provider_id', ids)
      .select('provider_id', 'message_id');
    for (const row of rows) links.set(row.provider_id, row.message_id);
  }
  return links;
}

/**
 * Records a batch of receipts in the caller's transaction. A message is delivered when every part
 * is; it failed when any part did. The provider ids are matched with one indexed query per batch,
 * and the messages still waiting for receipts are read with all their parts by one more; ids no
 * sent message has (yet) come back as unknown and change nothing.
 */
export async function recordReceipts(
  trx: Knex.Transaction,
  receipts: ReceiptOf[],
  now = new Date(),
  /** What `receiptLinks` found of these ids before the batch locked its rows: only the rest is looked up. */
  found: ReceiptLinks = new Map(),
): Promise<ReceiptsRecorded> {
  // A gateway may repeat a receipt: the last word on each id counts.
  const byId = new Map(receipts.map((r) => [r.providerId, r]));
  const links = [...found]
    .filter(([providerId]) => byId.has(providerId))
    .map(([provider_id, message_id]) => ({ provider_id, message_id }));
  for (const [providerId, messageId] of await receiptLinks(
    trx,
    [...byId.keys()].filter((id) => !found.has(id)),
  ))
    links.push({ provider_id: providerId, message_id: messageId });
  const known = new Set(links.map((l) => l.provider_id));
  const unknown = new Set([...byId.keys()].filter((id) => !known.has(id)));
  if (links.length === 0) return { unknown, changed: [] };

  const messageIds = [...new Set(links.map((l) => l.message_id))].sort();
  // The parts' receipts arrive together, maybe in two processes' batches. On PostgreSQL two batches,
  // each reading the other's part as not yet delivered, would both leave the message "sent" for
  // ever: the message rows are locked first, so batches take turns. The batch has locked those
  // `found` with its own already (in one order); what is left are the messages of sends recorded
  // since (its own, locked too, and rarely another process's).
  await lockMessages(trx, messageIds);
  // Each message still waiting for its receipts, once per part, with what each part has had. The
  // status is checked here, not in the statement: with `status = 'sent'` beside the ids SQLite
  // walked every sent message (every e-mail ever sent stays "sent") by the status index instead of
  // finding these few by id (2 ms a batch at 20,000 messages, growing with the table).
  type PartRow = MessageRow & { part_id: string; part_receipt: Receipt | null; part_reason: string | null };
  const parts: PartRow[] = [];
  for (const ids of chunks(messageIds)) {
    const rows: PartRow[] = await trx('outbox_messages as m')
      .join('outbox_provider_ids as p', 'p.message_id', 'm.id')
      .whereIn('m.id', ids)
      .select('m.*', 'p.provider_id as part_id', 'p.receipt as part_receipt', 'p.receipt_reason as part_reason');
    // Also a long SMS partly sent, waiting to send the rest: its parts' receipts are kept for it.
    parts.push(...rows.filter((r) => r.status === 'sent' || r.status === 'queued' || r.status === 'sending'));
  }
  const changed: ReceiptChange[] = [];
  // Parts of messages that stay "sent" keep their receipt for the batch that brings the last one.
  const partial: ReceiptOf[] = [];
  for (const mine of groupBy(parts, (p) => p.id).values()) {
    const row = mine[0]!;
    if (row.status !== 'sent') {
      for (const p of mine) {
        const receipt = byId.get(p.part_id);
        if (receipt) partial.push(receipt);
      }
      continue;
    }
    // A part may have failed before the rest went (its receipt kept while the message waited): the
    // message failed all the same, with what the network said of that part.
    const keptFailure = mine.find((p) => !byId.has(p.part_id) && p.part_receipt === 'failed');
    const failed =
      mine.map((p) => byId.get(p.part_id)).find((r) => r?.receipt === 'failed') ??
      (keptFailure
        ? { receipt: 'failed', reason: keptFailure.part_reason ?? 'a part taken earlier was reported not delivered' }
        : undefined);
    if (failed) {
      changed.push({
        message: { ...toMessage(row), status: 'failed', failedAt: now, lastError: failed.reason },
        status: 'failed',
        ...(failed.reason ? { reason: failed.reason } : {}),
      });
    } else if (mine.every((p) => (byId.get(p.part_id)?.receipt ?? p.part_receipt) === 'delivered')) {
      changed.push({ message: { ...toMessage(row), status: 'delivered', deliveredAt: now }, status: 'delivered' });
    } else {
      for (const p of mine) {
        const receipt = byId.get(p.part_id);
        if (receipt) partial.push(receipt);
      }
    }
  }
  for (const group of groupBy(partial, (r) => `${r.receipt}\n${r.reason ?? ''}`).values()) {
    const { receipt, reason } = group[0]!;
    for (const ids of chunks(group.map((r) => r.providerId)))
      await trx('outbox_provider_ids').whereIn('provider_id', ids).update({ receipt, receipt_reason: reason });
  }
  const delivered = changed.filter((c) => c.status === 'delivered').map((c) => c.message.id);
  for (const ids of chunks(delivered))
    await trx('outbox_messages')
      .whereIn('id', ids)
      .update({ status: 'delivered', delivered_at: iso(now) });
  const failed = changed.filter((c) => c.status === 'failed').map((c) => ({ id: c.message.id, reason: c.reason }));
  for (const part of chunks(failed))
    await trx('outbox_messages')
      .whereIn(
        'id',
        part.map((f) => f.id),
      )
      .update({ status: 'failed', failed_at: iso(now), last_error: perRow(trx, part, (f) => f.reason ?? null) });
  return { unknown, changed };
}

/**
 * Every reason Samverka withdraws a message unsent for, as the outbox records it (`last_error` "not
 * sent: …", in English like a gateway's reply), by the key of its words on the pages
 * (`invites.notSent.<key>`): one table, so that no reason is written without words to say it in.
 */
export const notSentReasons = {
  cancelled: 'the meeting was cancelled',
  moved: 'the meeting was moved before it could go',
  movedBack: 'the meeting was moved back to the time the person was told',
  removed: 'the participant was taken off the meeting',
  contactChanged: 'the contact details were changed',
  over: 'the meeting was over before it could go',
  laterReminder: 'a later reminder was due before it could go',
  codeExpired: 'the code had expired before it could go',
  erased: 'its contact data was erased (retention)',
  answered: 'a later message reached the person',
} as const;
export type NotSentReason = (typeof notSentReasons)[keyof typeof notSentReasons];

/** Why a message to an address corrected since does not go. */
export const contactsChanged = notSentReasons.contactChanged;

/** The reason of a message failed before it was sent because there was no longer anyone to send it to. */
const notSentPrefix = 'not sent: ';
export const notSentBecause = (why: NotSentReason): string => `${notSentPrefix}${why}`;
/** Failed on purpose, never tried to the end (a cancelled meeting, erased contact data): nobody need call. */
export const withdrawn = (message: Pick<OutboxMessage, 'status' | 'lastError'>): boolean =>
  message.status === 'failed' && (message.lastError ?? '').startsWith(notSentPrefix);
/** Why a withdrawn message was not sent ("the meeting was cancelled"), for a page to say in words. */
export const notSentWhy = (message: Pick<OutboxMessage, 'status' | 'lastError'>): string | undefined =>
  withdrawn(message) ? message.lastError!.slice(notSentPrefix.length) : undefined;

/**
 * Messages of a meeting (or of one participant of it) still waiting to go, which nobody should get
 * now: the meeting was cancelled, or the participant taken off it. They fail unsent with `why`, in
 * the change's transaction, so that an invitation or reminder the gateway kept refusing does not
 * arrive after the cancellation. The news itself (the cancellation, "you are no longer invited") is
 * not among them. One being sent at that
 * moment is left to finish: its data says it was withdrawn, so that if it comes back to be retried
 * it fails unsent then (the dispatcher's staleness), as `refreshPending` reaches it with a new time.
 */
export async function withdrawPending(
  trx: Knex.Transaction,
  where: { meetingId: string; participantId?: string; kinds?: MessageKind[]; ids?: string[] },
  why: NotSentReason,
  now = new Date(),
): Promise<number> {
  if (where.ids?.length === 0) return 0;
  // Statuses said as NOT IN: beside a status SQLite would take the status index through every
  // queued message instead of this meeting's own (eraseMessageContacts).
  const pending = (not: OutboxStatus[]) => {
    const q = trx('outbox_messages')
      .where({ meeting_id: where.meetingId })
      .whereNotIn('status', not)
      .whereNotIn('kind', newsOfAbsence);
    if (where.participantId) q.andWhere({ participant_id: where.participantId });
    if (where.kinds) q.whereIn('kind', where.kinds);
    if (where.ids) q.whereIn('id', where.ids);
    return q;
  };
  // The rows both statements below change, locked first in the one order (lockMessages).
  await lockInOrder(trx, pending(['sent', 'delivered', 'failed']));
  const inHand: Pick<MessageRow, 'id' | 'data'>[] = await pending(['queued', 'sent', 'delivered', 'failed']).select(
    'id',
    'data',
  );
  for (const row of inHand)
    await trx('outbox_messages')
      .where({ id: row.id })
      .update({ data: JSON.stringify({ ...(JSON.parse(row.data) as Record<string, unknown>), withdrawn: why }) });
  return pending(['sending', 'sent', 'delivered', 'failed']).update({
    status: 'failed',
    failed_at: iso(now),
    claimed_until: null,
    last_error: notSentBecause(why),
    secret_sealed: null,
    sms_parts: null,
  });
}

/** Whether any SMS is between its claim and its send record, in any process. */
export async function smsSending(db: Db | Knex.Transaction): Promise<boolean> {
  return (await db('outbox_messages').where({ channel: 'sms', status: 'sending' }).first('id')) !== undefined;
}

/** The dedupe keys of the messages of one kind these meetings already have (one statement). */
export async function dedupeKeysOf(db: Db, meetingIds: string[], kind: MessageKind): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const ids of chunks(meetingIds)) {
    const rows = await db<MessageRow>('outbox_messages')
      .whereIn('meeting_id', ids)
      .where({ kind })
      .whereNotNull('dedupe_key')
      .select('dedupe_key');
    for (const r of rows) if (r.dedupe_key) keys.add(r.dedupe_key);
  }
  return keys;
}

/**
 * When each person of these meetings (a participant, or their proxy: `personKey`) was last sent
 * their invitation or a new time, or will be (one still waiting goes at its next attempt, with the
 * time as it is then: a move refreshes it and sends no second message, messages.ts): told of the
 * meeting's time then, they need no reminder whose time had already passed. One that failed (the
 * network gave up on it, or it was withdrawn unsent) told them nothing: the reminder is the next
 * message to tell them the time (an e-mail in its place that went counts, as a message of its own).
 * Per person: a proxy invited anew at a corrected number has been told, the patient beside them not.
 */
export async function lastToldOfTime(db: Db, meetingIds: string[]): Promise<Map<string, Date>> {
  const told = new Map<string, Date>();
  for (const ids of chunks(meetingIds)) {
    const rows = await db<MessageRow>('outbox_messages')
      .select('participant_id', 'data', 'sent_at', 'next_attempt_at')
      .whereIn('meeting_id', ids)
      .whereIn('kind', ['invitation', 'rescheduled'])
      .whereNotIn('status', ['failed'])
      .whereNotNull('participant_id');
    for (const r of rows) {
      const key = personKey(r.participant_id, (JSON.parse(r.data) as Record<string, unknown>).person);
      const at = toDate(r.sent_at ?? r.next_attempt_at);
      if (at.getTime() > (told.get(key)?.getTime() ?? 0)) told.set(key, at);
    }
  }
  return told;
}

/**
 * The messages of these kinds of a meeting that went (sent, or delivered), in the order they went:
 * what each person was actually told. One that failed told nobody anything.
 */
export const goneOfKinds = (trx: Knex.Transaction, meetingId: string, kinds: MessageKind[]) =>
  ofKinds(trx, meetingId, kinds, ['sent', 'delivered']);

/** A meeting's messages of these kinds and statuses, in the order they went (those not gone last). */
async function ofKinds(
  trx: Knex.Transaction,
  meetingId: string,
  kinds: MessageKind[],
  statuses: OutboxStatus[],
): Promise<OutboxMessage[]> {
  const rows = await trx<MessageRow>('outbox_messages')
    .where({ meeting_id: meetingId })
    .whereIn('status', statuses)
    .whereIn('kind', kinds)
    .orderBy('sent_at', 'asc');
  return rows.map(toMessage);
}

/**
 * Gives every message of this meeting that has not gone yet (queued, retrying, or being sent, in
 * case it comes back to be retried) the template data `fresh` makes for its language, over what it
 * had: a meeting's new time reaches the invitation still waiting for the gateway.
 */
export async function refreshPending(
  trx: Knex.Transaction,
  meetingId: string,
  fresh: (language: Language) => Promise<Record<string, unknown>>,
): Promise<number> {
  const rows = await trx<MessageRow>('outbox_messages')
    .where({ meeting_id: meetingId })
    .whereIn('status', ['queued', 'sending'])
    // Taken off the meeting, a person is told of the time they were invited to, not a new one.
    .whereNot('kind', 'removed')
    .select('id', 'language', 'data');
  const byLanguage = new Map<Language, Record<string, unknown>>();
  for (const row of rows) {
    const data = byLanguage.get(row.language) ?? (await fresh(row.language));
    byLanguage.set(row.language, data);
    await trx('outbox_messages')
      .where({ id: row.id })
      .update({ data: JSON.stringify({ ...(JSON.parse(row.data) as Record<string, unknown>), ...data }) });
  }
  return rows.length;
}

/**
 * A meeting's messages of these kinds that have not gone yet: waiting in the queue (what they will
 * say is still theirs to change), or being sent (what they say is what they were claimed with).
 */
export const pendingOfKinds = (trx: Knex.Transaction, meetingId: string, kinds: MessageKind[]) =>
  ofKinds(trx, meetingId, kinds, ['queued', 'sending']);

/**
 * Locks the messages of a meeting that have not gone yet, by id (lockMessages' order), before a
 * change decides what they say: a batch recording one of them as sent waits for the change, or the
 * change for the batch, and neither decides on what the other is changing (PostgreSQL; SQLite runs
 * one writer at a time).
 */
export async function lockPending(trx: Knex.Transaction, meetingId: string): Promise<void> {
  await lockInOrder(
    trx,
    trx('outbox_messages').where({ meeting_id: meetingId }).whereNotIn('status', ['sent', 'delivered', 'failed']),
  );
}

/** The time a person is told of, and the time they are told it replaces. */
const timeFields = ['date', 'time', 'endTime'] as const;
const previousFields = { date: 'previousDate', time: 'previousTime', endTime: 'previousEndTime' } as const;

/** Whether two messages' data tell the same time of the meeting. */
export const sameTime = (a: Record<string, unknown>, b: Record<string, unknown>): boolean =>
  timeFields.every((field) => a[field] === b[field]);

/** The "earlier" time of a new-time message that names, as the time it replaces, the time `said` told. */
export const previousTimeOf = (said: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(timeFields.map((field) => [previousFields[field], said[field]]));

/** The time a new-time message names as the one it replaces, as a time (previousTimeOf's inverse). */
export const earlierTimeOf = (message: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(timeFields.map((field) => [field, message[previousFields[field]]]));

/** Why a new-time message does not go once the meeting is back at the time it replaced. */
export const movedBack = notSentReasons.movedBack;

/** A new-time message whose "earlier" is its new time: moved back to the time the person was told, it has nothing to say. */
export const saysNoNewTime = (message: Pick<OutboxMessage, 'kind' | 'data'>): boolean =>
  message.kind === 'rescheduled' &&
  timeFields.every((field) => message.data[previousFields[field]] === message.data[field]);

/** Whom on the participant's row a message was for: the participant (or colleague), or their proxy. */
const personOf = (message: Pick<OutboxMessage, 'data'>): string =>
  typeof message.data.person === 'string' ? message.data.person : 'main';

/** One person of a participant's row (the participant, their proxy, or a colleague), as a key: `person` as a message's data names it. */
export const personKey = (participantId: string | null, person: unknown): string =>
  `${participantId}:${personOf({ data: { person } })}`;

/**
 * Whether `later` tells the person of `earlier` a newer time of the same meeting: a new-time message
 * made after another to the same person, and not failed. The earlier one is superseded: what it
 * said, or failed to say, is no longer the news (no e-mail in place of it, no call asked for it).
 */
export const supersedes = (later: OutboxMessage, earlier: OutboxMessage): boolean =>
  earlier.kind === 'rescheduled' &&
  later.kind === 'rescheduled' &&
  later.id !== earlier.id &&
  later.status !== 'failed' &&
  later.meetingId === earlier.meetingId &&
  later.participantId === earlier.participantId &&
  personOf(later) === personOf(earlier) &&
  later.createdAt.getTime() > earlier.createdAt.getTime();

/**
 * The ids of a participant's messages not gone yet (queued, or being sent) that are for these people
 * on their row: each message names whom it was for (a message without a name is the participant's).
 */
export async function pendingForPersons(
  trx: Knex.Transaction,
  participantId: string,
  persons: string[],
  /** Only those on this channel (an e-mail address corrected beside an unchanged mobile number). */
  channel?: Channel,
): Promise<string[]> {
  if (persons.length === 0) return [];
  const q = trx('outbox_messages')
    .where({ participant_id: participantId })
    .whereNotIn('status', ['sent', 'delivered', 'failed']);
  if (channel) q.andWhere({ channel });
  const rows: Pick<MessageRow, 'id' | 'data'>[] = await q.select('id', 'data');
  return rows
    .filter((r) => persons.includes(personOf({ data: JSON.parse(r.data) as Record<string, unknown> })))
    .map((r) => r.id);
}

/** Whether a message reached its person: an SMS the network delivered, an e-mail the relay took (e-mail tells no more). */
export const reachedPerson = (message: Pick<OutboxMessage, 'channel' | 'status'>): boolean =>
  message.status === 'delivered' || (message.channel === 'email' && message.status === 'sent');

/**
 * Whether `later`, made after `earlier` for the same person, called them to the same meeting and
 * reached them: `earlier` (a call to the meeting that did not arrive) is answered, the person has the
 * meeting's time and a way in, and nobody need call them about it (the meeting page's task).
 */
export const reachedSince = (later: OutboxMessage, earlier: OutboxMessage): boolean =>
  callsToMeeting.has(earlier.kind) &&
  callsToMeeting.has(later.kind) &&
  later.id !== earlier.id &&
  reachedPerson(later) &&
  later.meetingId === earlier.meetingId &&
  later.participantId === earlier.participantId &&
  personOf(later) === personOf(earlier) &&
  later.createdAt.getTime() > earlier.createdAt.getTime();

/**
 * Whether `later` answers `earlier`, a message to the same person that did not arrive: a newer time
 * on its way to them (`supersedes`), or a later call to the meeting that reached them
 * (`reachedSince`). What `earlier` said, or failed to say, is no longer the news: no e-mail goes in
 * its place (fallback.ts, or one waiting is withdrawn: `withdrawAnsweredFallbacks`), and nobody is
 * asked to call about it (facts.ts).
 */
export const answers = (later: OutboxMessage, earlier: OutboxMessage): boolean =>
  supersedes(later, earlier) || reachedSince(later, earlier);

/** Why an e-mail in place of an SMS does not go once a later message reached the person. */
export const answeredSince = notSentReasons.answered;

/**
 * E-mails in place of an SMS that did not arrive, not gone yet, which messages that just reached
 * their person answer (`answers`: a re-sent invitation, a reminder or a new time delivered while the
 * e-mail waited for the relay): they fail unsent, with the reason on record, rather than arrive
 * after them with what is no longer the news (and a link a re-sent invitation revoked). `reached`
 * carry the status they have now. Written in the batch that records them; an e-mail a change holds
 * at that moment is left as it is (the batch waits for no message out of the lock order). Returns
 * how many it withdrew.
 */
export async function withdrawAnsweredFallbacks(trx: Knex.Transaction, reached: OutboxMessage[]): Promise<number> {
  const news = reached.filter((m) => reachedPerson(m) && callsToMeeting.has(m.kind) && m.participantId);
  if (news.length === 0) return 0;
  // One indexed look-up a batch (by participant), most often finding nothing.
  const waiting: MessageRow[] = [];
  for (const ids of chunks([...new Set(news.map((m) => m.participantId!))]))
    waiting.push(
      ...(await trx<MessageRow>('outbox_messages')
        .whereIn('participant_id', ids)
        .whereNotNull('fallback_of')
        .whereNotIn('status', ['sent', 'delivered', 'failed'])),
    );
  if (waiting.length === 0) return 0;
  const failedSms = new Map<string, OutboxMessage>();
  for (const ids of chunks(waiting.map((w) => w.fallback_of!)))
    for (const row of await trx<MessageRow>('outbox_messages').whereIn('id', ids))
      failedSms.set(row.id, toMessage(row));
  const answered = waiting.filter((w) => {
    const failed = failedSms.get(w.fallback_of!);
    return failed !== undefined && news.some((m) => answers(m, failed));
  });
  const free = new Set(
    await lockFree(
      trx,
      answered.map((w) => w.id),
    ),
  );
  let withdrawn = 0;
  for (const [meetingId, mine] of groupBy(
    answered.filter((w) => free.has(w.id) && w.meeting_id),
    (w) => w.meeting_id!,
  ))
    withdrawn += await withdrawPending(trx, { meetingId, ids: mine.map((w) => w.id) }, answeredSince);
  return withdrawn;
}

/** The template data these messages have now (a move may have changed it since they were claimed). */
export async function dataOf(trx: Knex.Transaction, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const data = new Map<string, Record<string, unknown>>();
  for (const part of chunks(ids)) {
    const rows: Pick<MessageRow, 'id' | 'data'>[] = await trx('outbox_messages')
      .whereIn('id', part)
      .select('id', 'data');
    for (const row of rows) data.set(row.id, JSON.parse(row.data) as Record<string, unknown>);
  }
  return data;
}

/**
 * Writes a message's template data whole: a sent message's data it was claimed and sent with (not
 * what a move gave its row while the gateway had it), or a waiting one's corrected (messages.ts).
 */
export async function writeData(trx: Knex.Transaction, message: Pick<OutboxMessage, 'id' | 'data'>): Promise<void> {
  await trx('outbox_messages')
    .where({ id: message.id })
    .update({ data: JSON.stringify(message.data) });
}

/**
 * Locks those of these messages nobody else holds, and returns their ids: one a change (a move, an
 * erasure) holds now is skipped, not waited for. For a batch that has locked its own rows and would
 * otherwise wait for another out of the one lock order (PostgreSQL; SQLite runs one writer at a time).
 */
export async function lockFree(trx: Knex.Transaction, ids: string[]): Promise<string[]> {
  if (isSqlite(trx)) return ids;
  const free: string[] = [];
  for (const part of chunks([...ids].sort()))
    free.push(
      ...(await trx<MessageRow>('outbox_messages')
        .whereIn('id', part)
        .orderBy('id')
        .forUpdate()
        .skipLocked()
        .pluck('id')),
    );
  return free;
}

/** These queued messages are due now: what they say has changed, and nobody should wait out a back-off for it. */
export async function dueNow(trx: Knex.Transaction, ids: string[], now = new Date()): Promise<void> {
  for (const part of chunks(ids))
    await trx('outbox_messages')
      .whereIn('id', part)
      .andWhere({ status: 'queued' })
      .update({ next_attempt_at: iso(now) });
}

export async function findMessage(db: Db, id: string): Promise<OutboxMessage | undefined> {
  const row = await db<MessageRow>('outbox_messages').where({ id }).first();
  return row ? toMessage(row) : undefined;
}

export async function messagesOf(
  db: Db,
  where: { meetingId?: string; participantId?: string },
): Promise<OutboxMessage[]> {
  const q = db('outbox_messages').orderBy('created_at', 'asc');
  if (where.meetingId) q.where('meeting_id', where.meetingId);
  if (where.participantId) q.where('participant_id', where.participantId);
  return ((await q) as MessageRow[]).map(toMessage);
}

export async function recentMessages(db: Db, limit = 200): Promise<OutboxMessage[]> {
  const rows = await db<MessageRow>('outbox_messages').orderBy('created_at', 'desc').limit(limit);
  return rows.map(toMessage);
}

export interface QueueStats {
  queued: number;
  retrying: number;
  sending: number;
  failedLastDay: number;
}

/** The meetings a list of messages is about, each once. */
export const meetingsOf = (messages: Pick<OutboxMessage, 'meetingId'>[]): string[] => [
  ...new Set(messages.map((m) => m.meetingId).filter((id): id is string => id !== null)),
];

export async function queueStats(db: Db, now = new Date()): Promise<QueueStats> {
  const count = async (q: Knex.QueryBuilder) => {
    const [row] = await q.count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  };
  return {
    queued: await count(db('outbox_messages').where({ status: 'queued', attempts: 0 })),
    retrying: await count(db('outbox_messages').where('status', 'queued').andWhere('attempts', '>', 0)),
    sending: await count(db('outbox_messages').where({ status: 'sending' })),
    // Only a failure sets failed_at, and failed is final: the time alone finds them, by its index
    // (beside the status, SQLite would take the status index through every failure ever).
    // A message withdrawn on purpose (a cancelled meeting) is no failure for anyone to look into.
    failedLastDay: await count(
      db('outbox_messages')
        .where('failed_at', '>=', iso(new Date(now.getTime() - 86_400_000)))
        .andWhere((q) => q.whereNull('last_error').orWhere('last_error', 'not like', `${notSentPrefix}%`)),
    ),
  };
}

/**
 * A message without its address, its template data and what the relay or gateway said of it: a
 * reply may repeat the address ("550 5.1.1 <eva@…>: Recipient address rejected"). Its kind,
 * status and times stay.
 */
const contactsErased = {
  recipient: '',
  data: '{}',
  secret_sealed: null,
  provider_reply: null,
  last_error: null,
  sms_parts: null,
};

/**
 * Retention: the addresses and the template data (names, times) of the messages of the meetings
 * whose contact data went (`endedAmong` says which of some meetings those are) go with the
 * participants' contact data. The rows stay, so the record of what was sent when stays. A
 * message still queued then (behind a gateway or relay down for longer than the period) would keep
 * its address as long as it waited: it fails, unsent - three months after its meeting it is no
 * news to anyone. One being sent at that moment is left to finish; the next day's run takes it.
 * Only the meetings of messages that still hold a recipient are asked about, a batch at a time,
 * through their partial index (migration 0027): not every meeting ever held.
 */
export async function eraseMessageContacts(
  db: Db,
  endedAmong: (meetingIds: string[]) => Promise<string[]>,
  now = new Date(),
): Promise<number> {
  const batch = 500;
  let erased = 0;
  let after = '';
  for (;;) {
    const rows: { meeting_id: string }[] = await db('outbox_messages')
      // Said as the index's predicate, not with a bound '': SQLite must see that the query implies it.
      .whereRaw(`recipient <> ''`)
      .where('meeting_id', '>', after)
      .orderBy('meeting_id')
      .limit(batch)
      .select('meeting_id');
    const last = rows.at(-1);
    if (!last) return erased;
    erased += await eraseContactsOfMessages(db, await endedAmong([...new Set(rows.map((r) => r.meeting_id))]), now);
    if (rows.length < batch) return erased;
    after = last.meeting_id;
  }
}

/** Retention's erasure of these meetings' messages (eraseMessageContacts). */
export async function eraseContactsOfMessages(db: Db, meetingIds: string[], now = new Date()): Promise<number> {
  let erased = 0;
  for (const ids of chunks(meetingIds)) {
    await db('outbox_messages')
      .whereIn('meeting_id', ids)
      // Queued, said as NOT IN for the same reason as below: SQLite would take the status index.
      .whereNotIn('status', ['sending', 'sent', 'delivered', 'failed'])
      .update({
        status: 'failed',
        failed_at: iso(now),
        last_error: notSentBecause(notSentReasons.erased),
      });
    erased += await db('outbox_messages')
      .whereIn('meeting_id', ids)
      // Done with (sent, delivered or failed), said as NOT IN: an IN of those statuses sent SQLite
      // along the status index through nearly every message, instead of these meetings' own.
      .whereNotIn('status', ['queued', 'sending'])
      .whereNot('recipient', '')
      .update(contactsErased);
  }
  return erased;
}

/**
 * Whether a message went to the participant's proxy: every message to a proxy says so in its
 * `person` (messages.ts, the SMS codes, the fallback, evaluation requests); any other was for the
 * participant themself (a colleague's, or one without). Erased messages (data `{}`) tell no more.
 */
export const sentToProxy = (message: { data: Record<string, unknown> }): boolean => message.data.person === 'proxy';

/**
 * A privacy request: messages not yet sent to the person (the participant, or their proxy: each
 * message names whom it was for) go nowhere now; sent ones keep their record without the address
 * and data, as retention leaves them. Messages to the other person on the row stay as they are.
 */
export async function eraseParticipantMessages(
  db: Knex.Transaction,
  participantId: string,
  person: 'main' | 'proxy',
  now = new Date(),
): Promise<void> {
  const rows: { id: string; data: string }[] = await db('outbox_messages')
    .where({ participant_id: participantId })
    .whereNot('recipient', '')
    .select('id', 'data');
  const ids = rows
    .filter((r) => sentToProxy({ data: JSON.parse(r.data) as Record<string, unknown> }) === (person === 'proxy'))
    .map((r) => r.id);
  await lockMessages(db, ids);
  for (const part of chunks(ids)) {
    await db('outbox_messages').whereIn('id', part).update(contactsErased);
    await db('outbox_messages')
      .whereIn('id', part)
      .whereIn('status', ['queued', 'sending'])
      .update({ status: 'failed', failed_at: iso(now), last_error: 'contact data erased on request' });
  }
}

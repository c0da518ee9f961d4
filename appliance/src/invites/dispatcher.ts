// The dispatcher: claims due outbox rows in batches, renders them, hands them to the mail or SMS
// adapter, and records the outcomes in batches. Temporary failures retry with exponential back-off
// and jitter; permanent ones fail with the adapter's reason. A row whose sender died is claimed
// again when its lease runs out, so a crash loses nothing; the bound on duplicates is the number of
// messages in flight (handed to a channel and not yet recorded), per channel.
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import { linkPath } from '../entry/index.ts';
import { t } from '../http/i18n.ts';
import { meetingCalendar } from './calendar.ts';
import {
  PartlySent,
  PermanentFailure,
  TemporaryFailure,
  type DeliveryReceipt,
  type PartsOnRecord,
} from './delivery.ts';
import type { MailMessage } from './mail.ts';
import {
  callsToMeeting,
  claim,
  lockMessages,
  movedBack,
  notSentBecause,
  notSentReasons,
  receiptLinks,
  recordFailures,
  recordReceipts,
  recordRetries,
  recordSends,
  releaseClaims,
  renewClaims,
  saysNoNewTime,
  smsSending,
  type Channel,
  type ClaimedMessage,
  type Failure,
  type NotSentReason,
  type OutboxMessage,
  type ReceiptOf,
  type ReceiptsRecorded,
  type Retry,
  type Sent,
} from './outbox.ts';
import type { Templates } from './templates.ts';
import { textOf } from '../common/text.ts';

/** What the dispatcher needs of a channel's adapter (mail.ts, sms.ts). */
interface ChannelAdapter {
  /**
   * The dispatcher is stopping: take no new messages, and fail temporarily, now, those that wait for
   * a link to the relay or gateway (never handed over); those it already has keep their answer.
   */
  beginClose(): void;
}

export interface MailChannel extends ChannelAdapter {
  send(message: MailMessage): Promise<{ messageId: string; response: string }>;
}

export interface SmsChannel extends ChannelAdapter {
  /**
   * `key` is the message's id, the same on every attempt, and `partsTaken` what the outbox kept of
   * an earlier attempt that left a long text partly sent (see SmsMessage).
   */
  send(message: {
    to: string;
    text: string;
    key: string;
    partsTaken?: PartsOnRecord | undefined;
  }): Promise<{ providerIds: string[] }>;
}

export interface DispatcherOptions {
  db: Db;
  dataKey: Buffer;
  publicUrl: URL;
  mailFrom: string;
  templates: Templates;
  mail: MailChannel;
  /**
   * This process's link to the SMS gateway, if it sends SMS (`useSms`): with several processes only
   * the leading one does (index.ts). Without one, SMS rows wait for the process that has it.
   */
  sms?: SmsChannel;
  /**
   * Messages in flight at once per channel — handed to the adapter and not yet recorded: the bound
   * on duplicates after a crash. Twice the SMPP window by default, so that the window stays full
   * while the previous window's answers are being recorded.
   */
  concurrency?: number;
  /** How long a claim holds before another process may take the row over. */
  leaseMs?: number;
  pollMs?: number;
  /** How long a small batch of outcomes and receipts waits for more before it is written. */
  gatherMs?: number;
  /** The same for a batch of e-mail outcomes alone. */
  mailGatherMs?: number;
  maxAttempts?: number;
  /** First retry delay; doubled per attempt up to maxBackoffMs, ±20 % jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Where a message kind's secret leads, for kinds whose token opens another domain's page (an
   * evaluation request's opens the evaluation); any other secret is the way into the meeting.
   */
  secretPaths?: ReadonlyMap<string, (secret: string) => string>;
  /**
   * What a batch's status changes cause, written in the batch's own transaction (the connection
   * log's entries, the participants' statuses, an e-mail in place of a failed SMS): a batch and
   * everything it causes are one commit.
   */
  withinBatch?: (trx: Knex.Transaction, changes: StatusChange[]) => Promise<void>;
  /** Told of every status change once its batch has committed. */
  onStatus?: (message: OutboxMessage | ClaimedMessage, status: StatusChange['status'], reason?: string) => void;
  log?: (level: 'warn' | 'error' | 'info', message: string) => void;
}

/** A message's status as a batch recorded it. */
export interface StatusChange {
  message: OutboxMessage | ClaimedMessage;
  status: 'sent' | 'delivered' | 'failed' | 'retrying';
  reason?: string;
}

export function backoff(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay * (0.8 + 0.4 * random()));
}

/** Messages in flight per channel by default: twice the SMPP adapter's window of 10. */
export const defaultConcurrency = 20;
/** How long a receipt may wait for its message's send to be recorded while SMS are being sent. */
const earlyReceiptWaitMs = 30_000;
/** How often waiting receipts look again (other processes record sends this one does not hear of). */
const earlyReceiptRecheckMs = 500;
/** Unknown ids remembered so that a gateway repeating a receipt is not logged again. */
const unknownIdsKept = 1000;
/** How long a batch that could not be recorded waits before it is tried again. */
const recordRetryMs = 1000;

/** An attempt's outcome, waiting for the next batch to record it. */
type Outcome =
  | { message: ClaimedMessage; sent: Sent }
  | { message: ClaimedMessage; retry: Retry }
  | { message: ClaimedMessage; failure: Failure };

/**
 * Rows a batch's transaction claimed, for its lanes once it has committed; `drained` as its claim
 * found it, and the lane's `wakeups` when that claim began.
 */
type Claims = { lane: Lane; rows: ClaimedMessage[]; drained: boolean; wakeups: number }[];

/** A receipt waiting to be recorded; the SMS adapter acknowledges it when the promise settles. */
interface PendingReceipt {
  receipt: DeliveryReceipt;
  of: ReceiptOf;
  /** Until when an id no sent message has may wait for its send to be recorded. */
  deadline: number;
  resolve(): void;
  reject(error: Error): void;
}

/** What one channel has: claimed rows not yet handed out, and how many are in flight. */
interface Lane {
  ready: ClaimedMessage[];
  inFlight: number;
  /** The last claim found fewer rows than it asked for: nothing more is due until told or polled. */
  drained: boolean;
  /** A claim for this lane is under way (the loop's own, or in a batch's transaction): no second one. */
  claiming: boolean;
  /**
   * Counts the times something may have fallen due (enqueued, or the poll came). A claim that
   * found too few rows says the lane is drained only if this did not change while it claimed: a
   * message committed meanwhile may not be in what the claim read.
   */
  wakeups: number;
}

export class Dispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'onStatus' | 'withinBatch' | 'log' | 'secretPaths' | 'sms'>> &
    Pick<DispatcherOptions, 'onStatus' | 'withinBatch' | 'log' | 'secretPaths'>;
  #sms: SmsChannel | undefined;
  #running = false;
  #nudged = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  readonly #lanes: Record<Channel, Lane> = {
    sms: { ready: [], inFlight: 0, drained: false, claiming: false, wakeups: 0 },
    email: { ready: [], inFlight: 0, drained: false, claiming: false, wakeups: 0 },
  };
  // Outcomes and receipts wait here for the next batch: whatever arrived while the last one was
  // being written goes into one transaction.
  #outcomes: Outcome[] = [];
  #receipts: PendingReceipt[] = [];
  #recording: Promise<void> | null = null;
  #recordTimer: NodeJS.Timeout | undefined;
  #gatherTimer: NodeJS.Timeout | undefined;
  #gatherUntil = 0;
  // Receipts can overtake the write that records a message as sent: they wait here (by provider id)
  // until that send is recorded, or look again after earlyReceiptRecheckMs.
  readonly #early = new Map<string, PendingReceipt[]>();
  #recheckTimer: NodeJS.Timeout | undefined;
  readonly #unknownIds = new Set<string>();
  /** Messages handed to a channel and not yet recorded: their claims are renewed while they wait there. */
  readonly #held = new Set<ClaimedMessage>();
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(options: DispatcherOptions) {
    this.#o = {
      concurrency: defaultConcurrency,
      leaseMs: 60_000,
      pollMs: 1000,
      gatherMs: 2,
      mailGatherMs: 20,
      maxAttempts: 12,
      backoffMs: 5000,
      maxBackoffMs: 30 * 60_000,
      ...options,
    };
    this.#sms = options.sms;
  }

  /**
   * Starts or stops sending SMS from this process. With several processes one binds to the gateway,
   * the leading one (index.ts): the gateway sees one throttle kept, and an account that allows one
   * bind gets one. Stopping gives back the SMS rows claimed and not handed out, fails those the link
   * holds waiting for it to come up (`beginClose`), and waits until the SMS in flight have their
   * outcome; the caller then closes the link. Whoever leads next sends what is left.
   */
  async useSms(sms: SmsChannel | undefined): Promise<void> {
    const previous = this.#sms;
    this.#sms = sms;
    if (sms) return this.notify();
    await this.#giveBack([this.#lanes.sms]);
    previous?.beginClose();
    while (this.#lanes.sms.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
    this.#renewTimer = setInterval(() => void this.#renewHeld(), this.#o.leaseMs / 4);
  }

  /**
   * A channel may hold a message longer than its claim's lease: the throttle, a gateway's
   * ESME_RTHROTTLED pauses, a link that is down until the adapter's queue timeout. Its claim is
   * extended while it waits there, or its lease would run out and a claim (this process's or
   * another's) would take the row and send the message a second time. Checked every quarter lease,
   * renewed once less than half is left: never run out.
   */
  async #renewHeld(): Promise<void> {
    const { leaseMs } = this.#o;
    const now = Date.now();
    const due = [...this.#held].filter((m) => m.claimedUntil.getTime() - now < leaseMs / 2);
    if (due.length === 0) return;
    const until = new Date(now + leaseMs);
    try {
      const renewed = await renewClaims(this.#o.db, due, until);
      for (const message of due) if (renewed.has(message.id)) message.claimedUntil = until;
    } catch (error) {
      this.#o.log?.('warn', `outbox: cannot renew the claims of ${due.length} message(s): ${(error as Error).message}`);
    }
  }

  /**
   * Stops claiming, gives back what was claimed but not handed out, and waits until what is in
   * flight is recorded (or recording fails: the lease then brings those rows back). What the
   * adapters hold waiting for a link fails at once and is recorded as a retry: with the gateway or
   * relay down, a stop does not wait out their queue and connection timeouts (and end in SIGKILL).
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#poke();
    await this.#loop;
    this.#sms?.beginClose();
    this.#o.mail.beginClose();
    await this.#giveBack();
    while (this.inFlight > 0 || this.#recording) {
      if (this.#recordTimer && !this.#recording) break; // the database refused the last batch
      await new Promise((r) => setTimeout(r, 10));
    }
    // A batch being written when the stop came may have claimed rows for its lanes as it committed:
    // nothing hands them out any more, and they would wait out their lease.
    await this.#giveBack();
    clearTimeout(this.#recordTimer);
    clearTimeout(this.#gatherTimer);
    clearTimeout(this.#recheckTimer);
    clearInterval(this.#renewTimer);
    // Receipts still waiting are not acknowledged: the gateway sends them again after the next bind.
    for (const pending of [...this.#early.values()].flat()) pending.reject(new Error('the outbox is stopping'));
    this.#early.clear();
  }

  /** Gives back the rows claimed and not handed out: due again now, for this process's next start or another. */
  async #giveBack(lanes = channelsOf(this.#lanes)): Promise<void> {
    const unsent = lanes.flatMap((lane) => lane.ready.splice(0));
    if (unsent.length > 0)
      await releaseClaims(this.#o.db, unsent).catch((error: Error) =>
        this.#o.log?.('error', `outbox: cannot give back ${unsent.length} claimed message(s): ${error.message}`),
      );
  }

  /** Something was enqueued: look again now instead of at the next poll. */
  notify(): void {
    this.#undrain();
    this.#poke();
  }

  /** Something may have fallen due on every lane: the next claim looks. */
  #undrain(): void {
    for (const lane of channelsOf(this.#lanes)) {
      lane.drained = false;
      lane.wakeups += 1;
    }
  }

  /** Messages handed to a channel and not yet recorded, over both channels. */
  get inFlight(): number {
    return this.#lanes.sms.inFlight + this.#lanes.email.inFlight;
  }

  async #run(): Promise<void> {
    const { pollMs } = this.#o;
    let polledAt = Date.now();
    while (this.#running) {
      this.#nudged = false;
      if (Date.now() - polledAt >= pollMs) {
        // Retries and reminders fall due without telling anyone: each poll looks again.
        polledAt = Date.now();
        this.#undrain();
      }
      this.#handOut();
      // A channel whose buffer fell below one window claims enough rows to fill its free slots and
      // keep two windows ready behind them: a claim a window at a time, not a row as each slot frees.
      // While sends are being recorded, the batch's transaction claims for them (#claimWithin): a
      // claim on its own is a commit of its own. This claims when nothing is being recorded.
      let claimed = 0;
      for (const channel of laneOrder) {
        const lane = this.#lanes[channel];
        const room = this.#roomIn(lane, 0);
        if (room === 0 || this.#recording) continue;
        lane.claiming = true;
        const wakeups = lane.wakeups;
        try {
          const rows = await claim(this.#o.db, this.#o.dataKey, { limit: room, leaseMs: this.#o.leaseMs, channel });
          lane.ready.push(...rows);
          lane.drained = rows.length < room && lane.wakeups === wakeups;
          claimed += rows.length;
        } catch (error) {
          this.#o.log?.('error', `outbox: cannot claim messages: ${(error as Error).message}`);
        } finally {
          lane.claiming = false;
        }
      }
      this.#handOut();
      if (claimed === 0) await this.#sleep();
    }
  }

  /**
   * How many rows a lane should claim once `freeing` of its slots are free again: none while it has
   * a window's worth ready; else enough to fill its free slots and keep two windows ready behind them.
   */
  #roomIn(lane: Lane, freeing: number): number {
    const { concurrency } = this.#o;
    if (!this.#running || lane.drained || lane.claiming || lane.ready.length >= concurrency) return 0;
    if (lane === this.#lanes.sms && !this.#sms) return 0;
    return Math.max(0, 3 * concurrency - (lane.inFlight - freeing) - lane.ready.length);
  }

  /**
   * Claims, inside a batch's transaction, the rows its lanes will want once the batch has freed its
   * slots: the claim shares the batch's commit. The rows are handed out once it has committed; if
   * it rolls back they were never claimed.
   */
  async #claimWithin(trx: Knex.Transaction, outcomes: Outcome[]): Promise<Claims> {
    const claims: Claims = [];
    for (const channel of laneOrder) {
      const lane = this.#lanes[channel];
      const room = this.#roomIn(lane, outcomes.filter((o) => o.message.channel === channel).length);
      if (room === 0) continue;
      lane.claiming = true;
      const wakeups = lane.wakeups;
      try {
        const rows = await claim(trx, this.#o.dataKey, { limit: room, leaseMs: this.#o.leaseMs, channel });
        claims.push({ lane, rows, drained: rows.length < room, wakeups });
      } finally {
        lane.claiming = false;
      }
    }
    return claims;
  }

  /** Until something is enqueued or a batch is recorded, or the next poll. */
  async #sleep(): Promise<void> {
    if (this.#nudged || !this.#running) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, this.#o.pollMs);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  /** Looks again at once: a slot freed. */
  #poke(): void {
    this.#nudged = true;
    this.#wake?.();
  }

  /** Hands claimed rows to their channel while it has free slots. */
  #handOut(): void {
    const stale: ClaimedMessage[] = [];
    for (const lane of channelsOf(this.#lanes)) {
      while (lane.inFlight < this.#o.concurrency && lane.ready.length > 0) {
        const message = lane.ready.shift()!;
        // A row that waited for a slot through a quarter of its lease is given back rather than
        // sent: its lease must outlast the send and its record.
        if (message.claimedUntil.getTime() - Date.now() < (this.#o.leaseMs * 3) / 4) {
          stale.push(message);
          continue;
        }
        lane.inFlight += 1;
        this.#held.add(message);
        void this.#deliver(message).then((outcome) => this.#finished(outcome));
      }
    }
    if (stale.length > 0)
      releaseClaims(this.#o.db, stale).catch((error: Error) =>
        this.#o.log?.('error', `outbox: cannot give back ${stale.length} claimed message(s): ${error.message}`),
      );
  }

  #link(message: ClaimedMessage): string | undefined {
    const base = this.#o.publicUrl.toString().replace(/\/$/, '');
    const secretPath = this.#o.secretPaths?.get(message.kind);
    if (message.secret && secretPath) return base + secretPath(message.secret);
    if (message.secret && message.kind !== 'sms_code') return base + linkPath(message.secret);
    if (typeof message.data.linkPath === 'string') return base + message.data.linkPath;
    return undefined;
  }

  /** Renders and sends one message; never throws: every attempt ends in an outcome to record. */
  async #deliver(message: ClaimedMessage): Promise<Outcome> {
    const { templates } = this.#o;
    const stale = staleness(message);
    if (stale) return { message, failure: { id: message.id, reason: notSentBecause(stale) } };
    try {
      const data = {
        ...message.data,
        link: this.#link(message),
        code: message.kind === 'sms_code' ? message.secret : undefined,
      };
      if (message.channel === 'sms') {
        const text = templates.sms(message.language, message.kind, data);
        // Handed out while this process had the link, which went (useSms gives back what it can).
        if (!this.#sms) throw new TemporaryFailure('this process no longer sends SMS: the leading process does');
        const { providerIds } = await this.#sms.send({
          to: message.recipient,
          text,
          key: message.id,
          partsTaken: message.smsParts,
        });
        return { message, sent: { id: message.id, providerIds, hadParts: message.smsParts !== undefined } };
      }
      const rendered = templates.email(message.language, message.kind, data);
      const mail: MailMessage = {
        to: message.recipient,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
      };
      const calendar = this.#calendar(message, data);
      if (calendar) mail.calendar = calendar;
      const sent = await this.#o.mail.send(mail);
      return { message, sent: { id: message.id, providerIds: [sent.messageId], reply: sent.response } };
    } catch (error) {
      return this.#failedAttempt(message, error);
    }
  }

  #calendar(message: ClaimedMessage, data: Record<string, unknown>): MailMessage['calendar'] | undefined {
    if (
      !['invitation', 'rescheduled', 'cancelled', 'removed'].includes(message.kind) ||
      !message.meetingId ||
      typeof data.startsAt !== 'string'
    )
      return undefined;
    const unitName = typeof data.unitName === 'string' ? data.unitName : 'Samverka';
    return meetingCalendar({
      uid: `${message.meetingId}@${this.#o.publicUrl.hostname}`,
      sequence: Number(data.calendarSequence ?? 0),
      start: new Date(data.startsAt),
      end: new Date(String(data.endsAt)),
      summary: t(message.language, 'invites.calendar.summary', { unitName }),
      joinUrl: typeof data.link === 'string' ? data.link : this.#o.publicUrl.toString(),
      organizer: { name: unitName, email: addressOf(this.#o.mailFrom) },
      attendee: { name: textOf(data.name), email: message.recipient },
      // Off the person's calendar either way: the meeting is off, or off for them.
      cancelled: message.kind === 'cancelled' || message.kind === 'removed',
    });
  }

  #failedAttempt(message: ClaimedMessage, error: unknown): Outcome {
    const reason = (error as Error)?.message ?? String(error);
    if (error instanceof PermanentFailure) return { message, failure: { id: message.id, reason } };
    if (!(error instanceof TemporaryFailure)) {
      // A bug or a broken template must not lose the message: it is retried like a temporary
      // failure and the reason is logged, so a person can see and fix it.
      this.#o.log?.('error', `outbox: message ${message.id} (${message.kind}) could not be sent: ${reason}`);
    }
    if (message.attempts >= this.#o.maxAttempts)
      return { message, failure: { id: message.id, reason: `gave up after ${message.attempts} attempts: ${reason}` } };
    const nextAttemptAt = new Date(Date.now() + backoff(message.attempts, this.#o.backoffMs, this.#o.maxBackoffMs));
    // The parts of a long text the gateway took are kept with the row: the retry, in this process
    // or after a restart, sends only the rest.
    const parts = error instanceof PartlySent ? { parts: error.parts } : {};
    return { message, retry: { id: message.id, error: reason, nextAttemptAt, ...parts } };
  }

  #finished(outcome: Outcome): void {
    this.#outcomes.push(outcome);
    this.#record();
  }

  /**
   * A delivery receipt from the SMS gateway: delivered, or failed with the network's reason (one that
   * says the message is still on its way changes nothing and is acknowledged at once). The
   * returned promise settles when the receipt is recorded (in the next batch), and only then does
   * the SMS adapter acknowledge it: a receipt is never lost with a process that dies before
   * recording it.
   *
   * A receipt for an id no sent message has is acknowledged too (and logged once): a shared SMPP
   * account, or a database restored from a backup, brings such receipts every day, and refusing
   * them only makes the gateway send them again for ever. It can only be early, not unknown, while
   * some SMS is between the gateway's answer and its send record, so only then does it wait.
   */
  receipt(receipt: DeliveryReceipt): Promise<void> {
    // On its way, not yet delivered or failed: nothing to record; the final receipt follows.
    if (receipt.status === 'pending') return Promise.resolve();
    const delivered = receipt.status === 'delivered';
    const of: ReceiptOf = {
      providerId: receipt.providerId,
      receipt: delivered ? 'delivered' : 'failed',
      reason: delivered ? null : `${receipt.status}${receipt.error ? ` (${receipt.error})` : ''}`,
    };
    return new Promise<void>((resolve, reject) => {
      this.#receipts.push({ receipt, of, deadline: Date.now() + earlyReceiptWaitMs, resolve, reject });
      this.#record();
    });
  }

  /**
   * Starts a batch unless one is being written (the next starts when it ends). It starts after the
   * current turn of the event loop, so that what one read from a socket finished (several SMPP
   * responses and receipts) goes into one batch.
   */
  #record(): void {
    if (this.#recording || this.#recordTimer) return;
    if (this.#outcomes.length === 0 && this.#receipts.length === 0) return;
    if (!this.#worthACommit()) {
      // A small batch waits a moment for more (PostgreSQL's commit_delay): every commit is an
      // fsync, and a batch's slots stay taken until it is durable. E-mails alone wait longer: nobody
      // stands waiting for an invitation, and each commit costs the relay's connections as much
      // as several messages' composing.
      const onlyMail = this.#receipts.length === 0 && this.#outcomes.every((o) => o.message.channel === 'email');
      const until = Date.now() + (onlyMail ? this.#o.mailGatherMs : this.#o.gatherMs);
      if (this.#gatherTimer && this.#gatherUntil <= until) return;
      clearTimeout(this.#gatherTimer);
      this.#gatherUntil = until;
      this.#gatherTimer = setTimeout(() => {
        this.#gatherTimer = undefined;
        this.#startBatch();
      }, until - Date.now());
      return;
    }
    this.#startBatch();
  }

  /**
   * Whether what waits should be written now: a quarter of the SMS lane's slots wait for it (the
   * SMPP window must not run dry), half the e-mail lane's (the rest still keeps the relay's
   * connections busy), or everything in flight has finished (no more outcomes are coming to share
   * the commit; e.g. a single SMS code, which a person is waiting for), or a window of receipts.
   */
  #worthACommit(): boolean {
    const { concurrency } = this.#o;
    const waiting = { sms: 0, email: 0 };
    for (const o of this.#outcomes) waiting[o.message.channel] += 1;
    return (
      waiting.sms >= concurrency / 4 ||
      waiting.email >= concurrency / 2 ||
      this.#outcomes.length >= this.inFlight ||
      this.#receipts.length >= concurrency / 2
    );
  }

  #startBatch(): void {
    clearTimeout(this.#gatherTimer);
    this.#gatherTimer = undefined;
    if (this.#recording || this.#recordTimer) return;
    if (this.#outcomes.length === 0 && this.#receipts.length === 0) return;
    this.#recording = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#recordBatch())
      .finally(() => {
        this.#recording = null;
        this.#record();
      });
  }

  /**
   * One transaction for everything that finished since the last batch: the sends, retries and
   * failures first, then the receipts, so that a receipt finds a send recorded in the same batch.
   */
  async #recordBatch(): Promise<void> {
    const outcomes = this.#outcomes.splice(0);
    const receipts = this.#receipts.splice(0);
    let recorded: { sending: boolean; receipts: ReceiptsRecorded; changes: StatusChange[]; claims: Claims };
    try {
      recorded = await this.#o.db.transaction(async (trx) => {
        const sends: Sent[] = [];
        const retries: Retry[] = [];
        const failures: Failure[] = [];
        const changes: StatusChange[] = [];
        for (const o of outcomes) {
          if ('sent' in o) {
            sends.push(o.sent);
            changes.push({ message: o.message, status: 'sent' });
          } else if ('retry' in o) {
            retries.push(o.retry);
            changes.push({ message: o.message, status: 'retrying', reason: o.retry.error });
          } else {
            failures.push(o.failure);
            changes.push({ message: o.message, status: 'failed', reason: o.failure.reason });
          }
        }
        // The batch's rows, its outcomes' and its receipts' messages together, in the one order every
        // transaction that changes several messages takes them (a set after the other could deadlock
        // with an erasure taking a message of each in between).
        const found = await receiptLinks(
          trx,
          receipts.map((r) => r.of.providerId),
        );
        await lockMessages(trx, [...outcomes.map((o) => o.message.id), ...found.values()]);
        if (sends.length > 0) await recordSends(trx, sends);
        if (retries.length > 0) await recordRetries(trx, retries);
        if (failures.length > 0) await recordFailures(trx, failures);
        let sending = false;
        let fromReceipts: ReceiptsRecorded = { unknown: new Set<string>(), changed: [] };
        if (receipts.length > 0) {
          // An id this batch's sends have too (the gateway's counter started over) is theirs now:
          // looked up again, after them.
          for (const id of sends.flatMap((s) => s.providerIds)) found.delete(id);
          fromReceipts = await recordReceipts(
            trx,
            receipts.map((r) => r.of),
            undefined,
            found,
          );
          if (fromReceipts.unknown.size > 0) {
            // An id not found may be early: a send is recorded in the same commit that ends its
            // "sending", so when nothing is sending any more, a message with an id looked up after
            // this is on record (another process's send recorded since the first look-up, too).
            sending = await smsSending(trx);
            if (!sending) {
              const { unknown } = fromReceipts;
              const again = await recordReceipts(
                trx,
                receipts.filter((r) => unknown.has(r.of.providerId)).map((r) => r.of),
              );
              fromReceipts = { unknown: again.unknown, changed: [...fromReceipts.changed, ...again.changed] };
            }
          }
          changes.push(...fromReceipts.changed);
        }
        if (changes.length > 0) await this.#o.withinBatch?.(trx, changes);
        return { sending, receipts: fromReceipts, changes, claims: await this.#claimWithin(trx, outcomes) };
      });
    } catch (error) {
      const reason = (error as Error).message;
      this.#o.log?.(
        'error',
        `outbox: cannot record ${outcomes.length} outcome(s) and ${receipts.length} receipt(s): ${reason}`,
      );
      // The outcomes keep their slots and are tried again: nothing more is sent meanwhile. The
      // receipts are refused for now; the gateway sends them again.
      this.#outcomes.unshift(...outcomes);
      for (const r of receipts) r.reject(error as Error);
      this.#recordTimer = setTimeout(() => {
        this.#recordTimer = undefined;
        this.#record();
      }, recordRetryMs);
      return;
    }
    for (const { lane, rows, drained, wakeups } of recorded.claims) {
      lane.ready.push(...rows);
      // Something enqueued while the batch claimed and committed may not be in what it read.
      lane.drained = drained && lane.wakeups === wakeups;
    }
    this.#afterBatch(outcomes, receipts, recorded.sending, recorded.receipts, recorded.changes);
  }

  /** Tells of what a committed batch changed, frees the slots, and settles its receipts. */
  #afterBatch(
    outcomes: Outcome[],
    receipts: PendingReceipt[],
    sending: boolean,
    recorded: ReceiptsRecorded,
    changes: StatusChange[],
  ): void {
    for (const o of outcomes) {
      this.#lanes[o.message.channel].inFlight -= 1;
      this.#held.delete(o.message);
      if ('sent' in o) for (const id of o.sent.providerIds) this.#recordedSend(id);
    }
    // Slots freed, rows claimed, or a claim the loop left to this batch (something enqueued while it
    // was being written, e.g. an SMS code): the loop looks again now, not at its next poll.
    this.#poke();
    for (const change of changes) this.#o.onStatus?.(change.message, change.status, change.reason);
    const now = Date.now();
    for (const pending of receipts) {
      if (!recorded.unknown.has(pending.of.providerId)) pending.resolve();
      else if (sending && now < pending.deadline) this.#waitForSend(pending);
      else {
        this.#unknownReceipt(pending.receipt);
        pending.resolve();
      }
    }
  }

  /** An early receipt waits until its send is recorded here, or looks again shortly. */
  #waitForSend(pending: PendingReceipt): void {
    const waiting = this.#early.get(pending.of.providerId) ?? [];
    waiting.push(pending);
    this.#early.set(pending.of.providerId, waiting);
    this.#recheckTimer ??= setTimeout(() => {
      this.#recheckTimer = undefined;
      for (const list of this.#early.values()) this.#receipts.push(...list);
      this.#early.clear();
      this.#record();
    }, earlyReceiptRecheckMs);
  }

  /** A send with this provider id is on record: receipts waiting for it go into the next batch. */
  #recordedSend(providerId: string): void {
    const waiting = this.#early.get(providerId);
    if (!waiting) return;
    this.#early.delete(providerId);
    this.#receipts.push(...waiting);
    this.#record();
  }

  #unknownReceipt(receipt: DeliveryReceipt): void {
    if (this.#unknownIds.has(receipt.providerId)) return;
    if (this.#unknownIds.size >= unknownIdsKept) this.#unknownIds.delete(this.#unknownIds.values().next().value!);
    this.#unknownIds.add(receipt.providerId);
    this.#o.log?.(
      'warn',
      `outbox: delivery receipt (${receipt.status}) for message id ${receipt.providerId}, which no message sent from here has: acknowledged and ignored (another system on the same SMPP account, or a message sent after the database's backup)`,
    );
  }
}

/**
 * Why a message that could not go in time (a gateway or relay down, its retries) is of no more use
 * to its person, if it is: it then fails unsent rather than arrive, and nobody is asked to call. One
 * withdrawn while it was being sent (the meeting was cancelled, outbox.ts's withdrawPending); a call
 * to the meeting (an invitation, reminder, new time, "we are waiting") once the meeting is
 * over; a reminder once the next, shorter one is due (reminders.ts: "tomorrow" and "in 15 minutes"
 * would arrive together after an outage); a new time the meeting was moved back from while it was
 * being sent; an SMS code once its
 * minutes from when it was made have passed (it would be refused when typed, from a text saying it
 * is valid ten minutes more).
 */
function staleness(message: ClaimedMessage, now = Date.now()): NotSentReason | undefined {
  // Withdrawn while the gateway or relay had it (a cancellation), and back to be retried.
  // (withdrawPending wrote it, one of the reasons.)
  if (typeof message.data.withdrawn === 'string') return message.data.withdrawn as NotSentReason;
  const endsAt = typeof message.data.endsAt === 'string' ? Date.parse(message.data.endsAt) : NaN;
  if (callsToMeeting.has(message.kind) && endsAt < now) return notSentReasons.over;
  const laterReminderAt =
    typeof message.data.laterReminderAt === 'string' ? Date.parse(message.data.laterReminderAt) : NaN;
  if (message.kind === 'reminder' && laterReminderAt <= now) return notSentReasons.laterReminder;
  // Moved, and moved back while the gateway had it (messages.ts's waitingNewTimes): nothing new to tell.
  if (saysNoNewTime(message)) return movedBack;
  const minutes = typeof message.data.minutes === 'number' ? message.data.minutes : NaN;
  if (message.kind === 'sms_code' && message.createdAt.getTime() + minutes * 60_000 < now)
    return notSentReasons.codeExpired;
  return undefined;
}

/** SMS first: a person may be waiting for a code. */
const laneOrder = ['sms', 'email'] as const;
const channelsOf = (lanes: Record<Channel, Lane>): Lane[] => laneOrder.map((channel) => lanes[channel]);

/** "Samverka <noreply@x>" → "noreply@x". */
export function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}

// The dispatcher: claims due outbox rows, renders them, hands them to the mail or SMS adapter,
// and records the outcome. Temporary failures retry with exponential back-off and jitter; permanent
// ones fail with the adapter's reason. A row whose sender died is claimed again when its lease runs
// out, so a crash loses nothing; the bound on duplicates is the number of messages in flight.
import type { Db } from '../db/knex.ts';
import { linkPath } from '../entry/index.ts';
import { t } from '../http/i18n.ts';
import { meetingCalendar } from './calendar.ts';
import { PermanentFailure, TemporaryFailure, type DeliveryReceipt } from './delivery.ts';
import type { MailMessage } from './mail.ts';
import {
  claim,
  markFailed,
  markRetry,
  markSent,
  recordReceipt,
  type ClaimedMessage,
  type OutboxMessage,
} from './outbox.ts';
import type { Templates } from './templates.ts';
import { textOf } from '../common/text.ts';

export interface MailChannel {
  send(message: MailMessage): Promise<{ messageId: string; response: string }>;
}

export interface SmsChannel {
  send(message: { to: string; text: string }): Promise<{ providerIds: string[] }>;
}

export interface DispatcherOptions {
  db: Db;
  dataKey: Buffer;
  publicUrl: URL;
  mailFrom: string;
  templates: Templates;
  mail: MailChannel;
  sms: SmsChannel;
  /** Messages in flight at once: the bound on duplicates after a crash. */
  concurrency?: number;
  /** How long a claim holds before another process may take the row over. */
  leaseMs?: number;
  pollMs?: number;
  maxAttempts?: number;
  /** First retry delay; doubled per attempt up to maxBackoffMs, ±20 % jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Where a message kind's secret leads, for kinds whose token opens another domain's page (an
   * evaluation request's opens the evaluation); any other secret is the way into the meeting.
   */
  secretPaths?: ReadonlyMap<string, (secret: string) => string>;
  /** Told of every status change, for the meeting page and the connection log. */
  onStatus?: (
    message: OutboxMessage | ClaimedMessage,
    status: 'sent' | 'delivered' | 'failed' | 'retrying',
    reason?: string,
  ) => void;
  log?: (level: 'warn' | 'error' | 'info', message: string) => void;
}

export function backoff(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay * (0.8 + 0.4 * random()));
}

/** How long a receipt may wait for its message's send to be recorded while SMS are being sent. */
const earlyReceiptWaitMs = 30_000;
/** How often a waiting receipt looks again (other processes record sends this one does not hear of). */
const earlyReceiptRecheckMs = 500;
/** Unknown ids remembered so that a gateway repeating a receipt is not logged again. */
const unknownIdsKept = 1000;

export class Dispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'onStatus' | 'log' | 'secretPaths'>> &
    Pick<DispatcherOptions, 'onStatus' | 'log' | 'secretPaths'>;
  #running = false;
  #inFlight = 0;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  // Receipts can overtake the write that records a message as sent: they wait here briefly, and
  // markSent wakes them.
  readonly #earlyReceipts = new Map<string, Set<() => void>>();
  readonly #unknownIds = new Set<string>();

  constructor(options: DispatcherOptions) {
    this.#o = {
      concurrency: 10,
      leaseMs: 60_000,
      pollMs: 1000,
      maxAttempts: 12,
      backoffMs: 5000,
      maxBackoffMs: 30 * 60_000,
      ...options,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops claiming, and waits for what is in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    this.notify();
    await this.#loop;
    while (this.#inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Something was enqueued or a slot freed: look again now instead of at the next poll. */
  notify(): void {
    this.#wake?.();
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.#o.concurrency - this.#inFlight;
      let claimed: ClaimedMessage[] = [];
      if (free > 0) {
        try {
          claimed = await claim(this.#o.db, this.#o.dataKey, { limit: free, leaseMs: this.#o.leaseMs });
        } catch (error) {
          this.#o.log?.('error', `outbox: cannot claim messages: ${(error as Error).message}`);
        }
      }
      for (const message of claimed) {
        this.#inFlight += 1;
        this.#deliver(message)
          .catch((error) => this.#o.log?.('error', `outbox: message ${message.id}: ${(error as Error).message}`))
          .finally(() => {
            this.#inFlight -= 1;
            this.notify();
          });
      }
      if (claimed.length === 0 || this.#inFlight >= this.#o.concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#o.pollMs);
          this.#wake = () => {
            clearTimeout(timer);
            this.#wake = null;
            resolve();
          };
        });
      }
    }
  }

  #link(message: ClaimedMessage): string | undefined {
    const base = this.#o.publicUrl.toString().replace(/\/$/, '');
    const secretPath = this.#o.secretPaths?.get(message.kind);
    if (message.secret && secretPath) return base + secretPath(message.secret);
    if (message.secret && message.kind !== 'sms_code') return base + linkPath(message.secret);
    if (typeof message.data.linkPath === 'string') return base + message.data.linkPath;
    return undefined;
  }

  async #deliver(message: ClaimedMessage): Promise<void> {
    const { db, templates } = this.#o;
    const data = {
      ...message.data,
      link: this.#link(message),
      code: message.kind === 'sms_code' ? message.secret : undefined,
    };
    try {
      if (message.channel === 'sms') {
        const text = templates.sms(message.language, message.kind, data);
        const { providerIds } = await this.#o.sms.send({ to: message.recipient, text });
        await markSent(db, message.id, { providerIds });
        this.#o.onStatus?.(message, 'sent');
        for (const id of providerIds) this.#applyEarlyReceipt(id);
      } else {
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
        await markSent(db, message.id, { providerIds: [sent.messageId], reply: sent.response });
        this.#o.onStatus?.(message, 'sent');
      }
    } catch (error) {
      await this.#failedAttempt(message, error);
    }
  }

  #calendar(message: ClaimedMessage, data: Record<string, unknown>): MailMessage['calendar'] | undefined {
    if (
      !['invitation', 'rescheduled', 'cancelled'].includes(message.kind) ||
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
      cancelled: message.kind === 'cancelled',
    });
  }

  async #failedAttempt(message: ClaimedMessage, error: unknown): Promise<void> {
    const { db } = this.#o;
    const reason = (error as Error).message ?? String(error);
    if (error instanceof PermanentFailure) {
      await markFailed(db, message.id, reason);
      this.#o.onStatus?.(message, 'failed', reason);
      return;
    }
    if (!(error instanceof TemporaryFailure)) {
      // A bug or a broken template must not lose the message: it is retried like a temporary
      // failure and the reason is logged, so a person can see and fix it.
      this.#o.log?.('error', `outbox: message ${message.id} (${message.kind}) could not be sent: ${reason}`);
    }
    if (message.attempts >= this.#o.maxAttempts) {
      const final = `gave up after ${message.attempts} attempts: ${reason}`;
      await markFailed(db, message.id, final);
      this.#o.onStatus?.(message, 'failed', final);
      return;
    }
    const next = new Date(Date.now() + backoff(message.attempts, this.#o.backoffMs, this.#o.maxBackoffMs));
    await markRetry(db, message.id, reason, next);
    this.#o.onStatus?.(message, 'retrying', reason);
  }

  /**
   * A delivery receipt from the SMS gateway: delivered, or failed with the network's reason. The
   * returned promise settles when the receipt is recorded, and only then does the SMS adapter
   * acknowledge it: a receipt is never lost with a process that dies before recording it.
   *
   * A receipt for an id no sent message has is acknowledged too (and logged once): a shared SMPP
   * account, or a database restored from a backup, brings such receipts every day, and refusing
   * them only makes the gateway send them again for ever. It can only be early, not unknown, while
   * some SMS is between the gateway's answer and its send record, so only then does it wait.
   */
  async receipt(receipt: DeliveryReceipt): Promise<void> {
    if (await this.#applyReceipt(receipt)) return; // the usual case: the send is on record
    const deadline = Date.now() + earlyReceiptWaitMs;
    for (;;) {
      // In this order: a send is recorded in the same commit that ends its "sending", so when
      // nothing is sending any more, a message with this id is already on record.
      const sending = await this.#smsSending();
      if (await this.#applyReceipt(receipt)) return;
      if (!sending || Date.now() >= deadline) {
        this.#unknownReceipt(receipt);
        return;
      }
      await this.#nextLook(receipt.providerId, Math.min(earlyReceiptRecheckMs, deadline - Date.now()));
    }
  }

  /** False when no sent message has the provider id yet; true once the receipt is recorded. */
  async #applyReceipt(receipt: DeliveryReceipt): Promise<boolean> {
    const delivered = receipt.status === 'delivered';
    const reason = delivered ? null : `${receipt.status}${receipt.error ? ` (${receipt.error})` : ''}`;
    const changed = await recordReceipt(this.#o.db, receipt.providerId, delivered ? 'delivered' : 'failed', reason);
    if (changed === 'unknown') return false;
    if (changed) this.#o.onStatus?.(changed, delivered ? 'delivered' : 'failed', reason ?? undefined);
    return true;
  }

  async #smsSending(): Promise<boolean> {
    return (await this.#o.db('outbox_messages').where({ channel: 'sms', status: 'sending' }).first('id')) !== undefined;
  }

  /** Resolves when a send with this provider id is recorded here, or after `ms`. */
  #nextLook(providerId: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.#earlyReceipts.get(providerId) ?? new Set<() => void>();
      this.#earlyReceipts.set(providerId, waiters);
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#earlyReceipts.get(providerId) === waiters)
          this.#earlyReceipts.delete(providerId);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      waiters.add(wake);
    });
  }

  #applyEarlyReceipt(providerId: string): void {
    for (const wake of [...(this.#earlyReceipts.get(providerId) ?? [])]) wake();
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

/** "Samverka <noreply@x>" → "noreply@x". */
export function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}

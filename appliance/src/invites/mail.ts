// The e-mail adapter: pooled SMTP to the hospital's relay (SMTP_URL), sender MAIL_FROM.
// It is the only file of the application that imports nodemailer. It tells the outbox what the
// relay said: its reply line on success, and on failure whether trying again can help
// (4xx, connection trouble) or not (5xx).
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import type { CalendarPart } from './calendar.ts';
import { PermanentFailure, TemporaryFailure, withCertificateHint } from './delivery.ts';

export interface MailOptions {
  /**
   * smtp://user:password@relay:587 (STARTTLS; required when there is a password) or
   * smtps://…:465 (TLS from the first byte). The relay's certificate is always verified.
   */
  url: string;
  /** CA certificates (PEM) trusted besides the system's: the hospital's own CA (TLS_CA_FILE). */
  ca?: string | undefined;
  /** e.g. "Samverka <noreply@hospital.se>". */
  from: string;
  /** Parallel connections to the relay (nodemailer's pool). */
  maxConnections?: number;
  /** Socket and greeting timeouts. */
  timeoutMs?: number;
}

export interface MailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Sent as a text/calendar alternative (with its method) and as an invite.ics attachment. */
  calendar?: CalendarPart;
}

export interface MailSent {
  /** The Message-ID header of the sent mail. */
  messageId: string;
  /** The relay's reply line, e.g. "250 2.0.0 Ok: queued as 4BbR1x". */
  response: string;
}

export interface MailState {
  /** Whether the last send or verify reached the relay. */
  reachable?: boolean;
  lastError?: string;
  lastSentAt?: Date;
}

/** The fields nodemailer puts on its errors. */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * Sorts a nodemailer error into the outbox's two kinds. A 5xx reply is the relay's final word on
 * this message; a 4xx reply, a refused or dropped connection or a timeout may pass. A refused login
 * is treated as temporary too: it is the appliance's configuration, not the message, that is wrong,
 * and the message should go once IT has fixed the password.
 */
export function classifySmtpError(error: unknown): TemporaryFailure | PermanentFailure {
  const e = error as SmtpError;
  const reply = e.response ?? e.message;
  if (e.code === 'EAUTH') return new TemporaryFailure(`the relay refused the login: ${reply}`, { cause: error });
  // TLS that cannot be set up (no STARTTLS offered, a certificate not trusted) is the configuration's
  // problem, like a refused login: the message goes once IT has fixed it.
  if (e.code === 'ETLS')
    return new TemporaryFailure(
      `TLS with the relay failed: ${withCertificateHint(e.message)}${e.response ? ` (${e.response})` : ''}`,
      { cause: error },
    );
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return new PermanentFailure(reply, { cause: error });
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return new TemporaryFailure(reply, { cause: error });
  // Nodemailer's own refusals before any SMTP exchange (no recipient, unreadable message) cannot pass later.
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return new PermanentFailure(reply, { cause: error });
  return new TemporaryFailure(`the relay could not be reached: ${withCertificateHint(reply)}`, { cause: error });
}

function transportOptions(options: MailOptions) {
  const url = new URL(options.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new Error('SMTP_URL must start with smtp:// or smtps://');
  const secure = url.protocol === 'smtps:';
  const timeout = options.timeoutMs ?? 30_000;
  return {
    pool: true as const,
    maxConnections: options.maxConnections ?? 5,
    host: url.hostname,
    port: Number(url.port || (secure ? 465 : 587)),
    secure,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    // A password never crosses the network in clear: without smtps, a relay that does not offer
    // STARTTLS is refused before the login (nodemailer would otherwise log in unencrypted).
    requireTLS: !secure && url.username !== '',
    ...(options.ca ? { tls: { ca: [...rootCertificates, options.ca] } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  };
}

/**
 * Every message is sent by the appliance, not a person: autoresponders (a guest's out-of-office, a
 * mailbox's "received") must not answer it (RFC 3834; Exchange reads its own header), or MAIL_FROM's
 * mailbox fills with replies to invitations nobody there sent.
 */
const automatic = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' };

export class MailSender {
  readonly #transport;
  readonly #from: string;
  #state: MailState = {};
  /**
   * Messages whose SMTP transaction has not begun — in the pool's queue, or on a connection still
   * opening — with what takes each back. Nothing of them has reached the relay.
   */
  readonly #waiting = new Map<AbortSignal, AbortController>();
  /** The appliance is stopping (beginClose): no new messages, and none waits for a connection. */
  #closing = false;

  constructor(options: MailOptions) {
    if (!options.from) throw new Error('the mail sender (MAIL_FROM) must be set');
    this.#from = options.from;
    this.#transport = nodemailer.createTransport(transportOptions(options));
    // The pool reads a message's stream only on a connection that is open (and logged in), just
    // before MAIL FROM: that moment ends its wait. An aborted message after it might already be
    // the relay's (nodemailer: "aborting does not prove that the server has not accepted it").
    this.#transport.use('stream', (mail, done) => {
      const { signal } = mail.data;
      const message = mail.message;
      const read = message.createReadStream.bind(message);
      message.createReadStream = (...args) => {
        if (signal) this.#waiting.delete(signal);
        return read(...args);
      };
      done();
    });
  }

  async send(message: MailMessage): Promise<MailSent> {
    if (this.#closing) throw new TemporaryFailure('the mail adapter is closed');
    const waiting = new AbortController();
    this.#waiting.set(waiting.signal, waiting);
    try {
      const info = await this.#transport.sendMail({
        signal: waiting.signal,
        from: this.#from,
        to: message.to,
        subject: message.subject,
        headers: automatic,
        text: message.text,
        html: message.html,
        ...(message.calendar
          ? {
              icalEvent: { method: message.calendar.method, filename: 'invite.ics', content: message.calendar.content },
            }
          : {}),
      });
      this.#state = { reachable: true, lastSentAt: new Date() };
      return { messageId: info.messageId, response: info.response };
    } catch (error) {
      if (waiting.signal.aborted) throw waiting.signal.reason;
      const failure = classifySmtpError(error);
      this.#state = { ...this.#state, reachable: !(failure instanceof TemporaryFailure), lastError: failure.message };
      throw failure;
    } finally {
      this.#waiting.delete(waiting.signal);
    }
  }

  /**
   * The appliance is stopping: takes no new messages, and those not yet handed to the relay (waiting
   * for a connection to open, e.g. to a relay that does not answer, for up to the connection and
   * greeting timeouts) fail temporarily now; the outbox queues them again. A message whose SMTP
   * transaction has begun finishes as always: taken back then, it might be sent twice.
   */
  beginClose(): void {
    this.#closing = true;
    const reason = this.#state.lastError ? ` (${this.#state.lastError})` : '';
    for (const waiting of this.#waiting.values())
      waiting.abort(new TemporaryFailure(`the appliance stopped before the relay took the message${reason}`));
    this.#waiting.clear();
  }

  /** Connects and logs in to the relay, for health checks; throws TemporaryFailure when it cannot. */
  async verify(): Promise<void> {
    try {
      await this.#transport.verify();
      this.#state = { ...this.#state, reachable: true };
    } catch (error) {
      const failure = classifySmtpError(error);
      this.#state = { ...this.#state, reachable: false, lastError: failure.message };
      throw failure;
    }
  }

  state(): MailState {
    return { ...this.#state };
  }

  close(): void {
    this.#transport.close();
  }
}

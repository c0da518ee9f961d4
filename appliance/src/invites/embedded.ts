// Development sinks for `npm start` without SMTP_URL / SMPP_URL: a mail sink (smtp-server) and an
// SMSC (the smpp package's server), both on loopback, keeping what they receive in memory for the
// admin "Utkorg" page. The adapters connect to them exactly as to a real relay and gateway, so a
// newcomer follows a guest's path through the same code that runs in production.
// Never used with NODE_ENV=production (config.ts requires real SMTP_URL and SMPP_URL there).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createSmppServer, type SmppPdu, type SmppSession, smppPdu } from './sms.ts';

export interface Sink<Message> {
  /** The URL to give the adapter (SMTP_URL or SMPP_URL). */
  url: string;
  /** What arrived, oldest first; at most `capacity` messages. */
  messages(): Message[];
  close(): Promise<void>;
}

export interface CapturedMail {
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  /** The calendar invitation, when the mail carried one. */
  calendar?: { method?: string; content: string };
  messageId?: string;
  receivedAt: Date;
}

export interface CapturedSms {
  from: string;
  to: string;
  /** The whole text, parts joined in order. */
  text: string;
  dataCoding: number;
  /** The message id given for each part. */
  messageIds: string[];
  receivedAt: Date;
}

/** Keeps the last `capacity` items. */
class Ring<T> {
  readonly #items: T[] = [];
  constructor(readonly capacity: number) {}
  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.capacity) this.#items.shift();
  }
  list(): T[] {
    return [...this.#items];
  }
}

function calendarOf(content: string): { method?: string; content: string } {
  const method = /^METHOD:(\w+)/m.exec(content)?.[1];
  return method ? { method, content } : { content };
}

function listen(server: {
  listen(port: number, host: string, cb: () => void): unknown;
  once(e: 'error', l: (e: Error) => void): unknown;
  address(): AddressInfo | string | null;
}): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** An SMTP sink on 127.0.0.1 and a free port: accepts every message and keeps it parsed. */
export async function startEmbeddedMailSink(options: { capacity?: number } = {}): Promise<Sink<CapturedMail>> {
  const received = new Ring<CapturedMail>(options.capacity ?? 500);
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      // mailparser is large and only this sink needs it: loaded with the first message.
      import('mailparser')
        .then(({ simpleParser }) => simpleParser(stream))
        .then((mail) => {
          const calendar =
            mail.attachments.find((a) => a.contentType === 'text/calendar') ??
            mail.attachments.find((a) => /\.ics$/i.test(a.filename ?? ''));
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: mail.subject ?? '',
            ...(mail.html ? { html: mail.html } : {}),
            ...(mail.text ? { text: mail.text } : {}),
            ...(calendar ? { calendar: calendarOf(calendar.content.toString('utf8')) } : {}),
            ...(mail.messageId ? { messageId: mail.messageId } : {}),
            receivedAt: new Date(),
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  const port = await listen(server.server);
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages: () => received.list(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface EmbeddedSmscOptions {
  capacity?: number;
  /** Delay before each submit_sm_resp, to stand in for a real gateway. */
  responseDelayMs?: number;
  /** Delay before the DELIVRD receipt. */
  receiptDelayMs?: number;
}

/**
 * An SMSC on 127.0.0.1 and a free port: binds the one system id in its URL, answers submit_sm with
 * a message id, joins concatenated parts, and sends a DELIVRD receipt when one is requested.
 */
export async function startEmbeddedSmsc(options: EmbeddedSmscOptions = {}): Promise<Sink<CapturedSms>> {
  const received = new Ring<CapturedSms>(options.capacity ?? 500);
  const password = randomBytes(4).toString('hex');
  const systemId = 'samverka';
  let nextId = 100_000;
  /**
   * Parts of concatenated messages still waiting for their siblings, by sender, recipient and
   * reference: each part's text and id by its index (a part sent again, after an answer that was
   * lost, takes its place once: the message is whole when every index has come).
   */
  const partial = new Map<string, { parts: (string | undefined)[]; ids: (string | undefined)[] }>();

  const capture = (pdu: SmppPdu, id: string): void => {
    const from = String(pdu.source_addr);
    const to = String(pdu.destination_addr);
    const dataCoding = Number(pdu.data_coding ?? 0);
    const message = pdu.short_message as { udh?: Buffer[]; message?: string | Buffer } | Buffer;
    const text = Buffer.isBuffer(message)
      ? message.toString('latin1')
      : typeof message.message === 'string'
        ? message.message
        : String(message.message ?? '');
    const concat = Buffer.isBuffer(message) ? undefined : message.udh?.find((ie) => ie[0] === 0 && ie[1] === 3);
    // A concatenation header too short to say which part this is, or naming a part the message
    // cannot have: kept as a message of its own.
    const [, , reference, count, index] = concat ?? [];
    if (count === undefined || index === undefined || index < 1 || index > count) {
      received.push({ from, to, text, dataCoding, messageIds: [id], receivedAt: new Date() });
      return;
    }
    const key = `${from}|${to}|${reference}|${count}`;
    const entry = partial.get(key) ?? {
      parts: new Array<string | undefined>(count).fill(undefined),
      ids: new Array<string | undefined>(count).fill(undefined),
    };
    entry.parts[index - 1] = text;
    entry.ids[index - 1] = id;
    partial.set(key, entry);
    if (entry.ids.includes(undefined)) return;
    partial.delete(key);
    received.push({
      from,
      to,
      text: entry.parts.join(''),
      dataCoding,
      messageIds: entry.ids as string[],
      receivedAt: new Date(),
    });
  };

  const receipt = (session: SmppSession, pdu: SmppPdu, id: string): void => {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(2, 12);
    session.send(
      smppPdu('deliver_sm', {
        source_addr_ton: pdu.dest_addr_ton,
        source_addr_npi: pdu.dest_addr_npi,
        source_addr: pdu.destination_addr,
        destination_addr: pdu.source_addr,
        esm_class: 0x04,
        data_coding: 0,
        short_message: `id:${id} sub:001 dlvrd:001 submit date:${stamp} done date:${stamp} stat:DELIVRD err:000 text:`,
        receipted_message_id: id,
        message_state: 2,
      }),
    );
  };

  const server = createSmppServer((session) => {
    let bound = false;
    session.socket.setNoDelay(true);
    session.on('error', () => undefined);
    session.on('bind_transceiver', (pdu: SmppPdu) => {
      bound = pdu.system_id === systemId && pdu.password === password;
      session.send(pdu.response({ command_status: bound ? 0 : 0x0e, system_id: 'samverka-dev-smsc' }));
      if (!bound) session.close();
    });
    session.on('enquire_link', (pdu: SmppPdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: SmppPdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: SmppPdu) => {
      if (!bound) {
        session.send(pdu.response({ command_status: 0x04 }));
        return;
      }
      const id = String(nextId++);
      const answer = (): void => {
        capture(pdu, id);
        session.send(pdu.response({ message_id: id }));
        if ((Number(pdu.registered_delivery) & 0x01) !== 0) {
          if (options.receiptDelayMs) setTimeout(() => receipt(session, pdu, id), options.receiptDelayMs);
          else receipt(session, pdu, id);
        }
      };
      if (options.responseDelayMs) setTimeout(answer, options.responseDelayMs);
      else answer();
    });
  });
  const port = await listen(server);
  return {
    url: `smpp://${systemId}:${password}@127.0.0.1:${port}`,
    messages: () => received.list(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of [...server.sessions]) session.destroy();
        server.close(() => resolve());
      }),
  };
}

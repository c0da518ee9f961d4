// The SMS adapter: an SMPP 3.4 ESME (client) for the hospital's SMS gateway.
// The smpp package only speaks the protocol ("the rest is entirely up to you", its maintainer),
// so this file adds what a well-behaved ESME does: one transceiver bind kept alive with
// enquire_link and re-bound with back-off, a send window, a per-PDU response timeout, a rate
// limit the gateway never sees exceeded, the right data_coding, concatenation, and receipts.
// It is the only file of the application that imports `smpp`.
import { createHash, randomInt } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import smpp from 'smpp';
import {
  type DeliveryReceipt,
  PartlySent,
  type PartsOnRecord,
  PermanentFailure,
  type ReceiptStatus,
  TemporaryFailure,
  withCertificateHint,
} from './delivery.ts';
import { concatenationUdh, encodeSms } from './gsm.ts';
import { textOf } from '../common/text.ts';
import { must } from '../common/must.ts';

/** An SMPP PDU's header: command_length, command_id, command_status, sequence_number. */
const HEADER_OCTETS = 16;

// The smpp package reads a PDU's command_length and then waits for that many octets less four.
// It refuses a length above its maximum but not one shorter than the header: with 4 or less it
// waits for ever for a rest of no octets (the link reads nothing more and only the keep-alive,
// 30 s or more later, finds out), and with 0 it takes the next octets for the next length. A
// gateway that sends such a PDU is broken or out of step; the link is of no more use, so the
// length is refused here like the package refuses a long one: the session's 'error' drops the link
// and binds afresh. (Set once on the package's PDU class; the development SMSC reads through it too.)
const readCommandLength = smpp.PDU.commandLength.bind(smpp.PDU);
smpp.PDU.commandLength = (stream) => {
  const length = readCommandLength(stream);
  if (length !== false && length < HEADER_OCTETS)
    throw new Error(`PDU length ${length} is shorter than the ${HEADER_OCTETS}-octet header`);
  return length;
};

export type SmppSession = smpp.Session;
export type SmppPdu = smpp.PDU;
export type SmppServer = smpp.Server;

/** The smpp package's server, for the development SMSC (embedded.ts); not used in production. */
export function createSmppServer(onSession: (session: SmppSession) => void): SmppServer {
  return smpp.createServer({}, onSession);
}

/** Builds a PDU of the smpp package, for the development SMSC's receipts. */
export function smppPdu(command: string, fields: Record<string, unknown>): SmppPdu {
  return new smpp.PDU(command, fields);
}

/** How the gateway writes message ids: in submit_sm_resp and in the receipts it sends later. */
export type IdRadix = 'hex' | 'decimal';

/** SMPP_MESSAGE_IDS as the adapter's option: `hex-decimal` is hex in submit_sm_resp and decimal in receipts. */
export function messageIdsOption(setting: 'auto' | IdRadix | `${IdRadix}-${IdRadix}`): SmsOptions['messageIds'] {
  if (setting === 'auto') return 'auto';
  const [submit, receipt = submit] = setting.split('-') as [IdRadix, IdRadix?];
  return { submit, receipt };
}

export interface SmsOptions {
  /** smpp://system_id:password@host:port (ssmpp:// for TLS; the gateway's certificate is always verified). */
  url: string;
  /** CA certificates (PEM) trusted besides the system's: the hospital's own CA (TLS_CA_FILE). */
  ca?: string | undefined;
  /** Alphanumeric sender id (at most 11 characters) or a number in international form. */
  sender: string;
  /** Message parts per second the gateway accepts; never exceeded in any one-second interval. */
  throttle: number;
  /** Outstanding submit_sm without a response (Kannel's default is 10). */
  window?: number;
  /** How long a PDU may wait for its response before it counts as lost. */
  responseTimeoutMs?: number;
  /** Keep-alive period while bound. */
  enquireLinkMs?: number;
  /** How long all sending stops after ESME_RTHROTTLED. */
  throttledPauseMs?: number;
  /** Extra spacing added to each rate interval, for a gateway that counts at some later stage than reading the PDU. */
  rateMarginMs?: number;
  /** Back-off between reconnect attempts: doubles from min to max, with jitter. */
  reconnect?: { minMs: number; maxMs: number };
  /** How long a message waits for a bound link before it fails temporarily (the outbox retries it). */
  queueTimeoutMs?: number;
  /**
   * How long the parts of a long text the gateway took are remembered for a retry that sends only
   * the rest (a handset keeps the parts it has for a while, waiting for the others).
   */
  partsKeptMs?: number;
  /**
   * How the gateway writes message ids. 'auto' reads an id with a letter a–f as hexadecimal and an
   * id of digits only as decimal; name the radixes when the gateway sends hex ids of digits only.
   */
  messageIds?: 'auto' | { submit: IdRadix; receipt: IdRadix };
  systemType?: string;
  /** Told of each receipt; the receipt is acknowledged to the gateway once the promise settles. */
  onReceipt?: (receipt: DeliveryReceipt) => unknown;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface SmsMessage {
  /** Destination in E.164, e.g. +46701234567. */
  to: string;
  text: string;
  /**
   * Which message this is (the outbox's id), the same on every attempt: a long text the gateway
   * took only some parts of goes again as the parts still missing, under the same reference.
   */
  key?: string;
  /**
   * What an earlier attempt got the gateway to take, as the outbox kept it (PartlySent): after a
   * restart this process remembers nothing of it. Used only for the same text to the same number,
   * within partsKeptMs.
   */
  partsTaken?: PartsOnRecord | undefined;
}

/** The digest a record of parts taken is kept under: the number and the text they were cut from. */
function partsDigest(destination: string, text: string): string {
  return createHash('sha256').update(`${destination}\n${text}`).digest('base64url');
}

export interface SmsState {
  bound: boolean;
  window: { inUse: number; size: number };
  queued: number;
  /** Set while ESME_RTHROTTLED holds all sending. */
  pausedUntil?: Date;
  lastReceiptAt?: Date;
  lastError?: string;
  /** While a link that was bound is down: since when, and why it was lost. */
  down?: { since: Date; reason?: string };
  /** The last time the link was lost and bound again, and why it was lost. */
  lastOutage?: { from: Date; to: Date; reason?: string };
}

/**
 * The link as /health/ready reports it. The last gap stays visible after the rebind, so a link that
 * drops now and then shows even when the check happens to run while it is bound.
 */
export function linkHealth(state: SmsState): { ok: boolean; detail: string } {
  if (state.bound) {
    const paused = state.pausedUntil ? `, throttled until ${state.pausedUntil.toISOString()}` : '';
    const gap = state.lastOutage
      ? `; link lost at ${state.lastOutage.from.toISOString()}${state.lastOutage.reason ? ` (${state.lastOutage.reason})` : ''}, bound again at ${state.lastOutage.to.toISOString()}`
      : '';
    return { ok: true, detail: `bound; window ${state.window.inUse}/${state.window.size}${paused}${gap}` };
  }
  const down = state.down
    ? ` since ${state.down.since.toISOString()}${state.down.reason ? ` (link lost: ${state.down.reason})` : ''}`
    : '';
  const last = state.lastError && state.lastError !== state.down?.reason ? `: ${state.lastError}` : '';
  return { ok: false, detail: `not bound to the SMPP gateway${down}${last}` };
}

/** SMPP 3.4 command status names, with what they mean to a person reading a failed message. */
const statusMeaning: Record<string, string> = {
  ESME_RINVMSGLEN: 'message too long',
  ESME_RINVCMDLEN: 'invalid command length',
  ESME_RINVCMDID: 'invalid command',
  ESME_RINVBNDSTS: 'not bound for sending',
  ESME_RALYBND: 'already bound',
  ESME_RINVPRTFLG: 'invalid priority flag',
  ESME_RINVREGDLVFLG: 'invalid registered delivery flag',
  ESME_RSYSERR: 'system error in the gateway',
  ESME_RINVSRCADR: 'invalid sender address',
  ESME_RINVDSTADR: 'invalid destination address',
  ESME_RINVMSGID: 'invalid message id',
  ESME_RBINDFAIL: 'bind failed',
  ESME_RINVPASWD: 'wrong password',
  ESME_RINVSYSID: 'unknown system id',
  ESME_RMSGQFUL: 'message queue full',
  ESME_RINVSERTYP: 'invalid service type',
  ESME_RINVESMCLASS: 'invalid esm_class',
  ESME_RSUBMITFAIL: 'submit failed',
  ESME_RINVSRCTON: 'invalid sender type of number',
  ESME_RINVSRCNPI: 'invalid sender numbering plan',
  ESME_RINVDSTTON: 'invalid destination type of number',
  ESME_RINVDSTNPI: 'invalid destination numbering plan',
  ESME_RINVSYSTYP: 'invalid system type',
  ESME_RTHROTTLED: 'throttled: sending too fast',
  ESME_RINVSCHED: 'invalid scheduled delivery time',
  ESME_RINVEXPIRY: 'invalid validity period',
  ESME_RX_T_APPN: 'temporary error in the receiving application',
  ESME_RX_P_APPN: 'permanent error in the receiving application',
  ESME_RX_R_APPN: 'message rejected by the receiving application',
  ESME_RINVTLVSTREAM: 'invalid optional parameters',
  ESME_RDELIVERYFAILURE: 'delivery failed',
  ESME_RUNKNOWNERR: 'unknown error',
  ESME_RSERTYPUNAUTH: 'service type not authorised',
  ESME_RPROHIBITED: 'prohibited',
  ESME_RINVDCS: 'invalid data coding',
};

const statusName = new Map(Object.entries(smpp.errors).map(([name, value]) => [value, name]));

/** "ESME_RINVDSTADR (invalid destination address)", or the number when the status is not standard. */
export function describeStatus(status: number): string {
  const name = statusName.get(status);
  if (!name) return `command status 0x${status.toString(16).padStart(8, '0')}`;
  const meaning = statusMeaning[name];
  return meaning ? `${name} (${meaning})` : name;
}

const THROTTLED = smpp.errors.ESME_RTHROTTLED;
/** Statuses that say "not now" about the gateway rather than "never" about the message. */
const TEMPORARY = new Set([smpp.errors.ESME_RMSGQFUL, smpp.errors.ESME_RSYSERR, smpp.errors.ESME_RX_T_APPN]);
/** "Not bound": about the link, not the message (ESME_RINVBNDSTS). */
const UNBOUND = smpp.errors.ESME_RINVBNDSTS;

/**
 * One canonical form for a message id, whichever radix the gateway used: the number in decimal,
 * without leading zeros (so ids of gateways that use decimal throughout stay as they are). Ids that
 * are not numbers (e.g. UUIDs) are kept as text, lowercased. The gateway may answer submit_sm in
 * hex and write the receipt in decimal, or the other way round; both go through here so they match.
 */
export function normaliseMessageId(id: string, radix: IdRadix | 'auto' = 'auto'): string {
  const text = id.trim().toLowerCase();
  const effective = radix === 'auto' ? (/^[0-9]+$/.test(text) ? 'decimal' : 'hex') : radix;
  if (effective === 'decimal' && /^[0-9]+$/.test(text)) return BigInt(text).toString(10);
  if (effective === 'hex' && /^[0-9a-f]+$/.test(text)) return BigInt(`0x${text}`).toString(10);
  return text;
}

// ENROUTE and ACCEPTD say the message is on its way (handed on to the operator) rather than how it
// ended: gateways and aggregators send them before the final receipt, and Kannel counts both as
// buffered. Taking them for failures would send an e-mail in place of an SMS that then arrives.
const receiptStatus: Record<string, ReceiptStatus> = {
  ENROUTE: 'pending',
  ACCEPTD: 'pending',
  DELIVRD: 'delivered',
  UNDELIV: 'undeliverable',
  EXPIRED: 'expired',
  REJECTD: 'rejected',
  DELETED: 'deleted',
};

/** SMPP 3.4 message_state TLV values, for gateways that send the state only as a TLV. */
const messageState: Record<number, ReceiptStatus> = {
  1: 'pending',
  2: 'delivered',
  3: 'expired',
  4: 'deleted',
  5: 'undeliverable',
  6: 'pending',
  8: 'rejected',
};

/** Parses a delivery receipt (SMPP 3.4 appendix B: "id:… sub:… dlvrd:… stat:DELIVRD err:000 text:…"). */
export function parseReceipt(
  text: string,
  tlvs: { receiptedMessageId?: string; messageState?: number } = {},
): { id: string; stat?: string; status: ReceiptStatus; error?: string } | undefined {
  const id = tlvs.receiptedMessageId ?? /\bid:(\S+)/i.exec(text)?.[1];
  if (!id) return undefined;
  const stat = /\bstat:(\w+)/i.exec(text)?.[1]?.toUpperCase();
  const err = /\berr:(\w+)/i.exec(text)?.[1];
  const status =
    (stat ? receiptStatus[stat] : undefined) ??
    (tlvs.messageState !== undefined ? messageState[tlvs.messageState] : undefined) ??
    'unknown';
  const failed = status !== 'delivered' && status !== 'pending' && status !== 'unknown';
  return { id, stat, status, ...(failed && err ? { error: `${stat ?? 'state'} err:${err}` } : {}) };
}

/** SMPP source address fields: alphanumeric (TON 5, NPI 0) unless the sender is a number. */
export function sourceAddress(sender: string): {
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string;
} {
  if (/^\+?[0-9]+$/.test(sender))
    return { source_addr_ton: 1, source_addr_npi: 1, source_addr: sender.replace(/^\+/, '') };
  return { source_addr_ton: 5, source_addr_npi: 0, source_addr: sender };
}

/** One part of a message on its way to the gateway. */
interface Part {
  /** Order of arrival, so parts re-queued after ESME_RTHROTTLED keep their order. */
  order: number;
  fields: Record<string, unknown>;
  throttledAttempts: number;
  resolve(id: string): void;
  reject(error: Error): void;
  queueTimer?: NodeJS.Timeout;
}

/**
 * One part's place in the rate limit. The gateway read the part at some moment between our write
 * and the arrival of its response, so the response time (or the time we gave up on it) is the
 * latest moment the gateway can have counted it; until then it is unknown (Infinity).
 */
interface RateSlot {
  countedBy: number;
}

interface Outstanding {
  part: Part;
  timer: NodeJS.Timeout;
  slot: RateSlot;
}

/**
 * A long text some of whose parts the gateway has taken, by its key: a retry sends only the parts
 * still missing, under the same reference, so the handset joins them to those it has instead of
 * showing the first part twice (a new reference would start another message).
 */
interface PartsTaken {
  /** The number and the text the parts were cut from (partsDigest), as the outbox keeps it too. */
  digest: string;
  reference: number;
  /** The gateway's id of each part it took, by index (undefined: still to go). */
  ids: (string | undefined)[];
  /** When the first attempt began (ms since the epoch: kept with the outbox row across a restart). */
  since: number;
  /** An attempt is under way: its parts' receipts wait for its outcome (`receipts`). */
  sending: boolean;
  /**
   * Receipts for parts taken while an attempt runs, held until it ends: before that neither its send
   * nor its parts are on record, and the outbox would take such a receipt for another system's and
   * drop it. Each keeps its answer to the gateway (acknowledged once recorded, as any receipt). Sent
   * whole, they go on with the send; partly sent, they go on with the parts the outbox now keeps
   * (outbox_provider_ids), and so does any receipt of those parts until the next attempt: they
   * outlive a restart there.
   */
  receipts: { receipt: DeliveryReceipt; answer?: ((status: number) => void) | undefined }[];
}

/** Long texts remembered at most (the oldest is forgotten first; its retry then sends every part). */
const PARTS_TAKEN_KEPT = 1000;

/** How many ESME_RTHROTTLED answers one part may get before the outbox is asked to retry it later. */
const MAX_THROTTLED_ATTEMPTS = 20;

export class SmsSender {
  readonly #url: URL;
  readonly #options: Required<Omit<SmsOptions, 'onReceipt' | 'log' | 'systemType' | 'ca'>> &
    Pick<SmsOptions, 'onReceipt' | 'log' | 'ca'>;
  readonly #systemType: string;
  readonly #source: ReturnType<typeof sourceAddress>;
  /** At most this many parts in any rate interval… */
  readonly #rateCount: number;
  /** …of this many milliseconds. */
  readonly #ratePeriodMs: number;

  #session: SmppSession | undefined;
  #bound = false;
  #closed = false;
  /** The appliance is stopping (beginClose): no new messages, and none waits for a link. */
  #closing = false;
  #reconnectDelay: number;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #enquireTimer: NodeJS.Timeout | undefined;
  #pumpTimer: NodeJS.Timeout | undefined;
  #pausedUntil = 0;
  #lastReceiptAt: Date | undefined;
  #lastError: string | undefined;
  #down: SmsState['down'];
  #lastOutage: SmsState['lastOutage'];
  #order = 0;
  #reference = randomInt(256);
  readonly #queue: Part[] = [];
  readonly #outstanding = new Map<number, Outstanding>();
  /** The last #rateCount parts sent, as a ring: the slot at #partsSent % #rateCount is the oldest. */
  readonly #rateSlots: RateSlot[] = [];
  #partsSent = 0;
  /** Long texts being sent or partly sent, by key, and by the gateway's id of each part taken. */
  readonly #partsTaken = new Map<string, PartsTaken>();
  readonly #partsTakenById = new Map<string, PartsTaken>();

  constructor(options: SmsOptions) {
    this.#url = new URL(options.url);
    if (this.#url.protocol !== 'smpp:' && this.#url.protocol !== 'ssmpp:')
      throw new Error('SMPP_URL must start with smpp:// or ssmpp://');
    if (!(options.throttle > 0)) throw new Error('the SMS throttle must be a positive number of messages per second');
    if (!options.sender) throw new Error('the SMS sender must be set');
    this.#options = {
      window: 10,
      responseTimeoutMs: 10_000,
      enquireLinkMs: 30_000,
      throttledPauseMs: 5_000,
      rateMarginMs: 0,
      reconnect: { minMs: 500, maxMs: 30_000 },
      queueTimeoutMs: 60_000,
      partsKeptMs: 24 * 3_600_000,
      messageIds: 'auto',
      ...options,
    };
    if (!Number.isInteger(this.#options.window) || this.#options.window < 1)
      throw new Error('the SMS window must be a whole number ≥ 1');
    this.#systemType = options.systemType ?? '';
    this.#source = sourceAddress(options.sender);
    // A fractional throttle below 1 becomes one part per 1/throttle seconds; above 1 it is
    // rounded down, so the gateway's limit holds in every one-second interval.
    this.#rateCount = Math.max(1, Math.floor(options.throttle));
    this.#ratePeriodMs = options.throttle >= 1 ? 1000 : 1000 / options.throttle;
    this.#reconnectDelay = this.#options.reconnect.minMs;
    this.#connect();
  }

  /**
   * Sends one text to one number; resolves with the gateway's id of each part once every part is
   * accepted. Rejects with PermanentFailure (the status name) or TemporaryFailure (retry later).
   */
  async send(message: SmsMessage): Promise<{ providerIds: string[] }> {
    if (this.#closed || this.#closing) throw new TemporaryFailure('the SMS adapter is closed');
    const destination = message.to.replace(/[\s-]/g, '');
    if (!/^\+?[1-9][0-9]{6,14}$/.test(destination)) {
      throw new PermanentFailure(
        `${message.to} is not a mobile number in international form (E.164, e.g. +46701234567)`,
      );
    }
    const encoded = encodeSms(message.text);
    if (encoded.parts.length > 255)
      throw new PermanentFailure(`the text is too long for one SMS (${encoded.parts.length} parts, at most 255)`);
    const count = encoded.parts.length;
    const taken =
      count > 1 && message.key
        ? this.#takenBefore(message.key, destination, message.text, count, message.partsTaken)
        : undefined;
    const reference = taken?.reference ?? this.#nextReference();
    if (taken) taken.sending = true;
    const common = {
      service_type: this.#systemType,
      ...this.#source,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: destination.replace(/^\+/, ''),
      registered_delivery: 1,
      // Always explicit: left unset, the smpp package guesses ASCII or Latin-1 from the text.
      data_coding: encoded.dataCoding,
    };
    const results = await Promise.allSettled(
      encoded.parts.map((octets, i) => {
        const takenId = taken?.ids[i];
        if (takenId !== undefined) return Promise.resolve(takenId);
        const fields =
          count === 1
            ? { ...common, esm_class: 0, short_message: octets }
            : {
                ...common,
                esm_class: 0x40,
                short_message: { udh: concatenationUdh(reference, count, i + 1), message: octets },
              };
        // Noted as the gateway answers, not once the promise settles: its receipt may be read in
        // the same turn, before any continuation runs.
        return this.#enqueue(fields, taken ? (id) => this.#partTaken(taken, i, id) : undefined);
      }),
    );
    if (taken) taken.sending = false;
    const failures = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as Error);
    const permanent = failures.find((e) => e instanceof PermanentFailure);
    const [failure] = failures;
    if (taken && (permanent || !failure || taken.ids.every((id) => id === undefined))) {
      this.#forget(taken, message.key!);
      // Sent whole: the receipts held for its parts go on now, and wait in the outbox for its send record.
      if (!failure) for (const { receipt, answer } of taken.receipts) this.#tell(receipt, answer);
      else for (const { answer } of taken.receipts) answer?.(0);
    } else if (taken) {
      // Partly sent: the outbox records the parts taken with the retry, and their receipts with them.
      for (const { receipt, answer } of taken.receipts.splice(0)) this.#tell(receipt, answer);
    }
    if (permanent) throw permanent;
    if (failure && taken && taken.ids.some((id) => id !== undefined))
      throw new PartlySent(failure.message, this.#onRecord(taken), { cause: failure });
    if (failure)
      throw failure instanceof TemporaryFailure ? failure : new TemporaryFailure(failure.message, { cause: failure });
    return { providerIds: results.map((r) => (r as PromiseFulfilledResult<string>).value) };
  }

  /**
   * What an earlier attempt at this long text got the gateway to take, for this attempt to go on
   * from; a fresh record when there was none, or when it no longer fits (another text or number, or
   * kept too long for the handset still to hold the parts).
   */
  #takenBefore(
    key: string,
    destination: string,
    text: string,
    count: number,
    onRecord: PartsOnRecord | undefined,
  ): PartsTaken {
    const digest = partsDigest(destination, text);
    // One rule for what this process remembers and what the outbox kept: the same text to the same
    // number, cut into as many parts, and recent enough for the handset still to hold them.
    const fits = (taken: { digest: string; ids: unknown[]; since: number } | undefined) =>
      taken !== undefined &&
      taken.digest === digest &&
      taken.ids.length === count &&
      Date.now() - taken.since < this.#options.partsKeptMs;
    const before = this.#partsTaken.get(key);
    if (before && fits(before)) return before;
    if (before) this.#forget(before, key);
    const kept = fits(onRecord) ? onRecord : undefined;
    if (this.#partsTaken.size >= PARTS_TAKEN_KEPT) {
      const [oldestKey, oldest] = this.#partsTaken.entries().next().value!;
      this.#forget(oldest, oldestKey);
    }
    // What the outbox kept of an attempt this process does not remember (it started since): the
    // parts taken go on under their reference; their receipts, if they come again, wait here too.
    const fresh: PartsTaken = kept
      ? {
          digest,
          reference: kept.reference & 0xff,
          ids: kept.ids.map((id) => id ?? undefined),
          since: kept.since,
          sending: false,
          receipts: [],
        }
      : {
          digest,
          reference: this.#nextReference(),
          ids: Array.from({ length: count }, () => undefined),
          since: Date.now(),
          sending: false,
          receipts: [],
        };
    this.#partsTaken.set(key, fresh);
    for (const id of fresh.ids) if (id !== undefined) this.#partsTakenById.set(id, fresh);
    return fresh;
  }

  /** A long text's parts taken, as the outbox keeps them with its row until the next attempt. */
  #onRecord(taken: PartsTaken): PartsOnRecord {
    return {
      reference: taken.reference,
      ids: taken.ids.map((id) => id ?? null),
      digest: taken.digest,
      since: taken.since,
    };
  }

  /**
   * Tells the outbox of a receipt and answers the gateway once it is recorded (a temporary error if
   * it could not be: the gateway sends it again). Without `answer` the gateway had its answer already.
   */
  #tell(receipt: DeliveryReceipt, answer?: (status: number) => void): void {
    Promise.resolve(this.#options.onReceipt?.(receipt)).then(
      () => answer?.(0),
      (error: Error) => {
        this.#options.log?.(
          'warn',
          `a delivery receipt (${receipt.providerId}) could not be recorded (${error.message})${answer ? ': the gateway will send it again' : ''}`,
        );
        answer?.(0x64); // ESME_RX_T_APPN: temporary application error
      },
    );
  }

  #partTaken(taken: PartsTaken, index: number, id: string): void {
    taken.ids[index] = id;
    this.#partsTakenById.set(id, taken);
  }

  #forget(taken: PartsTaken, key: string): void {
    if (this.#partsTaken.get(key) === taken) this.#partsTaken.delete(key);
    for (const id of taken.ids) if (id !== undefined) this.#partsTakenById.delete(id);
  }

  state(): SmsState {
    return {
      bound: this.#bound,
      window: { inUse: this.#outstanding.size, size: this.#options.window },
      queued: this.#queue.length,
      ...(this.#pausedUntil > performance.now()
        ? { pausedUntil: new Date(Date.now() + this.#pausedUntil - performance.now()) }
        : {}),
      ...(this.#lastReceiptAt ? { lastReceiptAt: this.#lastReceiptAt } : {}),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      ...(this.#down ? { down: this.#down } : {}),
      ...(this.#lastOutage ? { lastOutage: this.#lastOutage } : {}),
    };
  }

  /**
   * The appliance is stopping: takes no new messages, and those waiting for a link fail temporarily
   * now (the outbox queues them again), and so do any left waiting if the link is lost from here on.
   * A stop must not wait out queueTimeoutMs for a gateway that is down. While the link is bound the
   * queue goes on: those parts only wait for the window or the rate limit, and failing one part of a
   * long text would send its other parts twice. Parts the gateway has get their answer or their
   * response timeout, as always: failing them early would send them twice.
   */
  beginClose(): void {
    this.#closing = true;
    if (!this.#bound) this.#failWaiting();
  }

  #failWaiting(): void {
    for (const part of this.#queue.splice(0))
      this.#fail(
        part,
        new TemporaryFailure(
          `the appliance stopped while the SMPP link was down${this.#lastError ? ` (${this.#lastError})` : ''}`,
        ),
      );
  }

  /** Unbinds and closes the link; queued and outstanding messages fail temporarily (the outbox keeps them). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#pumpTimer);
    clearInterval(this.#enquireTimer);
    for (const part of this.#queue.splice(0))
      this.#fail(part, new TemporaryFailure('the SMS adapter was closed before the message was sent'));
    const session = this.#session;
    if (!session) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => session.destroy(), 2000);
      session.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (!this.#bound || !session.send(new smpp.PDU('unbind', {}), () => session.close())) session.destroy();
    });
  }

  #nextReference(): number {
    this.#reference = (this.#reference + 1) % 256;
    return this.#reference;
  }

  #enqueue(fields: Record<string, unknown>, onTaken?: (id: string) => void): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const part: Part = {
        order: this.#order++,
        fields,
        throttledAttempts: 0,
        resolve: (id) => {
          onTaken?.(id);
          resolve(id);
        },
        reject,
      };
      part.queueTimer = setTimeout(() => {
        const index = this.#queue.indexOf(part);
        if (index < 0) return;
        this.#queue.splice(index, 1);
        reject(
          new TemporaryFailure(
            `no SMPP link to the gateway for ${this.#options.queueTimeoutMs} ms${this.#lastError ? `: ${this.#lastError}` : ''}`,
          ),
        );
      }, this.#options.queueTimeoutMs);
      this.#queue.push(part);
      this.#pump();
    });
  }

  #fail(part: Part, error: Error): void {
    clearTimeout(part.queueTimer);
    part.reject(error);
  }

  /** Puts a part back in its place in the queue (after ESME_RTHROTTLED). */
  #requeue(part: Part): void {
    const index = this.#queue.findIndex((p) => p.order > part.order);
    if (index < 0) this.#queue.push(part);
    else this.#queue.splice(index, 0, part);
  }

  /**
   * Earliest time (performance.now) the rate limit lets the next part go: a full period after the
   * gateway has certainly counted the part #rateCount places back. Measured from that part's
   * response rather than from our write, the limit holds at the gateway however long the parts
   * took to get there (a busy event loop or a slow network can bunch writes together on arrival).
   * Infinity while that part is unanswered: its response calls #pump again.
   */
  #rateReadyAt(): number {
    if (this.#partsSent < this.#rateCount) return 0;
    const slot = must(this.#rateSlots[this.#partsSent % this.#rateCount], 'the rate slot of a part already sent');
    return slot.countedBy + this.#ratePeriodMs + this.#options.rateMarginMs;
  }

  /**
   * Sends queued parts while the link is bound, the window has room, and neither the pause nor the
   * rate limit holds.
   */
  #pump(): void {
    if (this.#pumpTimer) return;
    while (this.#bound && this.#queue.length > 0 && this.#outstanding.size < this.#options.window) {
      const now = performance.now();
      const readyAt = Math.max(this.#pausedUntil, this.#rateReadyAt());
      if (readyAt === Infinity) return;
      if (readyAt > now) {
        this.#pumpTimer = setTimeout(
          () => {
            this.#pumpTimer = undefined;
            this.#pump();
          },
          Math.ceil(readyAt - now),
        );
        return;
      }
      const part = this.#queue.shift()!;
      if (!this.#submit(part)) {
        this.#queue.unshift(part);
        return;
      }
    }
  }

  /**
   * Holds the link's writes until the current burst of work is done (process.nextTick): the PDUs a
   * pump sends, or the receipts a batch has just recorded, go out in one write instead of one
   * system call each.
   */
  #corked(session: SmppSession): SmppSession {
    if (session.socket.writableCorked === 0) {
      session.socket.cork();
      process.nextTick(() => session.socket.uncork());
    }
    return session;
  }

  #submit(part: Part): boolean {
    const session = this.#corked(this.#session!);
    // A fresh PDU each attempt: the package encodes short_message into the PDU object it sends.
    const pdu = new smpp.PDU('submit_sm', { ...part.fields });
    const sent = session.send(pdu, (response) => this.#onResponse(pdu.sequence_number, response));
    if (!sent) return false;
    clearTimeout(part.queueTimer);
    const slot: RateSlot = { countedBy: Infinity };
    this.#rateSlots[this.#partsSent % this.#rateCount] = slot;
    this.#partsSent += 1;
    const timer = setTimeout(() => {
      if (!this.#outstanding.delete(pdu.sequence_number)) return;
      slot.countedBy = performance.now();
      this.#lastError = `no submit_sm_resp within ${this.#options.responseTimeoutMs} ms`;
      // The gateway may still have taken it; the outbox's retry is the bounded duplicate.
      part.reject(new TemporaryFailure(this.#lastError));
      this.#pump();
    }, this.#options.responseTimeoutMs);
    this.#outstanding.set(pdu.sequence_number, { part, timer, slot });
    return true;
  }

  #onResponse(sequence: number, response: SmppPdu): void {
    const entry = this.#outstanding.get(sequence);
    if (!entry) return; // answered after its timeout: already failed temporarily
    this.#outstanding.delete(sequence);
    clearTimeout(entry.timer);
    entry.slot.countedBy = performance.now();
    const { part } = entry;
    const status = response.command_status;
    if (status === 0 && response.command === 'submit_sm_resp') {
      part.resolve(normaliseMessageId(textOf(response.message_id), this.#submitRadix()));
    } else if (status === THROTTLED) {
      // The gateway's own limit is lower than ours: stop everything for a while, then resend.
      this.#pausedUntil = performance.now() + this.#options.throttledPauseMs;
      this.#lastError = describeStatus(status);
      part.throttledAttempts += 1;
      if (part.throttledAttempts >= MAX_THROTTLED_ATTEMPTS) part.reject(new TemporaryFailure(describeStatus(status)));
      else this.#requeue(part);
      this.#options.log?.(
        'warn',
        `SMS gateway answered ${describeStatus(status)}: pausing all sending for ${this.#options.throttledPauseMs} ms`,
      );
    } else if (TEMPORARY.has(status) || status === UNBOUND) {
      this.#lastError = describeStatus(status);
      part.reject(new TemporaryFailure(describeStatus(status)));
      // The gateway no longer counts this link as bound (it failed over, or dropped the bind): the
      // link binds afresh.
      if (status === UNBOUND) this.#session?.destroy();
    } else {
      part.reject(
        new PermanentFailure(status === 0 ? `unexpected ${response.command} from the gateway` : describeStatus(status)),
      );
    }
    this.#pump();
  }

  #submitRadix(): IdRadix | 'auto' {
    return this.#options.messageIds === 'auto' ? 'auto' : this.#options.messageIds.submit;
  }

  #receiptRadix(): IdRadix | 'auto' {
    return this.#options.messageIds === 'auto' ? 'auto' : this.#options.messageIds.receipt;
  }

  #connect(): void {
    const tls = this.#url.protocol === 'ssmpp:';
    // The package hands these options to tls.connect as they are: the certificate is verified
    // against the system's CAs and the hospital's own (TLS_CA_FILE), never skipped.
    const session = smpp.connect({
      host: this.#url.hostname,
      port: Number(this.#url.port || (tls ? 3550 : 2775)),
      tls,
      ...(tls && this.#options.ca ? { ca: [...rootCertificates, this.#options.ca] } : {}),
    });
    this.#session = session;
    // Without this, Nagle's algorithm holds back the PDUs after the first until the gateway's
    // delayed ACK (~40 ms on Linux), which is longer than a fast gateway takes to answer.
    session.socket.setNoDelay(true);
    session.on(tls ? 'secureConnect' : 'connect', () => this.#bind(session));
    session.on('error', (error: Error) => {
      this.#lastError = tls ? withCertificateHint(error.message) : error.message;
      // The smpp package stops reading a session after a PDU it cannot decode (e.g. a header that
      // claims more than its 16 KB maximum), leaving the link silent until enquire_link gives up.
      // Such a link is of no more use: drop it now and bind afresh.
      if (session === this.#session) session.destroy();
    });
    session.on('close', () => this.#onClose(session));
    session.on('deliver_sm', (pdu: SmppPdu) => this.#onDeliver(session, pdu));
    session.on('enquire_link', (pdu: SmppPdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: SmppPdu) => {
      session.send(pdu.response());
      session.close();
    });
  }

  #bind(session: SmppSession): void {
    const request = new smpp.PDU('bind_transceiver', {
      system_id: decodeURIComponent(this.#url.username),
      password: decodeURIComponent(this.#url.password),
      system_type: this.#systemType,
      interface_version: 0x34,
    });
    const timer = setTimeout(() => session.destroy(), this.#options.responseTimeoutMs);
    session.send(request, (response) => {
      clearTimeout(timer);
      if (response.command_status !== 0) {
        this.#lastError = `bind refused: ${describeStatus(response.command_status)}`;
        this.#options.log?.('error', `SMS gateway ${this.#lastError}`);
        session.destroy();
        return;
      }
      this.#bound = true;
      if (this.#down) {
        this.#lastOutage = {
          from: this.#down.since,
          to: new Date(),
          ...(this.#down.reason ? { reason: this.#down.reason } : {}),
        };
        this.#down = undefined;
      }
      this.#lastError = undefined;
      this.#reconnectDelay = this.#options.reconnect.minMs;
      this.#options.log?.('info', `bound to the SMS gateway at ${this.#url.host}`);
      this.#enquireTimer = setInterval(() => this.#enquireLink(session), this.#options.enquireLinkMs);
      this.#pump();
    });
  }

  /** Keep-alive: a link that does not answer enquire_link in time is dropped and re-bound. */
  #enquireLink(session: SmppSession): void {
    const timer = setTimeout(() => {
      this.#lastError = `no enquire_link_resp within ${this.#options.responseTimeoutMs} ms`;
      session.destroy();
    }, this.#options.responseTimeoutMs);
    if (!session.send(new smpp.PDU('enquire_link', {}), () => clearTimeout(timer))) clearTimeout(timer);
  }

  #onClose(session: SmppSession): void {
    if (session !== this.#session) return;
    if (this.#bound) this.#down = { since: new Date(), ...(this.#lastError ? { reason: this.#lastError } : {}) };
    this.#bound = false;
    this.#session = undefined;
    clearInterval(this.#enquireTimer);
    clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    // An SMS cannot be recalled: parts awaiting a response may or may not have been taken, so they
    // fail temporarily and the outbox sends them again. The window bounds those duplicates.
    for (const [sequence, { part, timer, slot }] of this.#outstanding) {
      clearTimeout(timer);
      slot.countedBy = performance.now();
      this.#outstanding.delete(sequence);
      part.reject(
        new TemporaryFailure(
          `the SMPP link was lost before the gateway answered${this.#lastError ? ` (${this.#lastError})` : ''}`,
        ),
      );
    }
    if (this.#closing) this.#failWaiting();
    if (this.#closed) return;
    const delay = this.#reconnectDelay * (0.75 + Math.random() * 0.5);
    this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, this.#options.reconnect.maxMs);
    this.#options.log?.(
      'warn',
      `SMPP link lost${this.#lastError ? ` (${this.#lastError})` : ''}; reconnecting in ${Math.round(delay)} ms`,
    );
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  #onDeliver(session: SmppSession, pdu: SmppPdu): void {
    const esmClass = Number(pdu.esm_class ?? 0);
    if ((esmClass & 0x04) === 0) {
      session.send(pdu.response()); // a mobile-originated message, not a receipt: not ours to keep
      return;
    }
    // A receipt is answered once it is recorded: if the process dies first, the gateway sends it
    // again after the next bind; if recording fails, a temporary error asks it to retry later.
    const answer = (status: number) => this.#corked(session).send(pdu.response({ command_status: status }));
    const receipt = parseReceipt(receiptText(pdu.short_message), {
      ...(typeof pdu.receipted_message_id === 'string' ? { receiptedMessageId: pdu.receipted_message_id } : {}),
      ...(typeof pdu.message_state === 'number' ? { messageState: pdu.message_state } : {}),
    });
    if (!receipt) {
      this.#options.log?.('warn', 'SMS gateway sent a delivery receipt without a message id');
      answer(0);
      return;
    }
    this.#lastReceiptAt = new Date();
    // The receipted_message_id TLV carries the id as submit_sm_resp gave it; the text may not.
    const radix = typeof pdu.receipted_message_id === 'string' ? this.#submitRadix() : this.#receiptRadix();
    const delivery: DeliveryReceipt = {
      providerId: normaliseMessageId(receipt.id, radix),
      status: receipt.status,
      ...(receipt.error ? { error: receipt.error } : {}),
      at: this.#lastReceiptAt,
    };
    const taken = this.#partsTakenById.get(delivery.providerId);
    // A part of a long text whose attempt is still running: held until it ends.
    if (taken?.sending) taken.receipts.push({ receipt: delivery, answer });
    else this.#tell(delivery, answer);
  }
}

/** The receipt text from a decoded short_message (a string, a Buffer, or `{ message }`). */
function receiptText(shortMessage: unknown): string {
  if (typeof shortMessage === 'string') return shortMessage;
  if (Buffer.isBuffer(shortMessage)) return shortMessage.toString('latin1');
  if (shortMessage && typeof shortMessage === 'object' && 'message' in shortMessage)
    return receiptText(shortMessage.message);
  return '';
}

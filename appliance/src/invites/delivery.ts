// The contract between the outbox dispatcher and the channel adapters (mail.ts, sms.ts): what a
// failed attempt means for the row (retry with back-off, or give up with a reason a person can
// read) and what a delivery receipt reports afterwards.

/** The relay or gateway could not take the message now; the outbox retries with back-off. */
export class TemporaryFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemporaryFailure';
  }
}

/**
 * The parts of a long SMS the gateway has taken, kept with the outbox row between attempts (and
 * across a restart): the retry sends only the parts still missing, under the same reference, so
 * the phone joins them to the parts it has instead of showing part 1 twice.
 */
export interface PartsOnRecord {
  /** The concatenation reference the parts taken went under (0–255). */
  reference: number;
  /** The gateway's id of each part it took, by index; null for a part still to go. */
  ids: (string | null)[];
  /**
   * A digest of the number and the text the parts were cut from: a retry with another text (the
   * meeting was moved) or to another number goes whole, under a new reference.
   */
  digest: string;
  /** When the first attempt began (ms since the epoch): a handset keeps the parts it has only so long. */
  since: number;
}

/** A temporary failure after the gateway took some parts of a long text: the outbox keeps which. */
export class PartlySent extends TemporaryFailure {
  constructor(
    message: string,
    readonly parts: PartsOnRecord,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PartlySent';
  }
}

/** What the outbox kept of an earlier attempt, read back from its JSON; undefined when it is not that. */
export function readPartsOnRecord(json: string | null): PartsOnRecord | undefined {
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as Partial<PartsOnRecord>;
    if (
      Number.isInteger(value.reference) &&
      Array.isArray(value.ids) &&
      value.ids.every((id) => id === null || typeof id === 'string') &&
      typeof value.digest === 'string' &&
      typeof value.since === 'number'
    )
      return value as PartsOnRecord;
  } catch {
    // A damaged record only costs the optimisation: the text goes whole.
  }
  return undefined;
}

/**
 * The relay or gateway refused the message for good; retrying would give the same answer.
 * The message is shown to staff as the reason, so it names the status ("ESME_RINVDSTADR
 * (invalid destination address)", "550 5.1.1 user unknown").
 */
export class PermanentFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentFailure';
  }
}

/** `pending`: on its way (ENROUTE, ACCEPTD), not yet how it ended; a later receipt says that. */
export type ReceiptStatus = 'delivered' | 'pending' | 'undeliverable' | 'expired' | 'rejected' | 'deleted' | 'unknown';

/** What the network said happened to a message after the gateway accepted it. */
export interface DeliveryReceipt {
  /** The id the provider gave when it accepted the message, in the adapter's canonical form. */
  providerId: string;
  status: ReceiptStatus;
  /** The provider's error code or text, when it gave one for a failed delivery. */
  error?: string;
  at: Date;
}

/**
 * A TLS failure's reason, with the fix when the peer's certificate was not trusted: relays and
 * gateways inside a hospital often carry certificates from the hospital's own CA.
 */
export function withCertificateHint(reason: string): string {
  return /certificate|self[- ]signed|CERT_/i.test(reason)
    ? `${reason} (a certificate from the hospital's own CA is trusted once TLS_CA_FILE names that CA's PEM file)`
    : reason;
}

/**
 * A relay's or gateway's reason for the connection log (and the mail adapter's last error), without
 * the address it may repeat ("550 5.1.1 <eva@skola.example>: Recipient address rejected"): both
 * outlive contact data and an erasure request does not reach them; the log names the participant
 * by id, not by address.
 */
export function withoutRecipient(reason: string, recipient: string): string {
  const address = recipient.replace(/^\+/, '');
  if (!address) return reason;
  // Any case, and a number with or without its "+".
  const pattern = new RegExp(`\\+?${address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'gi');
  return reason.replace(pattern, '…');
}

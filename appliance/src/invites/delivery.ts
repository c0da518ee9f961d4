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

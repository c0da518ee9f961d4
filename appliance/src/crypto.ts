// Random secrets and their hashes (guest links, sessions and API tokens are stored only as hashes),
// and sealing of personal identity numbers at rest.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** base64url of `bytes` random bytes from the CSPRNG (32 bytes = 256 bits). */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * A keyed hash (HMAC-SHA256) of `value` for one `purpose`, under a key derived from `key` for that
 * purpose alone (DATA_KEY also seals; one key is never used for both). It finds a value again
 * without storing it; whoever holds the key can still test guesses, so it is personal data too.
 */
export function keyedHash(key: Buffer, purpose: string, value: string): string {
  const derived = createHmac('sha256', key).update(`samverka:${purpose}`).digest();
  return createHmac('sha256', derived).update(value).digest('hex');
}

// Personal identity numbers are encrypted at rest with AES-256-GCM under DATA_KEY. The sealed form
// is "v1.<iv>.<tag>.<ciphertext>" (base64url), so that a later key rotation can add "v2" beside it.
const sealVersion = 'v1';

export function encrypt(key: Buffer, plaintext: string, context = ''): string {
  if (key.length !== 32) throw new Error('the data key must be 32 bytes (DATA_KEY: 64 hexadecimal characters)');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    sealVersion,
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ciphertext.toString('base64url'),
  ].join('.');
}

/** Opens what encrypt sealed; throws when the key or context is wrong or the text was altered. */
export function decrypt(key: Buffer, sealed: string, context = ''): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== sealVersion || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

/**
 * DATA_KEY is not the key the database's sealed values were written with (a .env generated anew, a
 * backup restored beside another .env). The appliance would run, and then fail on every meeting with
 * an identified participant: the start stops instead. Never names the key.
 */
export class DataKeyError extends Error {
  constructor() {
    super(
      'DATA_KEY does not open the personal identity numbers already in this database: it is not the key ' +
        'they were sealed with. Put back the DATA_KEY kept with this database (the .env or samverka.env ' +
        'backed up with it). Nothing was changed.',
    );
    this.name = 'DataKeyError';
  }
}

/** Compares a presented secret with the expected one in constant time (of the digests, so any length). */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(presented).digest(),
    createHash('sha256').update(expected).digest(),
  );
}

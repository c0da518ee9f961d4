// Password hashing with scrypt from Node's own crypto (maintained with Node, no native add-on).
// Format: scrypt$N$r$p$salt$hash (base64), so parameters can be raised later without a migration.
import { randomBytes, randomInt, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

const params = { N: 2 ** 15, r: 8, p: 1 };
const keyLength = 32;

/**
 * A password as one text whichever keyboard typed it. "å" is one code point from a Windows
 * keyboard and may be "a" with a combining ring from another (macOS, a phone, a pasted text):
 * Unicode NFC makes them the same, for the hash and for every comparison.
 */
export const normalisedPassword = (password: string): string => password.normalize('NFC');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(normalisedPassword(password), salt, keyLength, { ...params, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

async function matches(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

/**
 * How a password matched its stored hash: in its normalised form (every hash stored since
 * passwords are normalised), or only in another form (`legacy`: a hash stored before, of the text
 * exactly as some keyboard sent it), which the caller then stores again normalised.
 */
export type PasswordMatch = 'normalised' | 'legacy' | false;

/**
 * Compares a password with a stored hash: the normalised form (NFC) first, then, for a hash stored
 * before passwords were normalised, the form exactly as typed and the decomposed form (NFD: stored
 * from a keyboard that decomposes, typed on one that composes), each only when it is another text.
 * How many forms are tried depends on the typed text alone, not on the account.
 */
export async function matchPassword(password: string, stored: string): Promise<PasswordMatch> {
  const nfc = normalisedPassword(password);
  if (await matches(nfc, stored)) return 'normalised';
  const others = [...new Set([password, password.normalize('NFD')])].filter((form) => form !== nfc);
  for (const form of others) if (await matches(form, stored)) return 'legacy';
  return false;
}

export const verifyPassword = async (password: string, stored: string): Promise<boolean> =>
  (await matchPassword(password, stored)) !== false;

/** A stored hash of nothing: unknown e-mail addresses cost the same time as known ones. */
export const decoyHash = await hashPassword(randomBytes(16).toString('hex'));

/** A readable generated password: 20 characters from an alphabet without look-alikes. */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from({ length: 20 }, () => alphabet[randomInt(alphabet.length)]).join('');
}

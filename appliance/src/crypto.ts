// Random secrets and their hashes: guest links, sessions and API tokens are stored only as hashes.
import { createHash, randomBytes } from 'node:crypto';

/** base64url of `bytes` random bytes from the CSPRNG (32 bytes = 256 bits). */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

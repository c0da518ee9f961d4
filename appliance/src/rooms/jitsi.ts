// Jitsi's side of the contract: room names, and the HS256 tokens (JWT) that let a participant into
// exactly one room. verifyToken applies the checks Jitsi's Prosody applies (resources/prosody-plugins/
// token/util.lib.lua with the luajwtjitsi library), so tests hold the tokens to that contract.
import { randomBytes } from 'node:crypto';
import { SignJWT, compactVerify } from 'jose';
import type { PartState } from '../common/readiness.ts';
import { textOf } from '../common/text.ts';

const base32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A room name with 160 bits of randomness and nothing that identifies the patient: 32 characters
 * of lowercase letters and digits, because Jitsi lowercases room names.
 */
export function roomName(): string {
  const bytes = randomBytes(20);
  let bits = 0;
  let value = 0;
  let name = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      name += base32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return name;
}

export type TokenAffiliation = 'owner' | 'member';

export interface TokenUser {
  /** Maps back to the participant (or staff member) in the appliance. */
  id: string;
  /** The name as invited; Jitsi shows it and the appliance fixes the display name to it. */
  name: string;
  moderator: boolean;
  /** Read by the token_affiliation convention (mod_token_affiliation): owner for staff, member otherwise. */
  affiliation?: TokenAffiliation;
}

export interface TokenRequest {
  appId: string;
  appSecret: string;
  /** Prosody's JWT_ACCEPTED_AUDIENCES must hold it (or `*`, Prosody's default); defaults to the app id. */
  audience?: string;
  /** The XMPP domain of the Jitsi deployment, the `sub` claim. */
  domain: string;
  room: string;
  user: TokenUser;
  notBefore: Date;
  expiresAt: Date;
}

export interface TokenClaims {
  iss: string;
  aud: string;
  sub: string;
  room: string;
  nbf: number;
  exp: number;
  iat: number;
  moderator: boolean;
  context: { user: { id: string; name: string; moderator: boolean; affiliation: TokenAffiliation } };
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** Signs a token for one room only (never `*`), valid from notBefore until expiresAt. */
export async function issueToken(request: TokenRequest): Promise<string> {
  const { appId, appSecret, domain, room, user } = request;
  if (!appId || !appSecret || !domain) throw new Error('issueToken needs appId, appSecret and domain');
  if (!room || room === '*' || room !== room.toLowerCase())
    throw new Error(`a token is for one lowercase room name, not ${JSON.stringify(room)}`);
  if (!(request.expiresAt.getTime() > request.notBefore.getTime()))
    throw new Error('a token must expire after it becomes valid');
  if (!user.id || !user.name) throw new Error('a token names its user: id and name');
  const claims: Omit<TokenClaims, 'iss' | 'aud' | 'sub' | 'nbf' | 'exp' | 'iat'> = {
    room,
    moderator: user.moderator,
    context: {
      user: {
        id: user.id,
        name: user.name,
        moderator: user.moderator,
        affiliation: user.affiliation ?? (user.moderator ? 'owner' : 'member'),
      },
    },
  };
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(appId)
    .setAudience(request.audience ?? appId)
    .setSubject(domain)
    .setIssuedAt()
    .setNotBefore(seconds(request.notBefore))
    .setExpirationTime(seconds(request.expiresAt))
    .sign(new TextEncoder().encode(appSecret));
}

export interface VerifyOptions {
  appSecret: string;
  /** Prosody's asap_accepted_issuers (JWT_ACCEPTED_ISSUERS); its default is the app id alone. */
  acceptedIssuers: string[];
  /** Prosody's asap_accepted_audiences (JWT_ACCEPTED_AUDIENCES); its default is `*`. */
  acceptedAudiences?: string[];
  /** The room being joined (the node of the MUC address). */
  room: string;
  /** With enable_domain_verification: the MUC domain joined, checked against `<prefix>.<sub>`. */
  mucDomain?: string;
  /** muc_mapper_domain_prefix, `conference` by default. */
  mucDomainPrefix?: string;
  now?: Date;
}

/** Why Prosody would refuse the token, in its own words. */
export class TokenRefused extends Error {
  constructor(readonly reason: string) {
    super(`Prosody would refuse this token: ${reason}`);
    this.name = 'TokenRefused';
  }
}

/** Applies Prosody's token checks in Prosody's order; returns the claims or throws TokenRefused. */
export async function verifyToken(token: string, options: VerifyOptions): Promise<Record<string, unknown>> {
  // luajwtjitsi: the signature first (HS256/384/512 with the app secret) ...
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, new TextEncoder().encode(options.appSecret), {
      algorithms: ['HS256', 'HS384', 'HS512'],
    }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new TokenRefused(
      code === 'ERR_JOSE_ALG_NOT_ALLOWED'
        ? 'Algorithm not supported'
        : code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
          ? 'Invalid signature'
          : 'Invalid token',
    );
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    throw new TokenRefused('Invalid token');
  }
  // ... then exp and nbf, whole seconds, no leeway: refused from the second of exp on, and before nbf.
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (claims.exp !== undefined && typeof claims.exp !== 'number') throw new TokenRefused('exp must be number');
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') throw new TokenRefused('nbf must be number');
  if (typeof claims.exp === 'number' && now >= claims.exp) throw new TokenRefused('Not acceptable by exp');
  if (typeof claims.nbf === 'number' && now < claims.nbf) throw new TokenRefused('Not acceptable by nbf');

  // util.lib.lua verify_token: issuer allowlist (`*` accepts any), room claim required, audience allowlist.
  if (claims.iss === undefined) throw new TokenRefused("'iss' claim is missing");
  if (!options.acceptedIssuers.some((iss) => iss === '*' || iss === claims.iss))
    throw new TokenRefused("Invalid issuer ('iss' claim)");
  if (claims.room === undefined) throw new TokenRefused("'room' claim is missing");
  if (claims.aud === undefined) throw new TokenRefused("'aud' claim is missing");
  if (!(options.acceptedAudiences ?? ['*']).some((aud) => aud === '*' || aud === claims.aud))
    throw new TokenRefused("Invalid audience ('aud' claim)");

  // verify_room at the MUC join: the room address is nodeprepped (lowercase); the token's room is
  // lowercased before comparing, and `*` allows any room.
  const joined = options.room.toLowerCase();
  const tokenRoom = textOf(claims.room);
  if (!options.mucDomain) {
    if (tokenRoom !== '*' && joined !== tokenRoom.toLowerCase())
      throw new TokenRefused('room does not match the token');
  } else {
    // With domain verification the whole address must match `<room>@<prefix>.<sub>` (`*` for either part allows any).
    const sub = String(claims.sub);
    const roomToCheck = tokenRoom === '*' ? joined : tokenRoom.toLowerCase();
    const domainToCheck = sub === '*' ? options.mucDomain : `${options.mucDomainPrefix ?? 'conference'}.${sub}`;
    if (`${joined}@${options.mucDomain.toLowerCase()}` !== `${roomToCheck}@${domainToCheck.toLowerCase()}`)
      throw new TokenRefused('room or domain does not match the token');
  }
  return claims;
}

/**
 * Whether Jitsi's web server answers. The appliance reaches Jitsi only through its IFrame API, so
 * a meeting page is as good as external_api.js is reachable (the status page and `samverka check`).
 */
export async function jitsiWebState(url: string): Promise<PartState> {
  const target = new URL('external_api.js', url.endsWith('/') ? url : `${url}/`).href;
  try {
    const reply = await fetch(target, { signal: AbortSignal.timeout(3000), redirect: 'follow' });
    await reply.body?.cancel();
    return { ok: reply.ok, detail: `${target} answers ${reply.status}` };
  } catch (error) {
    return { ok: false, detail: `${target}: ${(error as Error).message}` };
  }
}

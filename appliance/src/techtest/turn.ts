// TURN REST credentials (the scheme coturn implements with --use-auth-secret): the appliance and
// the TURN server share TURN_SECRET, so short-lived credentials are minted here without any call
// to the TURN server. username = "<unix expiry>:<id>", password = base64(HMAC-SHA1(secret, username)).
import { createHmac, randomBytes } from 'node:crypto';

/** The shape the browser's RTCPeerConnection takes in its iceServers list. */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

export interface TurnCredentials {
  iceServers: IceServer[];
  expiresAt: Date;
}

/** Long enough for the test (and a reload), short enough that a copied credential is soon worthless. */
export const turnTtlSeconds = 10 * 60;

export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * Mints credentials for the configured TURN URLs. The id is random rather than a person's id:
 * the username shows up in the TURN server's logs, which are kept outside the appliance.
 */
export function turnCredentials(
  turn: { urls: string[]; secret: string },
  options: { now?: Date; ttlSeconds?: number; id?: string } = {},
): TurnCredentials {
  const now = options.now ?? new Date();
  const expiry = Math.floor(now.getTime() / 1000) + (options.ttlSeconds ?? turnTtlSeconds);
  const username = `${expiry}:${options.id ?? randomBytes(8).toString('hex')}`;
  return {
    iceServers: [{ urls: [...turn.urls], username, credential: turnPassword(turn.secret, username) }],
    expiresAt: new Date(expiry * 1000),
  };
}

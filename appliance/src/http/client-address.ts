// The client's real address behind the hospital's proxy. X-Forwarded-For is believed only when the
// connection comes from a proxy in TRUSTED_PROXIES, and then read from the right: each trusted hop
// vouches for the one before it, and the right-most address no trusted proxy added is the client.
// Anything further left was written by the client itself and could be anything.
import { BlockList, isIP } from 'node:net';
import type { Request, Server } from '@hapi/hapi';

declare module '@hapi/hapi' {
  interface Request {
    /** The client's address: the peer, or what trusted proxies say the peer's client was. */
    clientAddress: string;
  }
}

export function isAddressOrBlock(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export function trustList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

const trusted = (list: BlockList, address: string): boolean => {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

/** An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; logs and limits want a.b.c.d. */
const plain = (address: string): string => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

export function clientAddress(peer: string, forwardedFor: string | string[] | undefined, proxies: BlockList): string {
  let client = plain(peer);
  if (!forwardedFor || !trusted(proxies, client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => h.trim());
  for (const raw of hops.reverse()) {
    // A hop that is not an address (garbage, a port, "unknown") ends the chain: the last good one stands.
    const hop = plain(raw);
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted(proxies, hop)) return client;
  }
  return client;
}

/**
 * Where attempts are counted from (the per-address rate limits): an IPv4 address, or an IPv6
 * address's /64. A home, mobile or office network gets a /64 of its own and a client may take any
 * address in it (privacy addresses change by themselves): counted per address, a guesser would
 * start afresh with every guess. An IPv6 address carrying an IPv4 one (NAT64) counts as written.
 */
export function attemptSource(address: string): string {
  const bare = address.split('%')[0] ?? '';
  if (isIP(bare) !== 6 || bare.includes('.')) return address;
  const [head = '', tail] = bare.split('::');
  const before = head ? head.split(':') : [];
  const after = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

export function registerClientAddress(server: Server, proxies: string[]): void {
  const list = trustList(proxies);
  // A client that hung up before its request was read leaves no peer address (seen under load at
  // the end of a benchmark run): such a request has no address, rather than crashing the process.
  server.decorate(
    'request',
    'clientAddress',
    (request: Request) =>
      clientAddress(request.info.remoteAddress ?? '', request.headers['x-forwarded-for'] as string | undefined, list),
    { apply: true },
  );
}

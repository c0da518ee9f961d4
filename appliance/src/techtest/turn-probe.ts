// A minimal TURN client (RFC 5766 Allocate over UDP) for the readiness check: it mints a
// credential from TURN_SECRET and asks the TURN server for a relay exactly as a browser does, so a
// secret that differs from the server's shows up on the status page rather than in a failed
// meeting. A granted allocation is released at once (Refresh with lifetime 0).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';

const magicCookie = 0x2112a442;
const method = { allocate: 0x0003, refresh: 0x0004 };
const attr = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  realm: 0x0014,
  nonce: 0x0015,
  requestedTransport: 0x0019,
};

function attribute(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function request(type: number, attributes: Buffer[], integrityKey?: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(magicCookie, 4);
  randomBytes(12).copy(header, 8);
  let body = Buffer.concat(attributes);
  if (integrityKey) {
    // MESSAGE-INTEGRITY covers the message with its length already counting the 24-byte attribute.
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', integrityKey)
      .update(Buffer.concat([header, body]))
      .digest();
    body = Buffer.concat([body, attribute(attr.messageIntegrity, mac)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function readAttributes(message: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  for (let at = 20; at + 4 <= message.length;) {
    const type = message.readUInt16BE(at);
    const length = message.readUInt16BE(at + 2);
    found.set(type, message.subarray(at + 4, at + 4 + length));
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return found;
}

const errorCodeOf = (message: Buffer): number => {
  // ERROR-CODE: class in the third octet, number in the fourth; a short attribute says nothing.
  const [, , errorClass = 0, errorNumber = 0] = readAttributes(message).get(attr.errorCode) ?? [];
  return errorClass * 100 + errorNumber;
};

/**
 * Where to ask: the first UDP (or transport-less) turn: URL, default port 3478. The transport is
 * read without regard to case, as the page's relay probes read it ("transport=UDP" is UDP).
 */
export function udpTarget(urls: string[]): { host: string; port: number } | undefined {
  for (const url of urls) {
    const m = /^turn:([^:?]+|\[[^\]]+\])(?::(\d+))?(?:\?transport=(\w+))?$/.exec(url);
    const [, host, port, transport] = m ?? [];
    if (host && (!transport || transport.toLowerCase() === 'udp'))
      return { host: host.replace(/^\[|\]$/g, ''), port: Number(port ?? 3478) };
  }
  return undefined;
}

/**
 * Asks for a relay allocation with the given credentials: first unauthenticated (the server answers
 * 401 with its realm and a nonce), then signed with the long-term key MD5(username:realm:password).
 * Returns 200 when the relay was granted (and releases it), else the server's error code.
 */
export async function allocate(
  host: string,
  port: number,
  username: string,
  password: string,
  timeoutMs = 3000,
): Promise<number> {
  const { address, family } = await lookup(host);
  // One socket for the whole conversation: the server ties its nonce to the client's address and port.
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  // UDP may lose a datagram (as may a TURN server still starting): a request goes again after
  // 250 ms, then at doubling intervals, as STUN retransmits (RFC 5389 7.2.1), until the timeout. Only
  // the answer to this request counts (its transaction id), not a late one to an earlier request.
  const exchange = (message: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const transaction = message.subarray(8, 20);
      let wait = 250;
      let again: NodeJS.Timeout | undefined;
      const send = () => {
        socket.send(message, port, address);
        again = setTimeout(send, wait);
        wait *= 2;
      };
      const answered = (reply: Buffer) => {
        if (reply.length < 20 || !reply.subarray(8, 20).equals(transaction)) return;
        done();
        resolve(reply);
      };
      const failed = (error: Error) => (done(), reject(error));
      const timer = setTimeout(
        () => failed(new Error(`no answer from the TURN server at ${host}:${port} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        clearTimeout(again);
        socket.off('message', answered);
        socket.off('error', failed);
      };
      socket.on('message', answered);
      socket.on('error', failed);
      send();
    });
  try {
    const transport = attribute(attr.requestedTransport, Buffer.from([17, 0, 0, 0]));
    const challenge = readAttributes(await exchange(request(method.allocate, [transport])));
    const realm = challenge.get(attr.realm);
    const nonce = challenge.get(attr.nonce);
    if (!realm || !nonce) throw new Error('the TURN server did not answer with a realm and nonce');
    const key = createHash('md5')
      .update(`${username}:${realm.toString('utf8')}:${password}`)
      .digest();
    const signed = [
      attribute(attr.username, Buffer.from(username)),
      attribute(attr.realm, realm),
      attribute(attr.nonce, nonce),
    ];
    const reply = await exchange(request(method.allocate, [transport, ...signed], key));
    if (reply.readUInt16BE(0) !== 0x0103) return errorCodeOf(reply); // not an Allocate success
    // Release the relay: a readiness probe must not hold the server's ports.
    await exchange(
      request(method.refresh, [attribute(attr.lifetime, Buffer.from([0, 0, 0, 0])), ...signed], key),
    ).catch(() => undefined);
    return 200;
  } finally {
    socket.close();
  }
}

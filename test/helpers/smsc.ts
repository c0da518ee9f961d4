// A real SMSC for tests: the smpp package's server on loopback, with real binds and PDUs. Each
// submit_sm is answered as `answer` says (status, delay, a receipt, or silence), and the raw
// short_message octets are kept so tests can check encodings and UDHs byte by byte.
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { present } from './present.ts';

export interface Arrival {
  pdu: smpp.PDU;
  /** short_message exactly as it came over the socket (UDH included). */
  octets: Buffer;
  /** performance.now() when the SMSC read it. */
  at: number;
}

export interface Answer {
  status?: number;
  id?: string;
  delayMs?: number;
  /** Answer only once this has settled (a test holds the answer for as long as it needs). */
  after?: Promise<unknown>;
  /** Send a receipt after the response, with this id text and stat. */
  receipt?: { id: string; stat: string; err?: string };
  /** Never answer. */
  silent?: boolean;
}

export interface TestSmsc {
  port: number;
  url: string;
  arrivals: Arrival[];
  enquireLinks: number;
  /** Most submit_sm the SMSC held unanswered at one moment. */
  maxOutstanding: number;
  /** performance.now() of each response sent with ESME_RTHROTTLED. */
  throttledAt: number[];
  /** While true, binds are refused (ESME_RBINDFAIL), as by a gateway that is restarting. */
  refuseBinds: boolean;
  /** Successful binds so far (a rebind after a lost link counts again). */
  binds: number;
  /** Links the SMSC saw closed. */
  closedLinks: number;
  /**
   * Sends a delivery receipt for any id on every bound link, as a gateway does for a message it
   * took from someone; resolves with the command_status of the deliver_sm_resp.
   */
  receipt(id: string, stat?: string): Promise<number>;
  /** Writes raw bytes on every bound link, as a broken gateway would. */
  writeRaw(bytes: Buffer): void;
  /** Drops every connection and stops listening, as a gateway that goes away. */
  close(): Promise<void>;
}

/** The short_message octets of a raw submit_sm, read field by field (SMPP 3.4 §4.4.1). */
function shortMessageOctets(frame: Buffer): Buffer {
  let offset = 16;
  const cstring = () => {
    while (frame[offset] !== 0) offset += 1;
    offset += 1;
  };
  cstring(); // service_type
  offset += 2;
  cstring(); // source_addr
  offset += 2;
  cstring(); // destination_addr
  offset += 3; // esm_class, protocol_id, priority_flag
  cstring(); // schedule_delivery_time
  cstring(); // validity_period
  offset += 4; // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
  const length = present(frame[offset], 'the sm_length octet');
  return frame.subarray(offset + 1, offset + 1 + length);
}

export interface SmscOptions {
  /** A key and certificate: the SMSC speaks SMPP over TLS (ssmpp://), as the smpp package's SecureServer. */
  tls?: { key: string; cert: string };
}

export async function startSmsc(
  answer: (arrival: Arrival, index: number) => Answer = () => ({}),
  port = 0,
  options: SmscOptions = {},
): Promise<TestSmsc> {
  let nextId = 5000;
  let outstanding = 0;
  const smsc: TestSmsc = {
    port: 0,
    url: '',
    arrivals: [],
    enquireLinks: 0,
    maxOutstanding: 0,
    throttledAt: [],
    binds: 0,
    closedLinks: 0,
    refuseBinds: false,
    close: async () => undefined,
    receipt: async () => -1,
    writeRaw: () => undefined,
  };
  const bound = new Set<smpp.Session>();
  const receiptFields = (id: string, stat: string, err = '000', to = '46701234567', from = 'Samverka') =>
    ({
      source_addr: to,
      destination_addr: from,
      esm_class: 0x04,
      data_coding: 0,
      short_message: `id:${id} sub:001 dlvrd:001 submit date:2611251200 done date:2611251200 stat:${stat} err:${err} text:Hej`,
    }) as unknown as smpp.PDU;
  // Receipts not yet acknowledged (deliver_sm_resp status 0): like a real SMSC, they are sent
  // again when the ESME binds next, so a receipt is not lost with a process that died.
  const unacknowledged = new Map<string, smpp.PDU>();
  const deliver = (session: smpp.Session, key: string, receipt: smpp.PDU) => {
    unacknowledged.set(key, receipt);
    session.send(new smpp.PDU('deliver_sm', { ...receipt }), (resp: smpp.PDU) => {
      if (resp.command_status === 0) unacknowledged.delete(key);
    });
  };
  const server = smpp.createServer(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}, (session) => {
    session.on('error', () => undefined);
    session.on('close', () => {
      bound.delete(session);
      smsc.closedLinks += 1;
    });
    // Keep each PDU's raw bytes: the package reads a 4-octet length, then the rest.
    const socket = session.socket;
    const read = socket.read.bind(socket);
    let header: Buffer = Buffer.alloc(0);
    let lastFrame: Buffer = Buffer.alloc(0);
    socket.read = ((size?: number) => {
      const chunk = read(size) as Buffer | null;
      if (chunk && size === 4) header = chunk;
      else if (chunk) lastFrame = Buffer.concat([header, chunk]);
      return chunk;
    }) as typeof socket.read;
    session.on('bind_transceiver', (pdu: smpp.PDU) => {
      const ok = !smsc.refuseBinds && pdu.system_id === 'samverka' && pdu.password === 'hemligt';
      session.send(pdu.response({ command_status: ok ? 0 : smpp.errors.ESME_RBINDFAIL }));
      if (ok) {
        smsc.binds += 1;
        bound.add(session);
      }
      if (ok) for (const [key, receipt] of unacknowledged) deliver(session, key, receipt);
    });
    session.on('unbind', (pdu: smpp.PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('enquire_link', (pdu: smpp.PDU) => {
      smsc.enquireLinks += 1;
      session.send(pdu.response());
    });
    session.on('submit_sm', (pdu: smpp.PDU) => {
      const arrival = { pdu, octets: shortMessageOctets(lastFrame), at: performance.now() };
      smsc.arrivals.push(arrival);
      const reply = answer(arrival, smsc.arrivals.length - 1);
      if (reply.silent) return;
      outstanding += 1;
      smsc.maxOutstanding = Math.max(smsc.maxOutstanding, outstanding);
      const respond = () => {
        outstanding -= 1;
        const status = reply.status ?? 0;
        if (status === smpp.errors.ESME_RTHROTTLED) smsc.throttledAt.push(performance.now());
        session.send(
          pdu.response(status === 0 ? { message_id: reply.id ?? String(nextId++) } : { command_status: status }),
        );
        if (reply.receipt) {
          deliver(
            session,
            `${reply.receipt.id}:${smsc.arrivals.indexOf(arrival)}`,
            receiptFields(
              reply.receipt.id,
              reply.receipt.stat,
              reply.receipt.err,
              String(pdu.destination_addr),
              String(pdu.source_addr),
            ),
          );
        }
      };
      if (reply.after) void reply.after.then(respond, respond);
      else if (reply.delayMs) setTimeout(respond, reply.delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  smsc.port = (server.address() as AddressInfo).port;
  smsc.url = `${options.tls ? 'ssmpp' : 'smpp'}://samverka:hemligt@127.0.0.1:${smsc.port}`;
  smsc.receipt = (id, stat = 'DELIVRD') =>
    new Promise<number>((resolve, reject) => {
      const [session] = bound;
      if (!session) {
        reject(new Error('no ESME is bound to the test SMSC'));
        return;
      }
      session.send(new smpp.PDU('deliver_sm', { ...receiptFields(id, stat) }), (resp: smpp.PDU) =>
        resolve(resp.command_status),
      );
    });
  smsc.writeRaw = (bytes) => {
    for (const session of bound) session.socket.write(bytes);
  };
  smsc.close = () =>
    new Promise<void>((resolve) => {
      for (const session of [...server.sessions]) session.destroy();
      server.close(() => resolve());
    });
  return smsc;
}

/** Resolves when `count` submit_sm have arrived (or rejects after `timeoutMs`). */
export async function waitForArrivals(smsc: TestSmsc, count: number, timeoutMs = 15_000): Promise<Arrival[]> {
  const deadline = Date.now() + timeoutMs;
  while (smsc.arrivals.length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} submit_sm, ${smsc.arrivals.length} arrived`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return smsc.arrivals;
}

/** An SMSC's answer that accepts every message as `<prefix><n>` and confirms its delivery at once. */
export const delivered =
  (prefix: string) =>
  (_arrival: Arrival, index: number): Answer => ({
    id: `${prefix}${index}`,
    receipt: { id: `${prefix}${index}`, stat: 'DELIVRD' },
  });

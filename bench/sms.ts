// SMS adapter throughput and throttle, against the development SMSC on loopback.
//   npx tsx bench/sms.ts
// 1. The SMSC answers each submit_sm after 5 ms; with a window of 10 the bound is 10 / 5 ms =
//    2,000 msg/s. Prints the achieved rate, its ratio to that bound, and its ratio to the smpp
//    package's bare client keeping the same window against the same SMSC in the same run.
// 2. With SMPP_THROTTLE=50, the highest number of parts the SMSC saw in any one-second interval
//    (must never be above 50) and the rate achieved.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startEmbeddedSmsc } from '../appliance/src/invites/embedded.ts';
import smpp from 'smpp';
import { SmsSender } from '../appliance/src/invites/sms.ts';

const SMSC_CHILD = '--smsc-child';

/**
 * The 5 ms SMSC runs in its own process, as a gateway would: sharing the adapter's event loop,
 * its reply timers would fire late whenever the adapter is busy, and the bench would measure that.
 */
async function startSmscProcess(responseDelayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const child = fork(fileURLToPath(import.meta.url), [SMSC_CHILD, String(responseDelayMs)], { stdio: 'inherit' });
  const [url] = (await once(child, 'message')) as [string];
  return {
    url,
    close: async () => {
      child.kill();
      await once(child, 'exit');
    },
  };
}

async function serveSmsc(responseDelayMs: number): Promise<void> {
  const smsc = await startEmbeddedSmsc({ responseDelayMs, capacity: 10 });
  process.send!(smsc.url);
  process.on('SIGTERM', () => void smsc.close().then(() => process.exit(0)));
}

/** The baseline: the smpp package's own client keeping the same window, with no adapter around it. */
async function rawClient(url: string, count: number, window: number): Promise<number> {
  const target = new URL(url);
  const session = smpp.connect({ host: target.hostname, port: Number(target.port) });
  session.socket.setNoDelay(true);
  session.on('deliver_sm', (pdu: smpp.PDU) => session.send(pdu.response()));
  await once(session, 'connect');
  await new Promise((resolve) => session.send(new smpp.PDU('bind_transceiver', { system_id: target.username, password: target.password }), resolve));
  const started = performance.now();
  let sent = 0;
  let answered = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < count && sent - answered < window) {
        sent += 1;
        const pdu = new smpp.PDU('submit_sm', {
          dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '46701234567', registered_delivery: 1, data_coding: 0, short_message: Buffer.from(`Hej ${sent}`),
        });
        session.send(pdu, () => {
          answered += 1;
          if (answered === count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const rate = count / ((performance.now() - started) / 1000);
  session.destroy();
  return rate;
}

async function throughput(count: number): Promise<Record<string, string | number>[]> {
  const responseDelayMs = 5;
  const window = 10;
  const bound = (window * 1000) / responseDelayMs;
  const smsc = await startSmscProcess(responseDelayMs);
  const sms = new SmsSender({ url: smsc.url, sender: 'Samverka', throttle: 1_000_000, window });
  const viaAdapter = async (n: number) => {
    const started = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => sms.send({ to: '+46701234567', text: `Hej Åsa, ditt vårdmöte ${i}` })));
    return n / ((performance.now() - started) / 1000);
  };
  try {
    // Warm both up, then alternate and keep the best of two, so neither always runs colder.
    await rawClient(smsc.url, 500, window);
    await viaAdapter(500);
    const raws: number[] = [];
    const adapters: number[] = [];
    for (let round = 0; round < 2; round += 1) {
      raws.push(await rawClient(smsc.url, count, window));
      adapters.push(await viaAdapter(count));
    }
    const baseline = Math.max(...raws);
    const rate = Math.max(...adapters);
    const row = (name: string, r: number) => ({
      case: name, messages: count, 'msg/s (best of 2)': Math.round(r), 'bound msg/s': bound, 'ratio to bound': (r / bound).toFixed(2), 'ratio to raw client': (r / baseline).toFixed(2),
    });
    return [row(`raw smpp client, window ${window}`, baseline), row(`adapter, window ${window}`, rate)];
  } finally {
    await sms.close();
    await smsc.close();
  }
}

async function throttle(limit: number, count: number): Promise<Record<string, string | number>> {
  const smsc = await startEmbeddedSmsc({ capacity: count });
  const sms = new SmsSender({ url: smsc.url, sender: 'Samverka', throttle: limit });
  try {
    const started = performance.now();
    await Promise.all(Array.from({ length: count }, (_, i) => sms.send({ to: '+46701234567', text: `Påminnelse ${i}` })));
    const seconds = (performance.now() - started) / 1000;
    const times = smsc.messages().map((m) => m.receivedAt.getTime()).sort((a, b) => a - b);
    let highest = 0;
    for (let i = 0, j = 0; i < times.length; i += 1) {
      while (times[j] < times[i] - 999) j += 1;
      highest = Math.max(highest, i - j + 1);
    }
    // The first `limit` parts go at once; the rate after them is what the limit allows in the long run.
    const steady = (count - limit) / ((times[times.length - 1] - times[0]) / 1000);
    return {
      case: `SMPP_THROTTLE=${limit}`, parts: count, 'msg/s overall': Math.round(count / seconds), 'msg/s after the first second': steady.toFixed(1),
      'highest in any 1 s': highest, 'within limit': highest <= limit ? 'yes' : 'NO',
    };
  } finally {
    await sms.close();
    await smsc.close();
  }
}

export async function run(): Promise<void> {
  console.log('SMS (SMPP) adapter');
  console.table(await throughput(3000));
  console.table([await throttle(50, 200)]);
}

if (process.argv[2] === SMSC_CHILD) await serveSmsc(Number(process.argv[3]));
else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();

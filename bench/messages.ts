// SMS and e-mail through the whole appliance: the built appliance as its own process drains an
// outbox backlog — invitations from real bookings — through its dispatcher, with every listener
// the plugins register (message statuses, participant statuses, the connection log, receipts).
// Rates are measured where the messages arrive, from the first to the last; beside them each sending
// process's CPU per message over the same span, which other work on a shared machine hardly moves.
// - SMS: an SMSC in its own process answering every submit_sm after 5 ms; with the adapter's
//   window of 10 the bound is 10 / 5 ms = 2,000 submit_sm/s. An invitation with its link is a long
//   text, two submit_sm (the SMSC counts the parts of the messages it joined), so the share of the
//   bound is taken in submit_sm/s. Beside it the smpp package's bare client keeping the same window
//   against the same SMSC, one-part messages.
// - E-mail: an SMTP server in its own process that drains and discards; beside it raw pooled
//   nodemailer (5 connections, as the adapter) sending the same invitation (the appliance's text and
//   HTML, an .ics made the same way) from a fresh process of its own, as the appliance's is
//   (bench/raw-mail.ts).
// The backlog is booked through the appliance's own API on a server that is initialised but not
// started (its dispatcher does not run), so that the process measured starts with all of it due.
import { once } from 'node:events';
import smpp from 'smpp';
import type * as Config from '../appliance/src/config.ts';
import type * as ServerModule from '../appliance/src/server.ts';
import { present } from '../test/helpers/present.ts';
import {
  builtModule,
  cpuSeconds,
  forkBench,
  interleaved,
  isMain,
  judge,
  percent,
  prepareData,
  rounds,
  showSpread,
  spread,
  startAppliance,
  startSink,
  table,
  type Sink,
} from './harness.ts';

const smsCount = Number(process.env.BENCH_SMS ?? 3000);
const mailCount = Number(process.env.BENCH_MAIL ?? 1000);
const window = 10;
const responseDelayMs = 5;
const bound = (window * 1000) / responseDelayMs;
const perMeeting = 99; // MAX_PARTICIPANTS 100: the booking clinician and 99 invited

/** What a sender achieved between the first and the last arrival at the sink. */
interface Drained {
  /** Messages a second. */
  rate: number;
  /** The submit_sm each message came in (SMS; 1 for e-mail): the rate in PDUs is rate × this. */
  partsPerMessage: number;
  /** The sending process's CPU (user + system, all its threads) per message over the same span, ms. */
  cpuMs: number;
}

/**
 * The rate between the first and the last arrival, once `count` have arrived, and the CPU the
 * process `pid` spent per message over that span. Its CPU is sampled as the arrivals are read and
 * taken at the first and last arrival's instant between samples: unlike the rate, it hardly moves
 * when other work on the machine lands on the sender or on its baseline.
 */
async function drain(sink: Sink, count: number, pid: number, timeoutMs = 300_000): Promise<Drained> {
  const times: number[] = [];
  const samples: { at: number; cpu: number }[] = [];
  const sample = () => {
    const cpu = cpuSeconds(pid);
    if (cpu > 0) samples.push({ at: Date.now(), cpu }); // 0: the process has ended
  };
  const started = Date.now();
  while (times.length < count) {
    if (Date.now() - started > timeoutMs) throw new Error(`only ${times.length} of ${count} messages arrived`);
    await new Promise((r) => setTimeout(r, 20));
    sample();
    times.push(...(await sink.arrivals()));
    sample();
  }
  times.sort((a, b) => a - b);
  const first = present(times[0], 'the first arrival');
  const last = present(times[count - 1], `arrival ${count}`);
  return {
    rate: (count - 1) / ((last - first) / 1000),
    partsPerMessage: 1,
    cpuMs: ((cpuAt(samples, last) - cpuAt(samples, first)) * 1000) / (count - 1),
  };
}

/** A process's CPU seconds at `instant`, between the samples either side of it. */
function cpuAt(samples: { at: number; cpu: number }[], instant: number): number {
  const after = samples.findIndex((s) => s.at >= instant);
  if (after <= 0) return present(samples.at(after === 0 ? 0 : -1), 'a CPU sample').cpu;
  const a = present(samples[after - 1], 'the sample before');
  const b = present(samples[after], 'the sample after');
  return b.at === a.at ? b.cpu : a.cpu + ((b.cpu - a.cpu) * (instant - a.at)) / (b.at - a.at);
}

/**
 * A backlog of `count` invitations by `channel`, booked through the API of an appliance that is
 * initialised but not started, then the appliance process started on it: the rate it drains at.
 */
export async function throughAppliance(
  channel: 'sms' | 'email',
  count: number,
  sinks: { smsc: Sink; smtp: Sink },
): Promise<Drained> {
  const data = await prepareData(
    {
      SMPP_URL: sinks.smsc.url,
      SMTP_URL: sinks.smtp.url,
      SMPP_THROTTLE: '10000',
      MAX_PARTICIPANTS: '100',
      LOG_LEVEL: 'silent',
    },
    1,
  );
  try {
    const { loadConfig } = await builtModule<typeof Config>('config.js');
    const { createServer } = await builtModule<typeof ServerModule>('server.js');
    const server = await createServer(loadConfig({ ...data.env, PORT: '0' }));
    await server.initialize();
    // Each meeting: the patient by SMS, then guests by the channel measured (up to 98 of them).
    for (let m = 0, booked = 0; booked < count; m += 1) {
      const n = Math.min(perMeeting - 1, count - booked - (channel === 'sms' ? 1 : 0));
      const guests = Array.from({ length: n }, (_, i) =>
        channel === 'sms'
          ? {
              kind: 'guest',
              name: `Gäst ${m}-${i}`,
              mobile: `070${String(1000000 + m * 100 + i).slice(-7)}`,
              identification: 'sms',
            }
          : { kind: 'guest', name: `Gäst ${m}-${i}`, email: `gast-${m}-${i}@skola.example`, identification: 'none' },
      );
      const patient = { kind: 'patient', name: `Patient ${m}`, mobile: '070-123 45 67', identification: 'sms' };
      const reply = await server.inject({
        method: 'POST',
        url: '/api/v1/meetings',
        headers: { authorization: `Bearer ${data.clinician(0).token}` },
        payload: {
          title: `Möte ${m}`,
          startsAt: new Date(Date.now() + (2 + m) * 86_400_000).toISOString(),
          durationMinutes: 45,
          documentationPlan: 'Journal',
          participants: [patient, ...guests],
        },
      });
      if (reply.statusCode !== 201) throw new Error(`booking refused: ${reply.statusCode} ${reply.payload}`);
      booked += n + (channel === 'sms' ? 1 : 0);
    }
    await server.stop();
    const sink = channel === 'sms' ? sinks.smsc : sinks.smtp;
    await sink.reset();
    const appliance = await startAppliance(data);
    try {
      const drainedNow = await drain(sink, count, appliance.pid);
      if (channel === 'email') return drainedNow;
      const { messages, parts } = await sink.parts();
      return { ...drainedNow, partsPerMessage: parts / messages };
    } finally {
      await appliance.stop();
    }
  } finally {
    data.remove();
  }
}

/** The baseline: the smpp package's own client keeping the same window, with no adapter around it. */
async function rawSmpp(url: string, count: number): Promise<number> {
  const target = new URL(url);
  const session = smpp.connect({ host: target.hostname, port: Number(target.port) });
  session.socket.setNoDelay(true);
  session.on('deliver_sm', (pdu: smpp.PDU) => session.send(pdu.response()));
  await once(session, 'connect');
  await new Promise((resolve) =>
    session.send(
      new smpp.PDU('bind_transceiver', {
        system_id: decodeURIComponent(target.username),
        password: decodeURIComponent(target.password),
      }),
      resolve,
    ),
  );
  const started = performance.now();
  let sent = 0;
  let answered = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < count && sent - answered < window) {
        sent += 1;
        const pdu = new smpp.PDU('submit_sm', {
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: '46701234567',
          registered_delivery: 1,
          data_coding: 0,
          short_message: Buffer.from(`Hej ${sent}`),
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

/**
 * The baseline: raw pooled nodemailer in a fresh process of its own (bench/raw-mail.ts), its rate
 * read at the SMTP server from the first arrival to the last, as the appliance's is. Fresh, like the
 * appliance process: V8 compiles nodemailer's hot paths while it sends, and a process that has
 * already sent a thousand mails sends the next ones at about half the CPU (measured here: 2.7 ms
 * per mail in a new process, 1.4 ms in a warm one), so a baseline warmed up in the bench's own
 * process measured a warm path against the appliance's cold one.
 */
async function rawMail(smtp: Sink, count: number): Promise<Drained> {
  await smtp.reset();
  const child = forkBench('raw-mail.ts', [smtp.url, String(count)]);
  const exited = once(child, 'exit') as Promise<[number | null]>;
  try {
    const drained = await drain(smtp, count, present(child.pid, "raw nodemailer's process"));
    const [code] = await exited;
    if (code !== 0) throw new Error(`raw nodemailer's process exited with ${code}`);
    return drained;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export async function run(): Promise<void> {
  const [smsc, smtp] = await Promise.all([startSink('smsc', responseDelayMs), startSink('smtp')]);
  try {
    // Warm the bare smpp client's path up once (it runs in this process), then interleave.
    await rawSmpp(smsc.url, 500);
    await smsc.reset();
    const results = await interleaved({
      rawSms: () => rawSmpp(smsc.url, smsCount),
      sms: () => throughAppliance('sms', smsCount, { smsc, smtp }),
      rawMail: () => rawMail(smtp, mailCount),
      mail: () => throughAppliance('email', mailCount, { smsc, smtp }),
    });
    const rate = {
      rawSms: results.rawSms,
      sms: results.sms.map((d) => d.rate),
      rawMail: results.rawMail.map((d) => d.rate),
      mail: results.mail.map((d) => d.rate),
    };
    const cpu = {
      sms: results.sms.map((d) => d.cpuMs),
      rawMail: results.rawMail.map((d) => d.cpuMs),
      mail: results.mail.map((d) => d.cpuMs),
    };
    const s = (k: keyof typeof rate) => spread(rate[k]);
    const smsPdus = spread(results.sms.map((d) => d.rate * d.partsPerMessage));
    const partsPerSms = spread(results.sms.map((d) => d.partsPerMessage));
    const smsShare = spread(results.sms.map((d) => (d.rate * d.partsPerMessage) / bound));
    const mailShare = spread(rate.mail.map((r, i) => r / present(rate.rawMail[i], 'raw nodemailer in the same round')));
    // The CPU raw nodemailer needs for a mail over what the appliance needs: the rate's ratio as it
    // would be if each had the cores to itself.
    const mailCpuShare = spread(
      cpu.mail.map((c, i) => present(cpu.rawMail[i], 'raw nodemailer in the same round') / c),
    );
    const ms = (k: keyof typeof cpu) => showSpread(spread(cpu[k]), ' ms', 2);
    table(
      `Messages through the whole appliance, ${rounds} interleaved rounds: median (min–max)`,
      ['case', 'messages', 'msg/s', 'submit_sm/s', 'share of the bound or the raw baseline', 'CPU per message'],
      [
        [
          `raw smpp client, window ${window}, SMSC answering after ${responseDelayMs} ms (bound ${bound} submit_sm/s), one part each`,
          smsCount,
          showSpread(s('rawSms'), '', 0),
          showSpread(s('rawSms'), '', 0),
          showSpread(spread(rate.rawSms.map((r) => r / bound)), '', 2),
          '—',
        ],
        [
          `appliance: outbox → SMPP adapter → SMSC, invitations of ${showSpread(partsPerSms, '', 2)} parts (submit_sm ÷ bound)`,
          smsCount,
          showSpread(s('sms'), '', 0),
          showSpread(smsPdus, '', 0),
          showSpread(smsShare, '', 2),
          ms('sms'),
        ],
        [
          'raw pooled nodemailer, 5 connections, .ics in each, a fresh process (baseline)',
          mailCount,
          showSpread(s('rawMail'), '', 0),
          '—',
          '1',
          ms('rawMail'),
        ],
        [
          'appliance: outbox → mail adapter → SMTP server (÷ raw)',
          mailCount,
          showSpread(s('mail'), '', 0),
          '—',
          showSpread(mailShare, '', 2),
          ms('mail'),
        ],
      ],
    );
    console.log(
      `\nE-mail by CPU per message (raw nodemailer's ÷ the appliance's, each process's user + system time between its first and last arrival): ${showSpread(mailCpuShare, '', 2)}\n`,
    );
    judge(
      'SMS through the whole appliance (5 ms SMSC, window 10)',
      `≥ 90 % of the bound (${bound.toLocaleString('en-US')} submit_sm/s)`,
      `${percent(smsShare.median)} (${percent(smsShare.min)}–${percent(smsShare.max)}), ${smsPdus.median.toFixed(0)} submit_sm/s (${s('sms').median.toFixed(0)} invitations/s)`,
      smsShare.median >= 0.9,
    );
    judge(
      'e-mail through the whole appliance',
      '≥ 80 % of raw pooled nodemailer',
      `${percent(mailShare.median)} (${percent(mailShare.min)}–${percent(mailShare.max)}), ${s('mail').median.toFixed(0)} of ${s('rawMail').median.toFixed(0)} msg/s`,
      mailShare.median >= 0.8,
    );
  } finally {
    await Promise.all([smsc.close(), smtp.close()]);
  }
}

if (isMain(import.meta.url)) await run();

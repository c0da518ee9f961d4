// The automatic connection check: can media pass through the TURN server over UDP and over TCP
// (own probes, a fraction of a second each), how good is that path (Jitsi's own pre-call test:
// RTT, jitter, loss, throughput), and how fast is the line to the appliance (download/upload).
import PreCallTest from '@jitsi/precall-test';
import type { NetworkFigures } from '../../../appliance/src/techtest/model.ts';

/**
 * Jitsi's routine waits 30 s for a relay that will never answer: a person should not. It needs
 * about 4.5 s on a good line (RTT pings, 3 s of loss, throughput for 50 round trips but at least
 * 1 s) and more on a slow one; past this the probes' own round trips stand in for its figures.
 */
export const precallTimeoutMs = 10_000;
const probeTimeoutMs = 5_000;
/** What Jitsi's RTT test reports when no ping came back (its LAST_TIMEOUT). */
const rttGiveUpMs = 500;
const transferBudgetMs = 6_000;

export interface IceReply {
  relay: boolean;
  iceServers?: RTCIceServer[];
  /** How long the credentials are valid from when they were minted. */
  validForSeconds?: number;
}

export interface NetworkCheck {
  base: string;
  crumb: string;
  /** The credentials the page came with (minted with the page, at about performance.now() 0). */
  ice?: IceReply;
}

/** A page left open a long time asks for fresh credentials rather than use nearly spent ones. */
const iceMarginSeconds = 60;

/** The page's own credentials while they are good, else fresh ones from the appliance (null: no answer). */
async function iceFor(check: NetworkCheck): Promise<IceReply | null> {
  const own = check.ice;
  if (own && (!own.relay || performance.now() / 1000 < (own.validForSeconds ?? 0) - iceMarginSeconds)) return own;
  return fetch(`${check.base}/ice`, { cache: 'no-store', credentials: 'same-origin' })
    .then((r) => (r.ok ? (r.json() as Promise<IceReply>) : null))
    .catch(() => null);
}

const timeout = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

/** A TURN URL's transport: TLS (turns:, a strict firewall's way out on 443) runs over TCP. */
const transportOf = (url: string): 'udp' | 'tcp' =>
  /^turns:/i.test(url) || /[?&]transport=tcp/i.test(url) ? 'tcp' : 'udp';

/** The configured URLs of one transport (turn:…?transport=udp|tcp, turns:…), as a one-server ICE list. */
export function forTransport(servers: RTCIceServer[], transport: 'udp' | 'tcp'): RTCIceServer[] {
  return servers
    .map((s) => ({
      ...s,
      urls: [s.urls].flat().filter((u) => /^turns?:/i.test(u) && transportOf(u) === transport),
    }))
    .filter((s) => s.urls.length > 0);
}

export interface RelayProbe {
  ok: boolean;
  /** Round trips of a few echoed pings through the relay, ms (empty when it failed). */
  rtts: number[];
}

const pings = 5;

/**
 * Connects two peer connections to each other through the relay only. A data channel that opens
 * proves media can flow through the TURN server on this transport; a gathering that ends without
 * a relay candidate (wrong credentials, port blocked) fails at once instead of waiting. A few
 * echoed pings then time the round trip, should Jitsi's routine not manage to.
 */
export async function probeRelay(iceServers: RTCIceServer[], ms = probeTimeoutMs): Promise<RelayProbe> {
  if (iceServers.length === 0) return { ok: false, rtts: [] };
  const config: RTCConfiguration = { iceServers, iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  try {
    return await new Promise<RelayProbe>((resolve) => {
      let relayCandidates = 0;
      const rtts: number[] = [];
      const timer = setTimeout(() => resolve({ ok: false, rtts: [] }), ms);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve({ ok, rtts });
      };
      a.onicecandidate = (e) => {
        if (e.candidate) {
          relayCandidates += 1;
          b.addIceCandidate(e.candidate).catch(() => undefined);
        } else if (relayCandidates === 0) done(false);
      };
      b.onicecandidate = (e) => {
        if (e.candidate) a.addIceCandidate(e.candidate).catch(() => undefined);
      };
      a.onconnectionstatechange = () => {
        if (a.connectionState === 'failed') done(false);
      };
      b.ondatachannel = (e) => {
        e.channel.onmessage = (m) => e.channel.send(m.data as string);
      };
      const channel = a.createDataChannel('probe');
      let sentAt = 0;
      const ping = () => {
        sentAt = performance.now();
        channel.send('ping');
      };
      channel.onopen = ping;
      channel.onmessage = () => {
        rtts.push(performance.now() - sentAt);
        if (rtts.length < pings) ping();
        else done(true);
      };
      // The channel opened but the echoes are slow: the relay works, whatever the pings say.
      channel.addEventListener('open', () => setTimeout(() => done(true), 1000));
      (async () => {
        await a.setLocalDescription(await a.createOffer());
        await b.setRemoteDescription(a.localDescription!);
        await b.setLocalDescription(await b.createAnswer());
        await a.setRemoteDescription(b.localDescription!);
      })().catch(() => done(false));
    });
  } finally {
    a.close();
    b.close();
  }
}

/** Median and standard deviation of the probe's round trips, as Jitsi's routine reports them. */
function roundTrip(rtts: number[]): { rttMs: number; jitterMs: number } | null {
  if (rtts.length === 0) return null;
  const sorted = [...rtts].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0; // rtts is not empty here
  const mean = rtts.reduce((sum, r) => sum + r, 0) / rtts.length;
  const jitterMs = Math.sqrt(rtts.reduce((sum, r) => sum + (r - mean) ** 2, 0) / rtts.length);
  return { rttMs: median, jitterMs };
}

/**
 * Jitsi's loss test calls `setTimeout(this.send(message), 8)`: the send runs at once and the timer
 * is handed undefined, which browsers turn into the string "undefined" to evaluate — refused by our
 * Content-Security-Policy with a console error, hundreds of times. Such a timer does nothing either
 * way; while the routine runs, it gets a no-op instead of an eval attempt.
 */
function withoutStringTimers<T>(run: () => Promise<T>): Promise<T> {
  // The original is restored as it was (not a bound copy) and called on window, its receiver.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = window.setTimeout;
  const guarded = ((handler: TimerHandler, ms?: number, ...args: unknown[]) =>
    original(typeof handler === 'function' ? handler : () => undefined, ms, ...args)) as typeof window.setTimeout;
  window.setTimeout = guarded;
  return run().finally(() => {
    if (window.setTimeout === guarded) window.setTimeout = original;
  });
}

/** Jitsi's pre-call test with the page's own timeout; `cancelled` ends it early (no relay works). */
async function runPreCall(iceServers: RTCIceServer[], cancelled: Promise<null>) {
  const test = new PreCallTest();
  const result = await withoutStringTimers(() =>
    Promise.race([test.start(iceServers).catch(() => null), timeout(precallTimeoutMs, null), cancelled]),
  );
  if (result === null) {
    // Stop whatever the routine still has open (peer connections, timers).
    try {
      test.stop();
      test.crashDisconnect();
    } catch {
      // already stopped
    }
  }
  return result;
}

function randomBody(bytes: number): Uint8Array<ArrayBuffer> {
  const body = new Uint8Array(new ArrayBuffer(bytes));
  // getRandomValues fills at most 64 KiB per call. Random so that no compression flatters the line.
  for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(body.subarray(i, Math.min(bytes, i + 65536)));
  return body;
}

/**
 * Grows the sample (64 KiB → 512 KiB → 2 MiB) while each transfer is quick, so that a fast line
 * is measured on enough bytes and a slow phone line is not made to fetch megabytes. kbit/s.
 */
async function estimate(transfer: (bytes: number, signal: AbortSignal) => Promise<void>): Promise<number | null> {
  const sizes = [64 * 1024, 512 * 1024, 2 * 1024 * 1024];
  const started = performance.now();
  let best: number | null = null;
  for (const bytes of sizes) {
    const left = transferBudgetMs - (performance.now() - started);
    if (left <= 0) break;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), left);
    const t0 = performance.now();
    try {
      await transfer(bytes, controller.signal);
    } catch {
      break;
    } finally {
      clearTimeout(timer);
    }
    const ms = Math.max(performance.now() - t0, 1);
    best = (bytes * 8) / ms; // bits per millisecond = kbit/s
    if (ms > 400) break;
  }
  return best;
}

export function measureDownload(check: NetworkCheck): Promise<number | null> {
  return estimate(async (bytes, signal) => {
    const nonce = Math.random().toString(36).slice(2);
    const res = await fetch(`${check.base}/download?bytes=${bytes}&n=${nonce}`, {
      cache: 'no-store',
      signal,
      credentials: 'same-origin',
    });
    if (!res.ok) throw new Error(`download ${res.status}`);
    await res.arrayBuffer();
  });
}

export function measureUpload(check: NetworkCheck): Promise<number | null> {
  return estimate(async (bytes, signal) => {
    const res = await fetch(`${check.base}/upload`, {
      method: 'POST',
      body: randomBody(bytes),
      headers: { 'content-type': 'application/octet-stream', 'x-csrf-token': check.crumb },
      signal,
      credentials: 'same-origin',
    });
    if (!res.ok) throw new Error(`upload ${res.status}`);
    await res.arrayBuffer();
  });
}

/** Times each automatic part under a name the benchmark reads (performance.getEntriesByName). */
async function timed<T>(name: string, part: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await part();
  } finally {
    performance.measure(`techtest:${name}`, { start, end: performance.now() });
  }
}

/** Nothing measured: what an unexpected failure of the check leaves (its verdict is "failed"). */
export const noFigures = (): NetworkFigures => ({
  relayConfigured: false,
  relayUdp: null,
  relayTcp: null,
  rttMs: null,
  jitterMs: null,
  loss: null,
  throughputKbps: null,
  downloadKbps: null,
  uploadKbps: null,
  durationMs: null,
});

export async function checkNetwork(check: NetworkCheck): Promise<NetworkFigures> {
  const started = performance.now();
  const figures = noFigures();
  const ice = await iceFor(check);
  if (ice?.relay === undefined) {
    // The appliance itself did not answer: that is a failed connection, not a skipped relay.
    figures.durationMs = performance.now() - started;
    return figures;
  }
  if (ice.relay && ice.iceServers) {
    figures.relayConfigured = true;
    const servers = ice.iceServers;
    // Jitsi's pre-call test starts together with the relay probes (it needs ~4.5 s, they well under
    // one) and is called off when neither probe gets through: it could only wait for its timeout.
    let callOff = () => {};
    const precall = timed('precall', () =>
      runPreCall(servers, new Promise<null>((resolve) => (callOff = () => resolve(null)))),
    );
    const udpServers = forTransport(servers, 'udp');
    const tcpServers = forTransport(servers, 'tcp');
    const [udp, tcp] = await timed('relay', () => Promise.all([probeRelay(udpServers), probeRelay(tcpServers)]));
    // A transport the hospital offers no TURN URL for is not tested (null), not failed: a TURN
    // server only over TLS on 443 is a common way out of a strict network.
    figures.relayUdp = udpServers.length > 0 ? udp.ok : null;
    figures.relayTcp = tcpServers.length > 0 ? tcp.ok : null;
    if (!udp.ok && !tcp.ok) callOff();
    const pre = await precall;
    if (udp.ok || tcp.ok) {
      if (pre?.mediaConnectivity) {
        figures.loss = pre.fractionalLoss;
        figures.throughputKbps = pre.throughput;
        // With no RTT sample at all (in Firefox its first ping can go out before the sending
        // channel is open) the routine reports its 500 ms give-up value and √500 as jitter:
        // that is "not measured", not a slow line.
        const noSample =
          pre.rtt === rttGiveUpMs && pre.jitter !== null && Math.abs(pre.jitter - Math.sqrt(rttGiveUpMs)) < 1e-9;
        if (!noSample) {
          figures.rttMs = pre.rtt;
          figures.jitterMs = pre.jitter;
        }
      }
      // The probe's own echoes stand in when the routine timed nothing (UDP's: media prefers it).
      if (figures.rttMs === null) Object.assign(figures, roundTrip(udp.ok ? udp.rtts : tcp.rtts));
    }
  }
  // The line to the appliance after the pre-call test, so that its loss and throughput have the
  // line to themselves; download and upload side by side.
  [figures.downloadKbps, figures.uploadKbps] = await Promise.all([
    timed('download', () => measureDownload(check)),
    timed('upload', () => measureUpload(check)),
  ]);
  figures.durationMs = performance.now() - started;
  performance.measure('techtest:network', { start: started, end: performance.now() });
  return figures;
}

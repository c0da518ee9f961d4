// The connection verdict, shared by the page (to show it at once) and the server (which stores its
// own computation, not the browser's word). Plain data in, no DOM and no Node: both sides import it.
import type { NetworkFigures, TechTestAnswers, Verdict } from './model.ts';

/**
 * Limits beyond which a video meeting suffers. Jitsi needs roughly 1 Mbit/s each way for a
 * decent picture in a small meeting; above ~300 ms round trip or a few percent loss, speech breaks up.
 */
export const limits = {
  rttMs: 300,
  jitterMs: 50,
  loss: 0.05,
  throughputKbps: 500,
  downloadKbps: 1000,
  uploadKbps: 500,
} as const;

type Figures = Omit<NetworkFigures, 'durationMs'>;

export function connectionVerdict(n: Figures): Verdict {
  if (n.relayConfigured && !n.relayUdp && !n.relayTcp) return 'failed';
  if (n.downloadKbps === null && n.uploadKbps === null && !n.relayConfigured) return 'failed';
  const over = (value: number | null, limit: number) => value !== null && value > limit;
  const under = (value: number | null, limit: number) => value !== null && value < limit;
  const poor =
    // Only TCP through the relay (UDP tried and blocked): media works, but every lost packet is
    // resent late. No UDP TURN URL configured (null) is not a blocked UDP.
    (n.relayConfigured && n.relayUdp === false) ||
    over(n.rttMs, limits.rttMs) ||
    over(n.jitterMs, limits.jitterMs) ||
    over(n.loss, limits.loss) ||
    under(n.throughputKbps, limits.throughputKbps) ||
    under(n.downloadKbps, limits.downloadKbps) ||
    under(n.uploadKbps, limits.uploadKbps) ||
    n.downloadKbps === null ||
    n.uploadKbps === null;
  return poor ? 'poor' : 'good';
}

export type Device = 'camera' | 'microphone' | 'sound';

/**
 * The person's own devices that did not work in the test (they went on past the help): whatever the
 * connection, without them the others do not see or hear the person, or the person does not hear them.
 */
export function deviceProblems(a: Pick<TechTestAnswers, 'camera' | 'microphone' | 'sound'>): Device[] {
  const problems: Device[] = [];
  if (a.camera !== 'yes') problems.push('camera');
  if (a.microphone !== 'detected') problems.push('microphone');
  if (a.sound !== 'yes') problems.push('sound');
  return problems;
}

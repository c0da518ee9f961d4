import type { Plugin } from '@hapi/hapi';
import type { PartState } from '../common/readiness.ts';
import { staffRoutes } from './routes.ts';
import { turnCredentials } from './turn.ts';
import { allocate, udpTarget } from './turn-probe.ts';
import { must } from '../common/must.ts';

/** Health probes come every few seconds; the TURN server is asked at most once a minute. */
const turnCheckMs = 60_000;

export const plugin: Plugin<void> = {
  name: 'techtest',
  dependencies: ['db', 'staff'],
  register(server) {
    server.route(staffRoutes);

    const { turn } = server.app.config;
    let last: { at: number; state: PartState } | undefined;
    // A credential minted from TURN_SECRET must get a relay, as a browser's would.
    server.app.health.add('turn', async () => {
      if (!turn) return { ok: true, detail: 'off (TURN_URLS not set): the technical test skips the relay check' };
      if (last && Date.now() - last.at < turnCheckMs) return last.state;
      const target = udpTarget(turn.urls);
      let state: PartState;
      if (!target) {
        state = { ok: true, detail: 'no UDP TURN URL to check from here (TCP/TLS only)' };
      } else {
        const { username, credential } = must(
          turnCredentials(turn, { ttlSeconds: 60 }).iceServers[0],
          'TURN credentials',
        );
        const status = await allocate(target.host, target.port, username, credential).catch(
          (error: Error) => error.message,
        );
        state =
          status === 200
            ? { ok: true, detail: `${target.host}:${target.port} grants a relay for a minted credential` }
            : status === 401
              ? {
                  ok: false,
                  detail: `${target.host}:${target.port} refuses the minted credential: TURN_SECRET differs from the TURN server's static-auth-secret`,
                }
              : {
                  ok: false,
                  detail: `${target.host}:${target.port}: ${typeof status === 'number' ? `error ${status}` : status}`,
                };
      }
      last = { at: Date.now(), state };
      return state;
    });
  },
};

export { techTestPage, techTestRoutes, type TechTestMount } from './routes.ts';
export { latestResult, resultsOf } from './store.ts';
/** Retention: deletes the results taken before `before`; returns how many. */
export { deleteResultsBefore as purgeResults } from './store.ts';
/** A privacy erasure: a person's tests without their browser, system and device names. */
export { eraseResultDevices } from './store.ts';
export { staffSessionSubject } from './service.ts';
export { participantSubject, testTaker } from './model.ts';
export type { Subject, TechTestResult, TestTaker } from './model.ts';

// The public API: what other domains may use of this one (ARCHITECTURE.md).
export { describeUserAgent } from './useragent.ts';
export { deviceProblems, type Device } from './verdict.ts';

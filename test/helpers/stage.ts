// What a test of the routine stands on: the appliance (in this process, on this pass's database)
// with the real parts it sends through started beside it - an SMTP relay, an SMSC, a stand-in for
// Jitsi's web server - and Chromium, started together and stopped together, last started first
// stopped. Each test file asks for the parts its routine needs.
import test from 'ava';
import type { Answer, Arrival } from './smsc.ts';
import { launchChromium, type TestBrowser } from './browser.ts';
import { startJitsiStandIn, type JitsiStandIn } from './jitsi.ts';
import { startRelay, type Relay } from './relay.ts';
import { startServer, type TestServer } from './server.ts';
import { startSmsc, type TestSmsc } from './smsc.ts';

/** The secret the appliance signs Jitsi tokens with when the stage has the Jitsi stand-in. */
export const jwtSecret = 'a-jitsi-app-secret-of-at-least-32-chars';

export interface StageOptions {
  /** An SMTP relay the appliance sends its mail through. */
  relay?: boolean;
  /** An SMSC the appliance sends its SMS to; a function answers each message (startSmsc). */
  smsc?: boolean | ((arrival: Arrival, index: number) => Answer);
  /** The stand-in for Jitsi's web server (external_api.js), with JITSI_URL and the token secret set. */
  jitsi?: boolean;
  /** Chromium; with `media`, the fake camera and microphone. */
  browser?: boolean | { media: boolean };
  env?: Record<string, string>;
}

type Part<Asked, T> = Asked extends false | undefined ? unknown : T;

export type Stage<O extends StageOptions> = { app: TestServer; stop(): Promise<void> } & Part<
  O['relay'],
  { relay: Relay }
> &
  Part<O['smsc'], { smsc: TestSmsc }> &
  Part<O['jitsi'], { jitsi: JitsiStandIn }> &
  Part<O['browser'], { chromium: TestBrowser }>;

export async function startStage<const O extends StageOptions>(options: O): Promise<Stage<O>> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const [relay, smsc, jitsi] = await Promise.all([
      options.relay ? startRelay() : undefined,
      options.smsc ? startSmsc(typeof options.smsc === 'function' ? options.smsc : undefined) : undefined,
      options.jitsi ? startJitsiStandIn() : undefined,
    ]);
    for (const part of [relay, smsc, jitsi]) if (part) stops.push(() => part.close());
    const env: Record<string, string> = {
      ...(relay ? { SMTP_URL: relay.url } : {}),
      ...(smsc ? { SMPP_URL: smsc.url } : {}),
      ...(jitsi ? { JITSI_URL: jitsi.url, JWT_APP_ID: 'samverka', JWT_APP_SECRET: jwtSecret } : {}),
      // Messages the test did not ask for would mix with those it reads.
      ...(relay || smsc ? { REMINDER_OFFSETS: 'none' } : {}),
      ...options.env,
    };
    // Each part is stopped with the rest even when another failed to start.
    const started = <T extends { close?(): Promise<unknown>; stop?(): Promise<unknown> }>(part: T) => {
      stops.push(() => (part.stop ? part.stop() : part.close!()));
      return part;
    };
    const [app, chromium] = await Promise.all([
      startServer({ env }).then(started),
      options.browser
        ? launchChromium(typeof options.browser === 'object' ? { media: options.browser.media } : {}).then(started)
        : undefined,
    ]);
    return { app, relay, smsc, jitsi, chromium, stop } as Stage<O>;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The stage of one test file: started before its tests, stopped after them (also when one fails);
 * `started` hands the parts to the file's own variables.
 */
export function useStage<const O extends StageOptions>(options: O, started: (stage: Stage<O>) => void): void {
  let stage: Stage<O> | undefined;
  test.before(async () => {
    stage = await startStage(options);
    started(stage);
  });
  test.after.always(() => stage?.stop());
}

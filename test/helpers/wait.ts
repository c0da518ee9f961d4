// Polling for something a test started to arrive (a mail, an SMS), with a deadline that names it.
import type { Relay } from './relay.ts';

/** Resolves with the first truthy answer of `find` (which may be async), or fails naming `what`. */
export async function until<T>(
  what: string,
  find: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The one-time link (/j/…) in the first mail with one that the relay received for `email`, as a full URL. */
export const mailedLink = (relay: Relay, email: string): Promise<string> =>
  until(`the mail to ${email}`, () =>
    relay.received
      .filter((m) => m.to && 'text' in m.to && m.to.text.includes(email))
      .map((m) => /http:\/\/[^\s]+\/j\/[\w-]+/.exec(m.text ?? '')?.[0])
      .find((link) => link !== undefined),
  );

/** The path (/j/…) of the one-time link in the mail to `email`: what the guest's browser opens. */
export const mailedPath = async (relay: Relay, email: string): Promise<string> =>
  new URL(await mailedLink(relay, email)).pathname;

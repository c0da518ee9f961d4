// The appliance's periodic jobs (reminders, the rooms' schedule, evaluation requests, retention):
// a tick soon after start and then every `everyMs`, never overlapping itself, never keeping the
// process alive, and a failed tick logged rather than ending the schedule. The stop it returns
// ends the schedule and resolves once a tick still running has finished: what stops a job before
// the database closes waits for its last writes. Its `now` asks for a tick at once, when what a
// tick needs has just come (the rooms' XMPP session): after the one running, which began without it.
// A job whose first tick needs what has not come yet (`firstAfterMs: null`) has none soon after
// start: its first is the one asked for by `now`, or the first of the period.
export type Schedule = (() => Promise<void>) & { now: () => void };

export function every(
  everyMs: number,
  tick: () => Promise<unknown>,
  onError: (error: Error) => void,
  options: { firstAfterMs?: number | null } = {},
): Schedule {
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;
  const run = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        await tick();
      } catch (error) {
        onError(error as Error);
      } finally {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      }
    })();
  };
  const timer = setInterval(run, everyMs);
  timer.unref();
  const first = options.firstAfterMs === null ? undefined : setTimeout(run, options.firstAfterMs ?? 0);
  first?.unref();
  const stop = async () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(first);
    await running;
  };
  return Object.assign(stop, {
    now: () => {
      if (running) again = true;
      else run();
    },
  });
}

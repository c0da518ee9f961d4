// The appliance's periodic jobs (reminders, the rooms' schedule, evaluation requests, retention):
// a tick soon after start and then every `everyMs`, never overlapping itself, never keeping the
// process alive, and a failed tick logged rather than ending the schedule.
export function every(
  everyMs: number,
  tick: () => Promise<unknown>,
  onError: (error: Error) => void,
  options: { firstAfterMs?: number } = {},
): () => void {
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running || stopped) return;
    running = true;
    try {
      await tick();
    } catch (error) {
      onError(error as Error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(run, everyMs);
  timer.unref();
  const first = setTimeout(run, options.firstAfterMs ?? 0);
  first.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(first);
  };
}

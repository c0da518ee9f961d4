// The periodic jobs' schedule (appliance/src/schedule.ts): its stop ends the schedule and waits for
// a tick still running, so that a job stopped before the database closes has finished its writes.
import test from 'ava';
import { every } from '../appliance/src/schedule.ts';
import { until } from './helpers/wait.ts';

test('stopping the schedule resolves only once the tick still running has finished, and no tick starts after it', async (t) => {
  let finish = () => {};
  let ticks = 0;
  let finished = 0;
  const stop = every(
    60_000,
    async () => {
      ticks += 1;
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      finished += 1;
    },
    (error) => t.fail(error.message),
  );
  await until('the first tick', () => ticks === 1);
  let stopped = false;
  const stopping = stop().then(() => {
    stopped = true;
  });
  // Turns of the event loop pass: the stop still waits for the tick.
  await new Promise((resolve) => setImmediate(resolve));
  t.false(stopped, 'not stopped while its tick runs');
  finish();
  await stopping;
  t.is(finished, 1, 'the tick had finished when the stop resolved');
  t.is(ticks, 1);
});

test('a schedule stopped between ticks stops at once', async (t) => {
  let ticks = 0;
  const stop = every(
    60_000,
    async () => {
      ticks += 1;
    },
    (error) => t.fail(error.message),
  );
  await until('the first tick', () => ticks === 1);
  await stop();
  t.is(ticks, 1);
});

test('a tick asked for now runs at once between ticks, and right after the one running (which began without what it waited for)', async (t) => {
  let finish = () => {};
  let ticks = 0;
  const schedule = every(
    60_000,
    async () => {
      ticks += 1;
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
    },
    (error) => t.fail(error.message),
  );
  await until('the first tick', () => ticks === 1);
  schedule.now();
  schedule.now();
  t.is(ticks, 1, 'never beside the tick running');
  finish();
  await until('the tick asked for', () => ticks === 2);
  finish();
  await new Promise((resolve) => setImmediate(resolve));
  t.is(ticks, 2, 'asked twice while one ran: one more tick');
  schedule.now();
  t.is(ticks, 3, 'between ticks: at once');
  finish();
  await schedule();
});

// Start and idle memory: the built appliance started as `npm start` starts it (node on dist/,
// embedded defaults) beside the baseline process, interleaved. The first start of a fresh data
// directory also migrates the database and creates the first admin (a scrypt hash); the restart
// on that directory is the everyday case the goal is about. Idle memory is the appliance's
// resident set a few seconds after it is ready, with nothing configured beyond the defaults.
import {
  interleaved,
  isMain,
  judge,
  prepareData,
  rounds,
  showSpread,
  spread,
  startAppliance,
  startBaseline,
  table,
} from './harness.ts';

const idleSettleMs = 3000;

export async function run(): Promise<void> {
  const results = await interleaved({
    baseline: async () => {
      const p = await startBaseline();
      await p.stop();
      return { readyMs: p.readyMs, rss: Number.NaN };
    },
    first: async () => {
      // A data directory with nothing in it: the appliance migrates and creates its first admin.
      const data = await prepareData({}, 0);
      const p = await startAppliance({ ...data, env: { ...data.env, DATABASE_URL: `sqlite:${data.dir}/fresh.db` } });
      await p.stop();
      data.remove();
      return { readyMs: p.readyMs, rss: Number.NaN };
    },
    restart: async () => {
      const data = await prepareData({}, 1);
      const p = await startAppliance(data);
      await new Promise((r) => setTimeout(r, idleSettleMs));
      const { rss } = p.memory();
      await p.stop();
      data.remove();
      return { readyMs: p.readyMs, rss };
    },
  });
  const ready = (k: keyof typeof results) => spread(results[k].map((r) => r.readyMs));
  const idle = spread(results.restart.map((r) => r.rss));
  table(
    `Start → /health/ready answering 200, ms (${rounds} interleaved rounds: median (min–max))`,
    ['process', 'ready ms', 'median ÷ baseline'],
    [
      ['empty hapi route, node on plain JS (baseline)', showSpread(ready('baseline'), '', 0), 1],
      [
        'appliance from dist/, database migrated, first admin created (first start)',
        showSpread(ready('first'), '', 0),
        ready('first').median / ready('baseline').median,
      ],
      [
        'appliance from dist/, existing database (restart)',
        showSpread(ready('restart'), '', 0),
        ready('restart').median / ready('baseline').median,
      ],
    ],
  );
  table(
    'Appliance resident memory, idle after start (embedded defaults), MB',
    ['measure', 'MB'],
    [['VmRSS', showSpread(idle, ' MB', 0)]],
  );
  judge(
    'start → /health/ready (built dist, restart)',
    '≤ 2 s',
    `${showSpread(ready('restart'), ' ms', 0)}; baseline ${ready('baseline').median.toFixed(0)} ms`,
    ready('restart').median <= 2000,
  );
  judge('idle RSS (embedded defaults)', '≤ 150 MB', showSpread(idle, ' MB', 0), idle.median <= 150);
}

if (isMain(import.meta.url)) await run();

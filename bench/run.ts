// `npm run bench`: every case in order, or only those named (`npm run bench -- start guest`), then
// one table: case, goal, measured, verdict. BENCH_ROUNDS (≥ 3), BENCH_SECONDS and
// BENCH_CONNECTIONS tune the rounds and the HTTP cases.
import { printSummary } from './harness.ts';

const cases = ['start', 'http', 'calendar', 'messages', 'guest', 'entry', 'scale', 'xmpp'];
const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!cases.includes(name)) throw new Error(`no benchmark named ${name}: ${cases.join(', ')}`);
const chosen = wanted.length > 0 ? cases.filter((c) => wanted.includes(c)) : cases;

process.stdout.write(
  `Samverka benchmarks: ${chosen.join(', ')} (node ${process.version}, ${new Date().toISOString()})\n`,
);
for (const name of chosen) {
  const mod = (await import(`./${name}.ts`)) as { run(): Promise<void> };
  await mod.run();
}
printSummary();

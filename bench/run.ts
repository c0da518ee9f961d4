// `npm run bench`: runs every case module in bench/ (each exports run()), or only those named:
// `npm run bench -- staff sms`. BENCH_SECONDS and BENCH_CONNECTIONS tune the HTTP cases.
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const modules = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'harness.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

process.stdout.write(`Samverka benchmarks: ${modules.join(', ')} (node ${process.version}, ${new Date().toISOString()})\n`);
for (const name of modules) {
  const mod = (await import(`./${name}.ts`)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts does not export run()`);
  await mod.run();
}

// Bundles the small client scripts in admin/client/*.ts into dist/static/ with esbuild.
import { readdirSync } from 'node:fs';
import { build } from 'esbuild';

const entries = readdirSync(new URL('./client/', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => new URL(`./client/${f}`, import.meta.url).pathname);

if (entries.length > 0) {
  await build({ entryPoints: entries, bundle: true, minify: true, format: 'esm', target: ['chrome100', 'firefox100', 'safari15'], outdir: 'dist/static', sourcemap: true, logLevel: 'warning' });
}

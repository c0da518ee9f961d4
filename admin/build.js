// Bundles the small client scripts into dist/static/ with esbuild: each file directly in admin/client/
// is a page's entry point; the modules they share live in subfolders (admin/client/techtest/…).
import { readdirSync } from 'node:fs';
import { build } from 'esbuild';

const entries = readdirSync(new URL('./client/', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => new URL(`./client/${f}`, import.meta.url).pathname);

if (entries.length > 0) {
  await build({
    entryPoints: entries,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    outdir: 'dist/static',
    sourcemap: true,
    logLevel: 'warning',
  });
}

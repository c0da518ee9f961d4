#!/usr/bin/env node
// `samverka` CLI. In a checkout it runs the TypeScript source through tsx (never a stale build);
// in the container image, where only the compiled output ships, it runs that.
import { existsSync } from 'node:fs';

process.env.SAMVERKA_CLI = '1';
const source = new URL('../appliance/src/cli.ts', import.meta.url);
const compiled = new URL('../dist/appliance/src/cli.js', import.meta.url);
let useSource = existsSync(source);
if (useSource) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    useSource = false;
  }
}
await import((useSource ? source : compiled).href);

// Folders a test file makes for its own use (a DATA_DIR, a bundle's volumes, a templates folder):
// they go when the file's worker process ends, however its tests ended (ava runs each test file in
// a process of its own).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder, samverka-<prefix>-…, removed when this test file's process ends. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `samverka-${prefix}-`));
  made.push(dir);
  return dir;
}

// Guest pages carry the small stylesheets and scripts of their first paint inside the page: on a
// mobile line every extra file is another round trip (half a second on "Fast 3G") before the page
// can show. The Content-Security-Policy admits exactly these texts by their hashes, so no other
// inline style or script runs. Bigger files (the technical test's script) stay files, cached.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../config.ts';

/** Files up to this size go inline; above it a file of its own, cached across pages, is cheaper. */
const inlineLimit = 8 * 1024;
const folders = [join(projectRoot, 'admin', 'static'), join(projectRoot, 'dist', 'static')];

/** Read once at start: the texts and their hashes come from the same read, so they always agree. */
function load(): Map<string, string> {
  const texts = new Map<string, string>();
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    for (const file of readdirSync(folder)) {
      if (!/\.(css|js)$/.test(file)) continue;
      // A source map comment means nothing inside a page.
      const text = readFileSync(join(folder, file), 'utf8').replace(
        /\n?\/[/*]# sourceMappingURL=\S+(\s*\*\/)?\s*$/,
        '',
      );
      if (Buffer.byteLength(text) <= inlineLimit) texts.set(file, text);
    }
  }
  return texts;
}

const texts = load();

/** The text to put inside the page for `file`, or undefined when it stays a file. */
export const inlineText = (file: string): string | undefined => texts.get(file);

/** CSP sources for every inlinable text of one kind: `'sha256-…'` each. */
export function inlineHashes(kind: 'css' | 'js'): string[] {
  return [...texts]
    .filter(([file]) => file.endsWith(`.${kind}`))
    .map(([, text]) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`);
}

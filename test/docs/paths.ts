// The documents point the next developer and hospital IT at files (`invites/dispatcher.ts`,
// `provisioning/debian/install.sh`, `admin/locales/{sv,en}/<domain>.json`): each one named must
// exist, so that a renamed or removed file cannot live on in them. A path is read from the project's
// root, or from appliance/src/, admin/ or templates/ as the documents write it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { projectRoot } from '../../appliance/src/config.ts';

const documents = ['README.md', 'ARCHITECTURE.md', 'provisioning/INSTALL.md', 'bench/README.md'];
const bases = ['', 'appliance/src', 'admin', 'templates'];
/** Named as what must not be: README's example of an override whose file name is no message. */
const wrongOnPurpose = new Set(['sms/sv/invite.hbs']);
// `./data/secrets.json` and the like are made at run time, not kept in the project.
const fileLike =
  /^(?!\.\/)(?:\.\.\/)?[\w.-]+(?:\/[\w.*{},<>-]+)+\.(?:ts|js|mjs|cjs|sh|md|yaml|json|lua|service|hbs|example)$/;

/** The project's files, from its root, without the installed and built ones. */
const files = readdirSync(projectRoot, { recursive: true, encoding: 'utf8' })
  .map((file) => file.replaceAll('\\', '/'))
  .filter((file) => !/^(node_modules|dist|coverage|\.git)\//.test(file));

/** A documented path as a pattern: `{sv,en}` is either, `<domain>`, `{id}` and `*` any name. */
function patternOf(path: string): RegExp {
  const escaped = path
    .replace(/^\.\.\//, '')
    .replace(/[.+^$()|[\]\\]/g, '\\$&')
    .replace(/<[^>]+>|\{\w+\}|\*/g, '[^/]*')
    .replace(/\{([\w,]+)\}/g, (_, alternatives: string) => `(?:${alternatives.split(',').join('|')})`);
  return new RegExp(`^(?:${bases.map((b) => (b ? `${b}/` : '')).join('|')})${escaped}$`);
}

test('every file path the documents name exists', (t) => {
  let checked = 0;
  for (const document of documents) {
    const text = readFileSync(join(projectRoot, document), 'utf8');
    for (const [, path] of text.matchAll(/`([^`\s]+)`/g)) {
      if (!fileLike.test(path!) || wrongOnPurpose.has(path!)) continue;
      const pattern = patternOf(path!);
      const found = files.some((file) => pattern.test(file));
      t.true(found, `${document} names ${path}, which does not exist`);
      checked += 1;
    }
  }
  t.true(checked > 50, `the documents' paths were read (${checked})`);
});

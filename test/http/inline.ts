// Guest pages carry their small stylesheet and script inside the page (one round trip fewer each
// on a mobile line), and the Content-Security-Policy admits exactly those texts by hash.
import { createHash } from 'node:crypto';
import test from 'ava';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app.stop());

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

test('a guest page has its stylesheet and script inside, each admitted by its hash and nothing else inline', async (t) => {
  const page = await app.client().get(`/j/${'A'.repeat(24)}`);
  const style = /<style>([\s\S]*?)<\/style>/.exec(page.text)?.[1];
  const script = /<script type="module">([\s\S]*?)<\/script>/.exec(page.text)?.[1];
  t.truthy(style, 'the stylesheet is in the page');
  t.truthy(script, 'the script is in the page');
  t.notRegex(page.text, /<link rel="stylesheet"/);
  const csp = page.headers.get('content-security-policy')!;
  const sources = (directive: string) =>
    present(
      csp
        .split(';')
        .map((d) => d.trim())
        .find((d) => d.startsWith(`${directive} `)),
      `the ${directive} directive`,
    )
      .split(' ')
      .slice(1);
  t.true(sources('style-src').includes(hashOf(style!)));
  t.true(sources('script-src').includes(hashOf(script!)));
  t.false(csp.includes('unsafe-inline'));
});

test('a staff page still loads its stylesheet as a file', async (t) => {
  const page = await app.client().get('/login');
  t.regex(page.text, /<link rel="stylesheet" href="\/static\/app\.css">/);
  t.notRegex(page.text, /<style>/);
});

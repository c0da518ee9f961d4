// Pages are rendered from views that never change while the appliance runs: once a view has been
// rendered, rendering it again reads nothing from the disk (vision would look the view and its
// layout up with fs.stat on every render; http/views.ts makes it once).
import { createHook } from 'node:async_hooks';
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app.stop());

/** The file-system requests (callback and promise API) made while `work` runs. */
async function fileRequestsDuring(work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'FSREQCALLBACK' || type === 'FSREQPROMISE') count += 1;
    },
  });
  hook.enable();
  try {
    await work();
  } finally {
    hook.disable();
  }
  return count;
}

// Pages that write nothing: a write's commit syncs the database's log, a file request of its own.
for (const [page, url] of [
  ['the login page (the staff layout)', '/login'],
  ["a guest's page not found (the guest layout)", '/entry/no-such-page'],
] as const) {
  test(`${page} rendered again touches no file`, async (t) => {
    const ask = () => app.server.inject({ url, headers: { accept: 'text/html' } });
    const first = await ask();
    t.regex(first.payload, /<html/);
    const files = await fileRequestsDuring(ask);
    t.is(files, 0);
  });
}

// The connection log's CSV as support opens it: in Excel with Swedish settings, like the log extract
// and the evaluation report - a byte-order mark (so "Mötet bokades" stays readable) and semicolons.
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.ts';
import { booking, loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { REMINDER_OFFSETS: 'none' } });
});
test.after.always(() => app?.stop());

test('the connection log CSV opens in Excel with Swedish settings: a byte-order mark and semicolons', async (t) => {
  const { client } = await loggedIn(app, 'clinician');
  const reply = await client.request('POST', '/api/v1/meetings', { json: booking() });
  t.is(reply.status, 201);
  const { client: support } = await loggedIn(app, 'support');
  // The bytes as Excel reads them (fetch's text() would drop the byte-order mark).
  const csv = await fetch(new URL(`/connlog/meetings/${reply.json<{ id: string }>().id}?format=csv`, support.base), {
    headers: { cookie: [...support.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  t.is(csv.status, 200);
  const bytes = Buffer.from(await csv.arrayBuffer());
  t.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 said with a byte-order mark');
  const lines = bytes.subarray(3).toString('utf8').split('\r\n');
  t.is(lines[0], 'at;participantId;participant;type;error;text;details');
  t.true(
    lines.some((l) => /;meeting_booked;false;Mötet bokades/.test(l)),
    lines.join('\n'),
  );
});

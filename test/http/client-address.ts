// Behind the hospital's proxy: X-Forwarded-For is believed only from TRUSTED_PROXIES, read from the
// right, and the client it names is who the login limit counts and the audit log records.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { clientAddress, trustList } from '../../appliance/src/http/client-address.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const proxies = trustList(['127.0.0.1', '10.0.0.0/24', 'fd00::/8']);

test('the right-most address no trusted proxy added is the client', (t) => {
  t.is(clientAddress('127.0.0.1', '203.0.113.9', proxies), '203.0.113.9');
  t.is(clientAddress('::ffff:127.0.0.1', '203.0.113.9', proxies), '203.0.113.9', 'an IPv4 peer on a dual-stack socket');
  t.is(
    clientAddress('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.0.0.5', proxies),
    '203.0.113.9',
    'through two trusted proxies',
  );
  t.is(clientAddress('127.0.0.1', ['198.51.100.1', '203.0.113.9'], proxies), '203.0.113.9', 'repeated headers');
  t.is(clientAddress('127.0.0.1', '10.0.0.5, 10.0.0.6', proxies), '10.0.0.5', 'all trusted: the left-most');
  t.is(clientAddress('127.0.0.1', 'fd00::1, 2001:db8::7', proxies), '2001:db8::7');
});

test('a forwarded address from anyone else, or garbage in the header, is not believed', (t) => {
  t.is(clientAddress('203.0.113.50', '192.0.2.1', proxies), '203.0.113.50', 'the peer is no trusted proxy');
  t.is(
    clientAddress('127.0.0.1', '192.0.2.1, not-an-address', proxies),
    '127.0.0.1',
    'the proxy wrote something that is no address',
  );
  t.is(clientAddress('127.0.0.1', '', proxies), '127.0.0.1');
  t.is(
    clientAddress('127.0.0.1', '203.0.113.9', trustList([])),
    '127.0.0.1',
    'TRUSTED_PROXIES unset: nothing is believed',
  );
  t.is(
    clientAddress('', '203.0.113.9', proxies),
    '',
    'a client that hung up before its request was read has no address to vouch for',
  );
});

let behindProxy: TestServer;
let direct: TestServer;
test.before(async () => {
  [behindProxy, direct] = await Promise.all([startServer({ env: { TRUSTED_PROXIES: '127.0.0.1' } }), startServer()]);
});
test.after.always(() => Promise.all([behindProxy?.stop(), direct?.stop()]));

const from = (app: TestServer, address: string) => {
  const client = app.client();
  client.headers['x-forwarded-for'] = address;
  return client;
};

test('behind a trusted proxy the login limit counts each client, not the whole hospital', async (t) => {
  const email = 'ingen@region.example';
  const crowd = from(behindProxy, '192.0.2.20');
  const replies = [];
  for (let i = 0; i < 31; i += 1) replies.push((await crowd.login(email, `fel-${i}`)).status);
  t.deepEqual(replies.slice(0, 30), Array(30).fill(401));
  t.is(replies[30], 429, 'the 31st login from one client within 15 minutes');
  t.is(
    (await from(behindProxy, '192.0.2.21').login(email, 'fel')).status,
    401,
    'the next clinician behind the same proxy may still log in',
  );
});

test('the audit log records the client behind a trusted proxy, and the peer when the proxy is not trusted', async (t) => {
  const email = `spår-${Date.now()}@region.example`;
  await from(behindProxy, '192.0.2.30').login(email, 'fel');
  await from(direct, '192.0.2.31').login(email, 'fel');
  const recorded = async (app: TestServer) =>
    (await findAudit(app.server.app.db, { action: 'login.failed' })).find(
      (r) => (r.details as { email?: string } | null)?.email === email,
    )?.ip;
  t.is(await recorded(behindProxy), '192.0.2.30');
  t.is(await recorded(direct), '127.0.0.1', 'without TRUSTED_PROXIES a forwarded address is ignored');
});

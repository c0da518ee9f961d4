// Behind the hospital's proxy: X-Forwarded-For is believed only from TRUSTED_PROXIES, read from the
// right, and the client it names is who the login limit counts and the audit log records.
import test from 'ava';
import { findAudit } from '../../appliance/src/audit/store.ts';
import { attemptSource, clientAddress, trustList } from '../../appliance/src/http/client-address.ts';
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

test('attempts are counted per IPv4 address and per IPv6 /64, however the address is written', (t) => {
  t.is(attemptSource('192.0.2.1'), '192.0.2.1');
  t.is(attemptSource('2001:DB8:aa:bb:1:2:3:4'), '2001:db8:aa:bb::/64');
  t.is(attemptSource('2001:0db8:00aa:00bb::9'), '2001:db8:aa:bb::/64', 'leading zeros');
  t.is(attemptSource('2001:db8::1'), '2001:db8:0:0::/64', 'the /64 inside the zeros left out');
  t.is(attemptSource('::1'), '0:0:0:0::/64');
  t.is(attemptSource('fe80::1%eth0'), 'fe80:0:0:0::/64', 'a zone');
  t.is(attemptSource('64:ff9b::192.0.2.1'), '64:ff9b::192.0.2.1', 'an IPv4 client through NAT64 is counted on its own');
  t.is(attemptSource(''), '', 'no address');
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

/** 31 wrong passwords in a row behind the proxy, the i-th from `address(i)`: their statuses. */
async function wrongLogins(email: string, address: (i: number) => string): Promise<number[]> {
  const replies = [];
  for (let i = 0; i < 31; i += 1) replies.push((await from(behindProxy, address(i)).login(email, `fel-${i}`)).status);
  return replies;
}

test('behind a trusted proxy the login limit counts each client, not the whole hospital', async (t) => {
  const email = 'ingen@region.example';
  const replies = await wrongLogins(email, () => '192.0.2.20');
  t.deepEqual(replies.slice(0, 30), Array(30).fill(401));
  t.is(replies[30], 429, 'the 31st login from one client within 15 minutes');
  t.is(
    (await from(behindProxy, '192.0.2.21').login(email, 'fel')).status,
    401,
    'the next clinician behind the same proxy may still log in',
  );
});

test('an IPv6 client is counted by its /64: a new address in the same network for every guess gets no more tries', async (t) => {
  // A home or mobile network gets a /64 of its own, and a client picks any address in it at will
  // (privacy addresses): counted per address, every guess would be its first.
  const email = 'ingen-v6@region.example';
  const replies = await wrongLogins(email, (i) => `2001:db8:aa:bb:${(i + 1).toString(16)}::1`);
  t.deepEqual(replies.slice(0, 30), Array(30).fill(401));
  t.is(replies[30], 429, 'the 31st login from the same /64 within 15 minutes');
  t.is(
    (await from(behindProxy, '2001:db8:aa:bb:0:0:0:ffff').login(email, 'fel')).status,
    429,
    'the same network written out in full',
  );
  t.is(
    (await from(behindProxy, '2001:db8:aa:bc::1').login(email, 'fel')).status,
    401,
    'the next network may still log in',
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

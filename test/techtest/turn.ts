import { createHmac } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import test from 'ava';
import { udpTarget } from '../../appliance/src/techtest/turn-probe.ts';
import { turnCredentials, turnPassword, turnTtlSeconds } from '../../appliance/src/techtest/turn.ts';
import { allocate, startCoturn } from '../helpers/coturn.ts';
import { present } from '../helpers/present.ts';
import { startServer } from '../helpers/server.ts';

/** The one ICE server turnCredentials offers: every configured URL with one minted credential. */
const minted = (...args: Parameters<typeof turnCredentials>) =>
  present(turnCredentials(...args).iceServers[0], 'the ICE server with the minted credential');

const turn = {
  urls: ['turn:turn.region.example:3478?transport=udp', 'turn:turn.region.example:3478?transport=tcp'],
  secret: 'delad-hemlighet-för-turn',
};

test('the username is "<unix expiry>:<id>" and expires after the short TTL', (t) => {
  const now = new Date('2026-11-25T10:00:00Z');
  const { iceServers, expiresAt } = turnCredentials(turn, { now });
  t.is(iceServers.length, 1);
  const [expiry, id] = present(iceServers[0], 'the ICE server').username.split(':');
  t.is(Number(expiry), now.getTime() / 1000 + turnTtlSeconds);
  t.is(expiresAt.getTime(), Number(expiry) * 1000);
  t.regex(present(id, 'an id after the expiry'), /^[0-9a-f]{16}$/);
  t.true(turnTtlSeconds <= 3600, 'short-lived');
});

test('the password is base64(HMAC-SHA1(secret, username)), as coturn checks it', (t) => {
  const server = minted(turn, { now: new Date(0), id: 'abc' });
  const username = `${turnTtlSeconds}:abc`;
  t.is(server.username, username);
  const expected = createHmac('sha1', turn.secret).update(username).digest('base64');
  t.is(server.credential, expected);
  t.is(turnPassword(turn.secret, username), expected);
  // RFC-style check value: HMAC-SHA1 is 20 bytes, 28 characters in base64.
  t.is(Buffer.from(server.credential, 'base64').length, 20);
});

test('every configured URL is offered, and each call gets a fresh id', (t) => {
  const a = minted(turn);
  const b = minted(turn);
  t.deepEqual(a.urls, turn.urls);
  t.not(a.username, b.username);
});

test('coturn grants a relay for minted credentials and refuses them under another secret or once expired', async (t) => {
  const coturn = await startCoturn();
  try {
    const config = { urls: coturn.urls.split(','), secret: coturn.secret };
    const fresh = minted(config);
    t.is(await allocate(coturn.port, fresh.username, fresh.credential), 200);
    const forged = minted({ ...config, secret: `${coturn.secret}-fel` });
    t.is(await allocate(coturn.port, forged.username, forged.credential), 401);
    const expired = minted(config, { now: new Date(Date.now() - 2 * turnTtlSeconds * 1000) });
    t.is(await allocate(coturn.port, expired.username, expired.credential), 401);
  } finally {
    await coturn.stop();
  }
});

test('the probe asks again when a datagram is lost on the way, as STUN does over UDP', async (t) => {
  const coturn = await startCoturn();
  // Between the probe and coturn: a network that loses the first datagram of each request.
  const lossy = createSocket('udp4');
  const upstream = createSocket('udp4');
  let from: RemoteInfo | undefined;
  const tries = new Map<string, number>();
  lossy.on('message', (message, sender) => {
    from = sender;
    const transaction = message.subarray(8, 20).toString('hex');
    tries.set(transaction, (tries.get(transaction) ?? 0) + 1);
    if (tries.get(transaction) === 1) return; // lost
    upstream.send(message, coturn.port, '127.0.0.1');
  });
  upstream.on('message', (message) => from && lossy.send(message, from.port, from.address));
  await new Promise<void>((resolve) => lossy.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
  try {
    const fresh = minted({ urls: coturn.urls.split(','), secret: coturn.secret });
    t.is(await allocate(lossy.address().port, fresh.username, fresh.credential), 200);
    t.true(tries.size >= 2, 'the challenge and the signed request each went twice');
  } finally {
    lossy.close();
    upstream.close();
    await coturn.stop();
  }
});

test('readiness checks TURN with a minted credential: ready when the secrets agree, a sentence naming the fix when not', async (t) => {
  const coturn = await startCoturn();
  const urls = `turn:127.0.0.1:${coturn.port}?transport=udp,turn:127.0.0.1:${coturn.port}?transport=tcp`;
  const good = await startServer({ env: { TURN_URLS: urls, TURN_SECRET: coturn.secret } });
  const bad = await startServer({ env: { TURN_URLS: urls, TURN_SECRET: 'not-the-turn-servers-secret' } });
  try {
    const ready = (await good.client().get('/health/ready')).json();
    t.deepEqual(ready.parts.turn, {
      ok: true,
      detail: `127.0.0.1:${coturn.port} grants a relay for a minted credential`,
    });
    const notReady = await bad.client().get('/health/ready');
    t.is(notReady.status, 503);
    t.regex(
      notReady.json().parts.turn.detail,
      /refuses the minted credential: TURN_SECRET differs from the TURN server's static-auth-secret/,
    );
  } finally {
    await good.stop();
    await bad.stop();
    await coturn.stop();
  }
});

test('readiness finds the UDP TURN URL to check however the URL spells its transport', (t) => {
  // The browser reads the transport case-insensitively (the page's relay probes): so must the
  // check, or a TURN server under a wrong secret is reported ready without having been asked.
  t.deepEqual(udpTarget(['turn:turn.example.se:3478?transport=UDP']), { host: 'turn.example.se', port: 3478 });
  t.deepEqual(udpTarget(['turn:turn.example.se?transport=Udp']), { host: 'turn.example.se', port: 3478 });
  t.deepEqual(udpTarget(['turn:[2001:db8::1]:3479']), { host: '2001:db8::1', port: 3479 });
  t.is(udpTarget(['turn:turn.example.se:3478?transport=TCP', 'turns:turn.example.se:5349']), undefined);
});

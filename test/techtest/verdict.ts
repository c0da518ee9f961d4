import test from 'ava';
import type { NetworkFigures } from '../../appliance/src/techtest/model.ts';
import { connectionVerdict, limits } from '../../appliance/src/techtest/verdict.ts';
import { noFigures } from '../../admin/client/techtest/network.ts';

const good: NetworkFigures = {
  relayConfigured: true,
  relayUdp: true,
  relayTcp: true,
  rttMs: 30,
  jitterMs: 4,
  loss: 0.001,
  throughputKbps: 3000,
  downloadKbps: 20_000,
  uploadKbps: 8000,
  durationMs: 5000,
};

test('a relay reached over UDP with a fast line is good', (t) => {
  t.is(connectionVerdict(good), 'good');
});

test('no relay over either transport fails, whatever the line to the appliance', (t) => {
  t.is(
    connectionVerdict({
      ...good,
      relayUdp: false,
      relayTcp: false,
      rttMs: null,
      jitterMs: null,
      loss: null,
      throughputKbps: null,
    }),
    'failed',
  );
});

test('a relay reached only over TCP (UDP blocked) is poor', (t) => {
  t.is(connectionVerdict({ ...good, relayUdp: false }), 'poor');
});

test('a TURN server offered only over TLS/TCP that relays is good on a good line: UDP was not tried, not blocked', (t) => {
  t.is(connectionVerdict({ ...good, relayUdp: null }), 'good');
  t.is(connectionVerdict({ ...good, relayUdp: null, relayTcp: false }), 'failed', 'and failed when it relays nothing');
});

test('a slow, lossy or jittery line is poor', (t) => {
  t.is(connectionVerdict({ ...good, rttMs: limits.rttMs + 1 }), 'poor');
  t.is(connectionVerdict({ ...good, jitterMs: limits.jitterMs + 1 }), 'poor');
  t.is(connectionVerdict({ ...good, loss: limits.loss + 0.01 }), 'poor');
  t.is(connectionVerdict({ ...good, throughputKbps: limits.throughputKbps - 1 }), 'poor');
  t.is(connectionVerdict({ ...good, downloadKbps: 300 }), 'poor');
  t.is(connectionVerdict({ ...good, uploadKbps: 100 }), 'poor');
  t.is(connectionVerdict({ ...good, uploadKbps: null }), 'poor', 'an upload that never finished');
});

test('without TURN the verdict rests on the line to the appliance alone', (t) => {
  // What the browser's check sends then: nothing measured but the line to the appliance.
  const { downloadKbps, uploadKbps, durationMs } = good;
  const skipped = { ...noFigures(), downloadKbps, uploadKbps, durationMs };
  t.is(connectionVerdict(skipped), 'good');
  t.is(connectionVerdict({ ...skipped, downloadKbps: null, uploadKbps: null }), 'failed');
});

// The page's connection check: which of the configured TURN URLs each relay probe tries.
import test from 'ava';
import { forTransport } from '../../admin/client/techtest/network.ts';

const credentials = { username: '1700000000:ab', credential: 'c2VjcmV0' };

test('the TCP probe tries TURN over TLS too: a network that lets only 5349/TLS out still reaches the relay', (t) => {
  // The configuration the example env file suggests: UDP, TCP and TLS.
  const servers = [
    {
      urls: [
        'turn:turn.example.se:3478?transport=udp',
        'turn:turn.example.se:3478?transport=tcp',
        'turns:turn.example.se:5349?transport=tcp',
      ],
      ...credentials,
    },
  ];
  t.deepEqual(forTransport(servers, 'udp'), [{ urls: ['turn:turn.example.se:3478?transport=udp'], ...credentials }]);
  t.deepEqual(forTransport(servers, 'tcp'), [
    { urls: ['turn:turn.example.se:3478?transport=tcp', 'turns:turn.example.se:5349?transport=tcp'], ...credentials },
  ]);
  // TLS alone (port 443, the usual way through a strict firewall): a TCP relay to probe, not none.
  const tlsOnly = [{ urls: ['turns:turn.example.se:443'], ...credentials }];
  t.deepEqual(forTransport(tlsOnly, 'tcp'), [{ urls: ['turns:turn.example.se:443'], ...credentials }]);
  t.deepEqual(forTransport(tlsOnly, 'udp'), []);
});

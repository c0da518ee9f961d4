// coturn as compose.yaml starts it: Debian's turnserver runs through the bundle's entry script
// (provisioning/coturn/start.sh) with the bundle's command line (ports and file paths moved into a
// temporary folder). The appliance's credentials from TURN_SECRET get an allocation and wrong ones
// do not; a relay reaches the videobridge and is refused everywhere else inside; the secret is in
// no command line; the health check's STUN request is answered.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { turnCredentials } from '../../appliance/src/techtest/turn.ts';
import { freePort } from '../helpers/coturn.ts';
import { present } from '../helpers/present.ts';
import { writeSelfSigned } from '../helpers/tls.ts';
import { realValues, renderCompose, renderEnv, root, run, serviceEnvironment, tempDir, withValues } from './_bundle.ts';

/** The coturn service from the rendered bundle: its entry point, arguments, environment and health check. */
async function bundleCoturn(values: Record<string, string>) {
  const { file } = await renderEnv();
  const rendered = await renderCompose(withValues(file, { ...realValues, ...values }));
  const block = present(/\n  coturn:\n[\s\S]*?(?=\n  [a-z]+:\n)/.exec(rendered)?.[0], 'the coturn service');
  const list = (key: string, indent: string) =>
    (new RegExp(`\\n${indent}${key}:\\n((?:${indent}- .*\\n)+)`).exec(`${block}\n`)?.[1] ?? '')
      .trimEnd()
      .split('\n')
      .map((l) =>
        l
          .trim()
          .replace(/^- /, '')
          .replace(/^'(.*)'$/, '$1'),
      );
  return {
    entrypoint: list('entrypoint', '    '),
    args: list('command', '    '),
    healthcheck: list('test', '      '),
    environment: serviceEnvironment(rendered, 'coturn'),
  };
}

interface Running {
  server: ChildProcess;
  port: number;
  secret: string;
  output: () => string;
  configFile: string;
}

/** Starts the bundle's coturn on loopback; the bridge stands at 127.0.0.1 (JVB_INTERNAL_IP). */
async function startCoturn(t: ExecutionContext): Promise<Running> {
  const coturn = await bundleCoturn({ JVB_INTERNAL_IP: '127.0.0.1' });
  t.deepEqual(coturn.entrypoint, ['sh', '/usr/local/bin/samverka-coturn']);
  const dir = tempDir('coturn');
  writeSelfSigned('turn.region.se', join(dir, 'key.pem'), join(dir, 'cert.pem'));
  const port = await freePort();
  const moved: Record<string, string> = {
    '--listening-port=3478': `--listening-port=${port}`,
    '--tls-listening-port=5349': `--tls-listening-port=${await freePort()}`,
    '--cert=/certs/cert.pem': `--cert=${join(dir, 'cert.pem')}`,
    '--pkey=/certs/key.pem': `--pkey=${join(dir, 'key.pem')}`,
    '--pidfile=/tmp/turnserver.pid': `--pidfile=${join(dir, 'turnserver.pid')}`,
    '--db=/var/lib/coturn/turndb': `--db=${join(dir, 'turndb')}`,
  };
  for (const original of Object.keys(moved)) t.true(coturn.args.includes(original), original);
  // Loopback only here, so loopback peers must be possible at all; the bundle's denied ranges
  // (127.0.0.0/8 among them) still apply, the bridge's address is allowed explicitly.
  const local = ['--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', '--allow-loopback-peers'];
  const configFile = join(dir, 'turnserver.conf');
  const server = spawn(
    'sh',
    [join(root, 'provisioning/coturn/start.sh'), ...coturn.args.map((a) => moved[a] ?? a), ...local],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, ...coturn.environment, TURN_CONFIG_FILE: configFile },
    },
  );
  let output = '';
  server.stdout.on('data', (c: Buffer) => (output += c.toString()));
  server.stderr.on('data', (c: Buffer) => (output += c.toString()));
  t.teardown(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  });
  const deadline = Date.now() + 10_000;
  while (!/Total General servers/.test(output) && server.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  t.regex(output, /Total General servers/, output);
  t.notRegex(output, /unrecognized option|Bad configuration|CONFIG ERROR/i);
  const secret = present(coturn.environment.TURN_SECRET, "TURN_SECRET in the bundle's coturn environment");
  return { server, port, secret, output: () => output, configFile };
}

/** turnutils_uclient with credentials the appliance mints (or a wrong password instead). */
const uclient = (running: Running, options: { wrongPassword?: string }, ...extra: string[]) => {
  const { iceServers } = turnCredentials({
    urls: [`turn:127.0.0.1:${running.port}?transport=udp`],
    secret: running.secret,
  });
  const iceServer = present(iceServers[0], 'the ICE server with the minted credential');
  const password = options.wrongPassword ?? iceServer.credential;
  return run('turnutils_uclient', [
    '-u',
    iceServer.username,
    '-w',
    password,
    '-p',
    String(running.port),
    '-n',
    '2',
    '-m',
    '1',
    ...extra,
    '127.0.0.1',
  ]);
};

test("the bundle's coturn accepts the appliance's credentials from TURN_SECRET, and refuses others", async (t) => {
  const running = await startCoturn(t);
  t.regex(running.output(), /Default realm: turn\.region\.se/);
  t.regex(running.output(), /Certificate file found/);
  const allocated = await uclient(running, {}, '-y');
  t.notRegex(allocated.stdout + allocated.stderr, /Cannot complete Allocation/);
  t.regex(allocated.stdout + allocated.stderr, /Total lost packets 0 /);
  const refused = await uclient(running, { wrongPassword: 'd3JvbmcgcGFzc3dvcmQ=' }, '-y');
  t.regex(refused.stdout + refused.stderr, /Cannot complete Allocation/);
});

test('a relay reaches the videobridge and is refused to every other address inside', async (t) => {
  const running = await startCoturn(t);
  const peerPort = await freePort();
  // The "bridge" (127.0.0.1, the allowed JVB_INTERNAL_IP) and a service beside it (127.0.0.2): both echo.
  const peer = spawn('turnutils_peer', ['-L', '127.0.0.1', '-L', '127.0.0.2', '-p', String(peerPort)], {
    stdio: 'ignore',
  });
  t.teardown(() => {
    if (peer.exitCode === null) peer.kill('SIGTERM');
  });
  await new Promise((r) => setTimeout(r, 300));
  const toBridge = await uclient(running, {}, '-e', '127.0.0.1', '-r', String(peerPort));
  t.regex(toBridge.stdout + toBridge.stderr, /Total lost packets 0 /, 'the bridge is reachable through the relay');
  t.notRegex(toBridge.stdout + toBridge.stderr, /403/);
  // Prosody, the appliance, postfix (other containers), the hospital's LAN, loopback: all refused.
  for (const inside of ['127.0.0.2', '172.30.36.20', '10.1.2.3', '192.168.1.10', '100.64.0.5', '169.254.169.254']) {
    const relayed = await uclient(running, {}, '-e', inside, '-r', String(peerPort));
    t.regex(relayed.stdout + relayed.stderr, /error 403 \(Forbidden IP\)/, inside);
  }
  t.regex(running.output(), /A peer IP 127\.0\.0\.2 denied in the range: 127\.0\.0\.0-127\.255\.255\.255/);
  t.regex(running.output(), /A peer IP 10\.1\.2\.3 denied in the range: 10\.0\.0\.0-10\.255\.255\.255/);
});

test('the secret is in no command line, only in a file only coturn can read', async (t) => {
  const running = await startCoturn(t);
  const commandLine = readFileSync(`/proc/${running.server.pid}/cmdline`, 'utf8');
  t.regex(commandLine, /^turnserver\0-c\0/, 'the entry script hands over to turnserver');
  t.false(commandLine.includes(running.secret));
  t.false(
    readFileSync(`/proc/${running.server.pid}/environ`, 'utf8').includes(running.secret),
    'nor in its environment',
  );
  t.true(readFileSync(running.configFile, 'utf8').includes(`static-auth-secret=${running.secret}`));
  t.is(statSync(running.configFile).mode & 0o777, 0o600);
});

test("the health check's STUN request is answered", async (t) => {
  const running = await startCoturn(t);
  const { healthcheck } = await bundleCoturn({});
  t.deepEqual(healthcheck.slice(0, 2), ['CMD', 'turnutils_stunclient']);
  const args = healthcheck.slice(2).map((a) => (a === '3478' ? String(running.port) : a));
  const answered = await run(present(healthcheck[1], "the health check's command"), args);
  t.is(answered.code, 0, answered.stdout + answered.stderr);
});

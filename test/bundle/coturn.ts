// coturn as compose.yaml starts it: Debian's turnserver runs the bundle's command line (ports and
// file paths moved into a temporary folder), and a TURN allocation succeeds with credentials the
// appliance mints from the same TURN_SECRET, and fails with a wrong one.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import test from 'ava';
import { turnCredentials } from '../../appliance/src/techtest/turn.ts';
import { freePort } from '../helpers/coturn.ts';
import { cleanEnv, renderEnv, root, run, tempDir } from './_bundle.ts';

/** The coturn service's command list from the rendered bundle. */
async function bundleCommand(): Promise<{ args: string[]; secret: string }> {
  const { file, values } = await renderEnv();
  const rendered = await run('docker-compose', ['--project-directory', root, '-f', join(root, 'compose.yaml'), '--env-file', file, 'config'], { env: cleanEnv() });
  if (rendered.code !== 0) throw new Error(rendered.stderr);
  const block = /\n  coturn:\n(?:[\s\S]*?\n)?    command:\n((?:    - .*\n)+)/.exec(rendered.stdout)?.[1];
  if (!block) throw new Error(`no coturn command in:\n${rendered.stdout}`);
  return { args: block.trimEnd().split('\n').map((l) => l.replace(/^    - /, '').replace(/^'(.*)'$/, '$1')), secret: values.get('TURN_SECRET')! };
}

test("the bundle's coturn accepts the appliance's credentials from TURN_SECRET, and refuses others", async (t) => {
  const { args, secret } = await bundleCommand();
  t.true(args.includes(`--static-auth-secret=${secret}`));
  t.true(args.includes('--use-auth-secret'));

  const dir = tempDir('coturn');
  const made = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=turn.example.se',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  t.is(made.code, 0, made.stderr);
  const port = await freePort();
  const moved: Record<string, string> = {
    '--listening-port=3478': `--listening-port=${port}`,
    '--tls-listening-port=5349': `--tls-listening-port=${await freePort()}`,
    '--cert=/certs/cert.pem': `--cert=${join(dir, 'cert.pem')}`,
    '--pkey=/certs/key.pem': `--pkey=${join(dir, 'key.pem')}`,
    '--pidfile=/tmp/turnserver.pid': `--pidfile=${join(dir, 'turnserver.pid')}`,
    '--db=/var/lib/coturn/turndb': `--db=${join(dir, 'turndb')}`,
  };
  for (const original of Object.keys(moved)) t.true(args.includes(original), original);
  // -n: not /etc/turnserver.conf; loopback only, and loopback peers for the client-to-client check.
  const local = ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', '--allow-loopback-peers'];
  const server = spawn('turnserver', [...args.map((a) => moved[a] ?? a), ...local], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout.on('data', (c: Buffer) => (output += c));
  server.stderr.on('data', (c: Buffer) => (output += c));
  try {
    const deadline = Date.now() + 10_000;
    while (!/Total General servers/.test(output) && server.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.regex(output, /Total General servers/, output);
    t.notRegex(output, /unrecognized option|Bad configuration|CONFIG ERROR/i);
    t.regex(output, /Default realm: turn\.example\.se/);
    t.regex(output, /Certificate file found/);

    const [iceServer] = turnCredentials({ urls: [`turn:127.0.0.1:${port}?transport=udp`], secret }).iceServers;
    const client = (password: string) =>
      run('turnutils_uclient', ['-u', iceServer.username, '-w', password, '-p', String(port), '-n', '1', '-m', '1', '-y', '-c', '127.0.0.1']);
    const allocated = await client(iceServer.credential);
    t.notRegex(allocated.stdout + allocated.stderr, /Cannot complete Allocation/);
    t.regex(allocated.stdout + allocated.stderr, /Total lost packets 0 /);

    const refused = await client('d3JvbmcgcGFzc3dvcmQ=');
    t.regex(refused.stdout + refused.stderr, /Cannot complete Allocation/);
  } finally {
    server.kill('SIGTERM');
    if (server.exitCode === null) await once(server, 'exit');
  }
});

// provisioning/systemd/samverka.service: verified by systemd-analyze where it is installed, and
// read for the hardening the appliance relies on everywhere.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { root, run } from './_bundle.ts';

const unitFile = join(root, 'provisioning/systemd/samverka.service');
const unit = readFileSync(unitFile, 'utf8');
const setting = (name: string) => [...unit.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1]);

test('systemd-analyze verify finds nothing wrong with the unit', async (t) => {
  const analyzer = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
  if (!analyzer) {
    t.log(
      'systemd-analyze is not installed on this machine (apt-get install systemd): the unit was NOT verified by systemd, only read by the next tests',
    );
    t.pass();
    return;
  }
  const result = await run(analyzer, ['verify', unitFile]);
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr.trim(), '', 'systemd-analyze printed warnings');
});

test('the service runs the compiled appliance as the samverka user with the environment file', (t) => {
  t.deepEqual(setting('User'), ['samverka']);
  t.deepEqual(setting('Group'), ['samverka']);
  t.deepEqual(setting('EnvironmentFile'), ['/etc/samverka/samverka.env']);
  t.deepEqual(setting('ExecStart'), ['/usr/bin/node /opt/samverka/dist/appliance/src/main.js']);
  t.deepEqual(
    setting('ExecStartPre'),
    ['/usr/bin/node /opt/samverka/bin/samverka.js check --config'],
    'the preflight runs before every start',
  );
  t.regex(setting('Environment').join(' '), /NODE_ENV=production/);
  t.deepEqual(setting('WantedBy'), ['multi-user.target']);
});

test('systemctl reload sends the appliance SIGHUP, which reads the message templates again (main.ts)', (t) => {
  t.deepEqual(setting('ExecReload'), ['/bin/kill -HUP $MAINPID']);
});

test('the service is hardened: no new privileges, a read-only system, writes only to its data', (t) => {
  const expected: Record<string, string> = {
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ReadWritePaths: '/var/lib/samverka',
    StateDirectory: 'samverka',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    PrivateDevices: 'yes',
    ProtectKernelTunables: 'yes',
    ProtectKernelModules: 'yes',
    ProtectControlGroups: 'yes',
    RestrictSUIDSGID: 'yes',
    RestrictNamespaces: 'yes',
    LockPersonality: 'yes',
    CapabilityBoundingSet: '',
    UMask: '0077',
  };
  for (const [name, value] of Object.entries(expected)) t.deepEqual(setting(name), [value], name);
  t.regex(setting('Environment').join(' '), /DATA_DIR=\/var\/lib\/samverka/);
  t.deepEqual(setting('RestrictAddressFamilies'), ['AF_INET AF_INET6 AF_UNIX']);
});

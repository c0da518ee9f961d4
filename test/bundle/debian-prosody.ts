// The Debian path's Prosody, loaded in Debian's prosody: a stand-in for the host file Jitsi's
// jitsi-meet-prosody package writes (from its doc/debian/jitsi-meet-prosody/prosody.cfg.lua-jvb.example:
// the conference component with Jicofo's account as its only admin), changed by
// `configure-jitsi.sh prosody-admins`, plus Samverka's part from `configure-jitsi.sh prosody-cfg`.
// Prosody includes conf.d in directory order, which differs between machines: both orders are
// loaded, and in each one Jicofo and the appliance can create rooms and nobody else can.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { freePort } from '../helpers/coturn.ts';
import { root, run, tempDir } from './_bundle.ts';
import { mainConfig, withProsody, Xmpp } from './_xmpp.ts';

const domain = 'meet.region.se';
const conference = `conference.${domain}`;
const configure = (...args: string[]) => run('bash', [join(root, 'provisioning/debian/configure-jitsi.sh'), ...args]);

/**
 * Jitsi's Debian host file, as its postinst leaves it, with what Debian's prosody cannot load here
 * left out: Jitsi's own modules (token authentication, muc_meeting_id, polls …) live in the
 * jitsi-meet-prosody package. The parts that decide room rights are as Jitsi writes them.
 */
const jitsiHostFile = `-- Stand-in for /etc/prosody/conf.avail/${domain}.cfg.lua (jitsi-meet-prosody)
VirtualHost "${domain}"
    authentication = "internal_hashed"
    c2s_require_encryption = false
    allow_unencrypted_plain_auth = true
    modules_disabled = { "tls" }
    main_muc = "${conference}"

Component "${conference}" "muc"
    restrict_room_creation = true
    storage = "memory"
    admins = { "focus@auth.${domain}" }
    muc_room_locking = false
    muc_room_default_public_jids = true

Component "internal.auth.${domain}" "muc"
    storage = "memory"
    admins = { "focus@auth.${domain}", "jvb@auth.${domain}" }
    muc_room_locking = false
    muc_room_default_public_jids = true

VirtualHost "auth.${domain}"
    authentication = "internal_hashed"
    c2s_require_encryption = false
    allow_unencrypted_plain_auth = true
    modules_disabled = { "tls" }
`;

async function debianConfig(dir: string, port: number, order: 'jitsi-first' | 'samverka-first'): Promise<string> {
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'certs'));
  const jitsi = join(dir, `${domain}.cfg.lua`);
  writeFileSync(jitsi, jitsiHostFile);
  const merged = await configure('prosody-admins', '--jitsi-domain', domain, '--file', jitsi);
  if (merged.code !== 0) throw new Error(merged.stderr);
  const samverka = join(dir, 'samverka.cfg.lua');
  const rendered = await configure('prosody-cfg', '--jitsi-domain', domain);
  if (rendered.code !== 0) throw new Error(rendered.stderr);
  writeFileSync(samverka, rendered.stdout);
  const includes = order === 'jitsi-first' ? [jitsi, samverka] : [samverka, jitsi];
  const file = join(dir, 'prosody.cfg.lua');
  // Debian's prosody.cfg.lua, reduced to a private server on free ports: no global admins.
  writeFileSync(
    file,
    `${mainConfig(dir, port, ['roster', 'saslauth', 'disco', 'ping', 'posix'])}admins = { }
${includes.map((f) => `Include "${f}"`).join('\n')}
`,
  );
  return file;
}

test("configure-jitsi.sh puts the appliance into the admins of Jitsi's conference component, once", async (t) => {
  const dir = tempDir('debian-admins');
  const file = join(dir, `${domain}.cfg.lua`);
  writeFileSync(file, jitsiHostFile);
  t.is((await configure('prosody-admins', '--jitsi-domain', domain, '--file', file)).code, 0);
  t.is((await configure('prosody-admins', '--jitsi-domain', domain, '--file', file)).code, 0);
  const text = readFileSync(file, 'utf8');
  t.regex(
    text,
    new RegExp(
      `Component "${conference}" "muc"[^C]*admins = \\{ "samverka@hidden\\.${domain}", "focus@auth\\.${domain}" \\}`,
    ),
  );
  t.is(text.match(/samverka@hidden/g)?.length, 1, 'added once');
  t.regex(
    text,
    /Component "internal\.auth\.meet\.region\.se" "muc"[^C]*admins = \{ "focus@auth\.meet\.region\.se", "jvb@auth\.meet\.region\.se" \}/,
    "the internal MUC is Jitsi's alone",
  );
  const samverka = await configure('prosody-cfg', '--jitsi-domain', domain);
  t.notRegex(samverka.stdout, /^\s*admins\s*=/m, "Samverka's part sets no second list");
  t.regex(samverka.stdout, new RegExp(`VirtualHost "hidden\\.${domain}"`));
  t.regex(samverka.stdout, new RegExp(`Component "${conference}" "muc"`));
});

for (const order of ['jitsi-first', 'samverka-first'] as const) {
  test(`whatever order conf.d is read in (${order}), Jicofo and the appliance create rooms and participants cannot`, async (t) => {
    const dir = tempDir(`debian-prosody-${order}`);
    const port = await freePort();
    const config = await debianConfig(dir, port, order);
    const check = await run('prosodyctl', ['--config', config, 'check', 'config']);
    t.is(check.code, 0, check.stdout + check.stderr);
    const accounts: [user: string, host: string, password: string][] = [
      ['samverka', `hidden.${domain}`, 'appliance-secret'],
      ['focus', `auth.${domain}`, 'focus-secret'],
      ['anna', domain, 'participant-secret'],
    ];
    for (const [user, host, password] of accounts) {
      const registered = await run('prosodyctl', ['--config', config, 'register', user, host, password]);
      t.is(registered.code, 0, registered.stderr);
    }
    await withProsody(t, config, port, join(dir, 'prosody.log'), async () => {
      const focus = await Xmpp.login(port, 'focus', `auth.${domain}`, 'focus-secret', conference);
      const appliance = await Xmpp.login(port, 'samverka', `hidden.${domain}`, 'appliance-secret', conference);
      const participant = await Xmpp.login(port, 'anna', domain, 'participant-secret', conference);
      t.teardown(() => [focus, appliance, participant].forEach((c) => c.close()));

      t.regex(await focus.join('jicofo-rum', 'focus'), /status code=['"]201['"]/, 'Jicofo starts conferences');
      t.regex(await appliance.join('vardmote-1', 'samverka'), /status code=['"]201['"]/, 'the appliance opens rooms');
      t.regex(await participant.join('egen-rum', 'anna'), /not-allowed/, 'nobody else opens a room');
      t.regex(
        await appliance.destroy('jicofo-rum'),
        /type=['"]result['"]/,
        'the appliance ends a meeting Jicofo started',
      );
    });
  });
}

test('a changed password reaches Prosody: register sets it on an existing account', async (t) => {
  // install.sh re-registers the appliance's account from samverka.env on every run.
  const dir = tempDir('debian-password');
  const port = await freePort();
  const config = await debianConfig(dir, port, 'jitsi-first');
  for (const password of ['old-secret', 'new-secret']) {
    const registered = await run('prosodyctl', [
      '--config',
      config,
      'register',
      'samverka',
      `hidden.${domain}`,
      password,
    ]);
    t.is(registered.code, 0, registered.stderr);
  }
  await withProsody(t, config, port, join(dir, 'prosody.log'), async () => {
    await t.throwsAsync(Xmpp.login(port, 'samverka', `hidden.${domain}`, 'old-secret', conference), {
      message: /refused/,
    });
    (await Xmpp.login(port, 'samverka', `hidden.${domain}`, 'new-secret', conference)).close();
  });
});

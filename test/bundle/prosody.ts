// provisioning/prosody/samverka.cfg.lua, loaded by Debian's prosody beside a stand-in for Jitsi's
// own host file: the config check passes, the appliance's account logs in on the hidden domain and
// creates a room, and anyone else is refused a room of their own.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { freePort } from '../helpers/coturn.ts';
import { writeSelfSigned } from '../helpers/tls.ts';
import { root, run, tempDir } from './_bundle.ts';
import { mainConfig, withProsody, Xmpp } from './_xmpp.ts';

const snippet = join(root, 'provisioning/prosody/samverka.cfg.lua');
const hidden = 'hidden.meet.jitsi';
const muc = 'muc.meet.jitsi';

/** A main configuration as Debian's prosody.cfg.lua plus Jitsi's host file would give, on free ports. */
function writeConfig(dir: string, port: number): string {
  mkdirSync(join(dir, 'data'));
  const file = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    file,
    `${mainConfig(dir, port, ['roster', 'saslauth', 'tls', 'disco', 'ping', 'posix'])}
-- Stand-in for Jitsi's host file: Jicofo's account as the global admin, the main domain, the
-- authenticated services' domain and the conference component.
admins = { "focus@auth.meet.jitsi" }
VirtualHost "auth.meet.jitsi"
    authentication = "internal_hashed"
    c2s_require_encryption = false
    allow_unencrypted_plain_auth = true
    modules_disabled = { "tls" }
VirtualHost "meet.jitsi"
    authentication = "internal_hashed"
    c2s_require_encryption = false
    allow_unencrypted_plain_auth = true
    modules_disabled = { "tls" }
Component "${muc}" "muc"
    muc_room_locking = false
    muc_room_default_public_jids = true

Include "${snippet}"
`,
  );
  return file;
}

/** A certificate Prosody finds for the hidden domain: it would offer STARTTLS unless told not to. */
function writeCertificate(dir: string): void {
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  writeSelfSigned(hidden, join(certs, `${hidden}.key`), join(certs, `${hidden}.crt`));
}

test('Debian prosody accepts the configuration: the config check passes', async (t) => {
  const dir = tempDir('prosody-check');
  const config = writeConfig(dir, await freePort());
  writeCertificate(dir);
  const result = await run('prosodyctl', ['--config', config, 'check', 'config']);
  t.is(result.code, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /samverka\.cfg\.lua/);
  t.regex(result.stdout, /All checks passed/);
});

test('the appliance logs in on the hidden domain, creates rooms and ends rooms Jicofo created; participants may do neither', async (t) => {
  const dir = tempDir('prosody-run');
  const port = await freePort();
  const config = writeConfig(dir, port);
  writeCertificate(dir);
  const accounts: [user: string, host: string, password: string][] = [
    ['samverka', hidden, 'appliance-secret'],
    ['anna', 'meet.jitsi', 'participant-secret'],
    ['focus', 'auth.meet.jitsi', 'focus-secret'],
  ];
  for (const [user, host, password] of accounts) {
    const registered = await run('prosodyctl', ['--config', config, 'register', user, host, password]);
    t.is(registered.code, 0, registered.stderr);
  }

  await withProsody(t, config, port, join(dir, 'prosody.log'), async () => {
    const appliance = await Xmpp.login(port, 'samverka', hidden, 'appliance-secret');
    t.teardown(() => appliance.close());
    t.notRegex(appliance.features, /starttls/, 'no STARTTLS on the hidden domain, though a certificate is there');
    const created = await appliance.join('vardmote-1', 'samverka');
    t.regex(created, /status code=['"]201['"]/, 'the room should be created');
    t.regex(created, /affiliation=['"]owner['"]/);

    const participant = await Xmpp.login(port, 'anna', 'meet.jitsi', 'participant-secret');
    t.teardown(() => participant.close());
    const refused = await participant.join('egen-rum', 'anna');
    t.regex(refused, /type=['"]error['"]/);
    t.regex(refused, /not-allowed/);

    // A room the appliance opened is joinable: Jitsi's participants come in through it.
    const joined = await participant.join('vardmote-1', 'anna');
    t.notRegex(joined, /type=['"]error['"]/);

    // In Jitsi, Jicofo creates the rooms. The appliance still has owner rights there: it may end
    // the meeting for everyone (destroy), which a participant may not.
    const focus = await Xmpp.login(port, 'focus', 'auth.meet.jitsi', 'focus-secret');
    t.teardown(() => focus.close());
    t.regex(await focus.join('vardmote-2', 'focus'), /status code=['"]201['"]/);
    t.notRegex(await participant.join('vardmote-2', 'anna'), /type=['"]error['"]/);
    t.regex(await participant.destroy('vardmote-2'), /type=['"]error['"][\s\S]*forbidden/);
    t.regex(await appliance.destroy('vardmote-2'), /type=['"]result['"]/);
    t.regex(
      await participant.next(/<presence[^>]*type=['"]unavailable['"][\s\S]*?<destroy[\s\S]*?<\/presence>/),
      /vardmote-2/,
    );
  });
});

test('a wrong password is refused on the hidden domain', async (t) => {
  const dir = tempDir('prosody-auth');
  const port = await freePort();
  const config = writeConfig(dir, port);
  mkdirSync(join(dir, 'certs'));
  await run('prosodyctl', ['--config', config, 'register', 'samverka', hidden, 'appliance-secret']);
  await withProsody(t, config, port, join(dir, 'prosody.log'), async () => {
    await t.throwsAsync(Xmpp.login(port, 'samverka', hidden, 'wrong'), { message: /refused/ });
  });
});

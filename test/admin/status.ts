// The status page against a real SMTP relay and a real SMSC: both up, then the SMSC gone, then the
// relay gone; each time the page says which part has the problem. Secrets never show.
import test from 'ava';
import { enqueue } from '../../appliance/src/invites/outbox.ts';
import { countRows } from '../helpers/databases.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { makeCertificates } from '../helpers/tls.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { startSmsc, type TestSmsc } from '../helpers/smsc.ts';
import { until } from '../helpers/wait.ts';
import { loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
let relay: Relay;
let smsc: TestSmsc;
// A relay that wants a login, as a hospital's does: over STARTTLS with a certificate from the
// hospital's own CA (the appliance never sends a password unencrypted).
const certificates = makeCertificates();
test.before(async () => {
  relay = await startRelay({
    tls: certificates,
    auth: { username: 'relayuser', password: 'relay-secret-pw', methods: ['PLAIN'] },
  });
  smsc = await startSmsc();
  app = await startServer({
    env: {
      SMTP_URL: relay.url.replace('smtp://', 'smtp://relayuser:relay-secret-pw@'),
      TLS_CA_FILE: certificates.caFile,
      SMPP_URL: smsc.url,
      REMINDER_OFFSETS: 'none',
    },
  });
});
test.after.always(async () => {
  await app?.stop();
  await relay?.close();
  await smsc?.close();
  certificates.remove();
});

/** The text of one part's section on the page. */
const part = (html: string, name: string) =>
  new RegExp(`data-part="${name}"[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';

test.serial('with relay and SMSC up every part works; then the SMSC stops, then the relay', async (t) => {
  const { client } = await loggedIn(app, 'admin');
  await until('the SMPP bind', () => app.server.plugins.invites.adapters().sms?.bound);
  const up = await client.get('/admin/status');
  t.is(up.status, 200);
  t.regex(
    up.text,
    /Möten kan inte hållas med video: Jitsi Meet är inte påslaget\. Inte påslaget: Rumsstyrning \(XMPP\), Jitsi Meet, TURN, Identitetsleverantör\./,
  );
  t.regex(
    part(up.text, 'xmpp'),
    /Rumsstyrning \(XMPP\): <span class="state-off">inte påslagen/,
    'a part that is off does not "work"',
  );
  t.notRegex(up.text, /not set|answers/, 'no English from the checks on a healthy page');
  t.regex(part(up.text, 'sms'), /SMS \(SMPP\): <span class="state-ok">fungerar/);
  t.regex(part(up.text, 'sms'), /<dt>Ansluten \(bind\)<\/dt><dd>ja<\/dd>/);
  t.regex(part(up.text, 'mail'), /fungerar/);
  t.regex(
    part(up.text, 'database'),
    app.config.databaseUrl.startsWith('sqlite:') ? /SQLite/ : /PostgreSQL \(pg\).*postgres:\/\/postgres:\*\*\*@/s,
  );
  t.regex(part(up.text, 'database'), /0 väntar/);
  t.regex(part(up.text, 'jitsi'), /av \(inte inställd\)/);
  t.false(up.text.includes('relay-secret-pw'), 'the SMTP password is masked');
  t.regex(part(up.text, 'mail'), /relayuser:\*\*\*@127\.0\.0\.1/);

  await smsc.close();
  await until('the SMPP bind to be lost', () => !app.server.plugins.invites.adapters().sms?.bound);
  const smsDown = await client.get('/admin/status');
  t.regex(smsDown.text, /Problem med: SMS \(SMPP\)\. Se nedan\./);
  t.regex(part(smsDown.text, 'sms'), /<span class="state-bad">problem/);
  t.regex(part(smsDown.text, 'sms'), /not bound to the SMPP gateway/);
  t.regex(part(smsDown.text, 'mail'), /state-ok/);

  await relay.close();
  const mailDown = await client.get('/admin/status');
  t.regex(part(mailDown.text, 'mail'), /<span class="state-bad">problem/);
});

test.serial('failed messages of the last day are listed with a link to each in the outbox', async (t) => {
  const { client } = await loggedIn(app, 'admin');
  const db = app.server.app.db;
  const id = await enqueue(db, app.config.dataKey, {
    channel: 'email',
    kind: 'invitation',
    recipient: 'borta@skola.example',
    language: 'sv',
    data: {},
    notBefore: new Date(Date.now() + 86_400_000),
  });
  await db('outbox_messages')
    .where({ id })
    .update({ status: 'failed', failed_at: new Date().toISOString(), last_error: '550 5.1.1 no such user' });
  const page = await client.get('/admin/status');
  t.true(page.text.includes(`href="/admin/outbox#message-${id}"`));
  t.regex(page.text, /550 5\.1\.1 no such user/);
  t.regex(page.text, /<dt>Misslyckade senaste dygnet<\/dt><dd>1<\/dd>/);
});

test('only admins see the status page, and each look is audited', async (t) => {
  const { client } = await loggedIn(app, 'support');
  t.is((await client.get('/admin/status')).status, 403);
  const { client: admin, staff } = await loggedIn(app, 'admin');
  await admin.get('/admin/status');
  t.is(await countRows(app.server.app.db('audit_log').where({ staff_id: staff.id, action: 'status.read' })), 1);
});

// Hospital IT's template overrides (TEMPLATES_DIR) are tried at start: one that cannot be used —
// it does not parse, its message leaves out the link or code it exists for, or its name is not a
// message the appliance sends — is reported in the log, on the admin's pages and by `samverka
// check`, and the built-in template is sent in its place.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { describeProblem, sampleData, Templates } from '../../appliance/src/invites/templates.ts';
import { sharedSecrets, startAppliance } from '../helpers/appliance.ts';
import { postgresDatabase, testDatabase } from '../helpers/databases.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { startServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { loggedIn } from '../meetings/_booking.ts';

/** A TEMPLATES_DIR holding these files (paths inside it); `into` an existing one, the files written over. */
function overrides(files: Record<string, string>, into = scratchDir('templates')): string {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(into, file)), { recursive: true });
    writeFileSync(join(into, file), text);
  }
  return into;
}

const mobile = sampleData('sv', 'mobile');
const byEmail = sampleData('sv', 'email');

test('an override that leaves out the link its message exists for is not used: the built-in one is sent, and the start says why', (t) => {
  const dir = overrides({
    // A shortened invitation whose writer dropped the link.
    'sms/sv/invitation.hbs': 'Hej {{name}}! Du har ett digitalt möte {{date}} kl. {{time}}.',
    // The link only in the branch for colleagues: a guest reached by e-mail would get none.
    'email/sv/reminder.hbs':
      'Subject: Påminnelse {{date}}\n--- text ---\nHej {{name}}, mötet är {{date}}.\n{{#if colleague}}{{link}}{{/if}}\n',
    // The code SMS without its code.
    'sms/en/sms_code.hbs': 'Your code is valid for {{minutes}} minutes.',
    // Good ones are used.
    'sms/sv/nudge.hbs': 'Vi väntar på dig: {{link}}',
    'email/en/cancelled.hbs': 'Subject: Cancelled\n--- text ---\nYour meeting {{date}} is cancelled.\n',
  });
  const warnings: string[] = [];
  const templates = new Templates(dir, (m) => warnings.push(m));

  // Told at start, before any message is sent.
  t.deepEqual(warnings, [
    'template override email/sv/reminder.hbs leaves out {{link}} for a patient or guest reached by e-mail and a patient or guest with a mobile number: the built-in template is sent instead',
    'template override sms/en/sms_code.hbs leaves out {{code}} for a patient or guest with a mobile number: the built-in template is sent instead',
    'template override sms/sv/invitation.hbs leaves out {{link}} for a patient or guest with a mobile number: the built-in template is sent instead',
  ]);
  t.is(templates.overrideCount, 2);

  // What is sent.
  t.true(
    templates.sms('sv', 'invitation', mobile).includes(String(mobile.link)),
    'the built-in invitation, with its link',
  );
  t.true(templates.email('sv', 'reminder', byEmail).text.includes(String(byEmail.link)));
  t.true(templates.sms('en', 'sms_code', mobile).includes('482910'));
  t.is(templates.sms('sv', 'nudge', mobile), `Vi väntar på dig: ${String(mobile.link)}`);
  t.regex(templates.email('en', 'cancelled', byEmail).text, /^Your meeting .* is cancelled\.$/);

  // Where each comes from.
  t.deepEqual(templates.source('sms', 'sv', 'nudge'), { override: join(dir, 'sms/sv/nudge.hbs'), problem: undefined });
  t.like(templates.source('sms', 'sv', 'invitation'), {
    override: null,
    problem: { problem: 'leavesOut', fields: ['link'] },
  });
  t.deepEqual(templates.source('email', 'sv', 'invitation'), { override: null, problem: undefined });
});

test("an e-mail override's own HTML part must carry the link too: it is what most mail programs show", (t) => {
  const dir = overrides({
    'email/sv/invitation.hbs':
      'Subject: Inbjudan\n--- text ---\nHej {{name}}: {{link}}\n--- html ---\n<p>Hej {{name}}, klicka på länken i mejlets textdel.</p>\n',
  });
  const templates = new Templates(dir, () => undefined);
  t.like(templates.problems[0], { file: 'email/sv/invitation.hbs', problem: 'leavesOut', fields: ['link'] });
  t.is(templates.overrideCount, 0);
});

test('an override that does not parse, and a file whose name is no message, are reported; other files in the folder are not templates', (t) => {
  const dir = overrides({
    'email/sv/invitation.hbs': 'Subject: Trasig {{#if}}\n--- text ---\n{{name',
    'email/sv/rescheduled.hbs': 'Ämne: Ny tid\n\nHej {{name}}: {{link}}', // no "Subject:" and "--- text ---"
    'sms/sv/invite.hbs': 'Hej {{name}}: {{link}}', // invitation.hbs misspelt
    'sms/se/invitation.hbs': 'Hej {{name}}: {{link}}', // not a language of the appliance
    'sms/sv/extra/invitation.hbs': 'Hej {{name}}: {{link}}', // one folder too deep
    'email/sv/sms_code.hbs': 'Subject: Kod\n--- text ---\n{{code}}', // codes go by SMS only
    'README.txt': 'Våra egna mallar, ändrade 2026-11-02.',
    'sms/sv/.invitation.hbs.swp': 'x',
  });
  const templates = new Templates(dir, () => undefined);
  t.deepEqual(
    templates.problems.map((p) => [p.file, p.problem]),
    [
      ['email/sv/invitation.hbs', 'unreadable'],
      ['email/sv/rescheduled.hbs', 'unreadable'],
      ['email/sv/sms_code.hbs', 'unknown'],
      ['sms/se/invitation.hbs', 'unknown'],
      ['sms/sv/extra/invitation.hbs', 'unknown'],
      ['sms/sv/invite.hbs', 'unknown'],
    ],
  );
  t.regex(describeProblem(templates.problems[1]!), /expected "Subject: …", then "--- text ---"/);
  t.regex(
    describeProblem(templates.problems[5]!),
    /^sms\/sv\/invite\.hbs is not a message Samverka sends .*: it is not used$/,
  );
  t.true(templates.sms('sv', 'invitation', mobile).startsWith('Hej Sara Lind!'), 'the built-in invitation');
});

test("the admin's status page and template preview show which overrides are used and why the others are not", async (t) => {
  const dir = overrides({
    'sms/sv/invitation.hbs': 'Hej {{name}}! Du har ett digitalt möte {{date}} kl. {{time}}.',
    'sms/sv/nudge.hbs': 'Vi väntar på dig: {{link}}',
  });
  const app = await startServer({ env: { TEMPLATES_DIR: dir } });
  try {
    t.regex(app.logs(), /template override sms\/sv\/invitation\.hbs leaves out \{\{link\}\}/);
    const { client } = await loggedIn(app, 'admin');

    const status = await client.get('/admin/status');
    t.is(status.status, 200);
    t.regex(status.text, /Problem med: Meddelandemallar\./);
    t.regex(status.text, /Meddelandemallar: <span class="state-bad">problem<\/span>/);
    t.regex(
      status.text,
      /sms\/sv\/invitation\.hbs saknar \{\{link\}\} för mottagaren: patient eller gäst med mobilnummer\. Utan det fyller meddelandet inte sitt syfte/,
    );
    t.regex(status.text, /<dt>Egna mallar som används<\/dt><dd>1<\/dd>/);

    const invitation = await client.get('/admin/templates?channel=sms&language=sv&kind=invitation&recipient=mobile');
    t.regex(invitation.text, /Mallen som skickas: den inbyggda\. <span class="error">sms\/sv\/invitation\.hbs saknar/);
    t.regex(invitation.text, /Egna mallar som inte används/);
    t.regex(invitation.text, /Hej Sara Lind! Barn- och ungdomsmedicin bjuder in dig/);
    const nudge = await client.get('/admin/templates?channel=sms&language=sv&kind=nudge&recipient=mobile');
    t.true(nudge.text.includes(`Mallen som skickas: er egen, ${join(dir, 'sms/sv/nudge.hbs')}.`));
    t.regex(nudge.text, /Vi väntar på dig: <a href="https:\/\/samverka\.region\.se\/j\//);
  } finally {
    await app.stop();
  }
});

test('without overrides the status page says the built-in templates are sent, and nothing is wrong with them', async (t) => {
  const app = await startServer();
  try {
    const { client } = await loggedIn(app, 'admin');
    const status = await client.get('/admin/status');
    t.regex(status.text, /Meddelandemallar: <span class="state-ok">fungerar<\/span>/);
    t.regex(status.text, /<dt>TEMPLATES_DIR<\/dt><dd>inte inställt: de inbyggda mallarna skickas<\/dd>/);
    t.notRegex(status.text, /Problem med/);
    const preview = await client.get('/admin/templates');
    t.regex(preview.text, /Mallen som skickas: den inbyggda\./);
    t.notRegex(preview.text, /Egna mallar som inte används/);
  } finally {
    await app.stop();
  }
});

test('an e-mail override whose subject comes out empty is not used, in either language: a mail without a subject looks like spam', (t) => {
  const dir = overrides({
    'email/sv/invitation.hbs': 'Subject:\n--- text ---\nHej {{name}}: {{link}}\n',
    // Only whitespace once rendered: the field is empty in this data.
    'email/en/invitation.hbs': 'Subject:   {{nothing}}  \n--- text ---\nHello {{name}}: {{link}}\n',
    // A subject only in the branch for colleagues: a patient would get none.
    'email/sv/reminder.hbs':
      'Subject: {{#if colleague}}Påminnelse {{date}}{{/if}}\n--- text ---\nHej {{name}}: {{link}}\n',
    // A good one beside them is used.
    'email/en/reminder.hbs': 'Subject: Reminder {{date}}\n--- text ---\nHello {{name}}: {{link}}\n',
  });
  const warnings: string[] = [];
  const templates = new Templates(dir, (m) => warnings.push(m));
  t.deepEqual(warnings, [
    'template override email/en/invitation.hbs has an empty subject for a patient or guest reached by e-mail, a patient or guest with a mobile number and a colleague with an account: the built-in template is sent instead',
    'template override email/sv/invitation.hbs has an empty subject for a patient or guest reached by e-mail, a patient or guest with a mobile number and a colleague with an account: the built-in template is sent instead',
    'template override email/sv/reminder.hbs has an empty subject for a patient or guest reached by e-mail and a patient or guest with a mobile number: the built-in template is sent instead',
  ]);
  t.is(templates.overrideCount, 1);
  t.like(templates.source('email', 'sv', 'reminder'), {
    override: null,
    problem: { problem: 'noSubject', recipients: ['email', 'mobile'] },
  });
  t.regex(templates.email('sv', 'invitation', byEmail).subject, /^Inbjudan/, 'the built-in subject');
  t.regex(templates.email('en', 'invitation', byEmail).subject, /\S/);
  t.is(templates.email('en', 'reminder', byEmail).subject, `Reminder ${String(byEmail.date)}`);
});

test('a reload reads TEMPLATES_DIR again: a fixed override is used, a broken one falls back to the built-in and is reported', (t) => {
  const dir = overrides({
    'sms/sv/invitation.hbs': 'Hej {{name}}! Du har ett digitalt möte {{date}}.',
    'sms/sv/nudge.hbs': 'Vi väntar på dig: {{link}}',
  });
  const warnings: string[] = [];
  const templates = new Templates(dir, (m) => warnings.push(m));
  t.is(templates.overrideCount, 1);
  t.is(templates.problems.length, 1);

  // IT fixes the invitation, and breaks the nudge while at it.
  overrides(
    { 'sms/sv/invitation.hbs': 'Hej {{name}}! Gå in här: {{link}}', 'sms/sv/nudge.hbs': 'Vi väntar {{#if}}' },
    dir,
  );
  warnings.length = 0;
  const problems = templates.reload();
  t.deepEqual(
    problems.map((p) => [p.file, p.problem]),
    [['sms/sv/nudge.hbs', 'unreadable']],
  );
  t.deepEqual(templates.problems, problems);
  t.is(warnings.length, 1, 'the reload logs its problems as the start does');
  t.regex(warnings[0]!, /^template override sms\/sv\/nudge\.hbs cannot be used/);
  t.is(templates.overrideCount, 1);
  t.is(templates.sms('sv', 'invitation', mobile), `Hej Sara Lind! Gå in här: ${String(mobile.link)}`);
  t.true(templates.sms('sv', 'nudge', mobile).includes(String(mobile.link)), 'the built-in nudge');
  t.like(templates.source('sms', 'sv', 'nudge'), { override: null, problem: { problem: 'unreadable' } });

  // An override taken away is the built-in again.
  rmSync(join(dir, 'sms/sv/invitation.hbs'));
  t.deepEqual(templates.reload().length, 1);
  t.is(templates.overrideCount, 0);
  t.true(templates.sms('sv', 'invitation', mobile).startsWith('Hej Sara Lind! Barn- och ungdomsmedicin'));
});

test('the admin reloads the templates from the status page: the page then shows the new state, and the reload is audited', async (t) => {
  const dir = overrides({ 'email/sv/invitation.hbs': 'Subject: \n--- text ---\nHej {{name}}: {{link}}\n' });
  const app = await startServer({ env: { TEMPLATES_DIR: dir } });
  try {
    const { client, staff } = await loggedIn(app, 'admin');
    const before = await client.get('/admin/status');
    t.regex(
      before.text,
      /email\/sv\/invitation\.hbs har en tom ämnesrad för mottagaren: patient eller gäst med e-post/,
    );
    // The form as the page has it: its button, its action.
    const form =
      /<form method="post" action="([^"]+)">\s*<input type="hidden" name="crumb" value="[^"]*">\s*<button type="submit">Läs om mallarna<\/button>/.exec(
        before.text,
      );
    t.truthy(form, 'the status page has a button "Läs om mallarna"');

    overrides({ 'email/sv/invitation.hbs': 'Subject: Inbjudan {{date}}\n--- text ---\nHej {{name}}: {{link}}\n' }, dir);
    const reloaded = await client.submit(form![1]!, {});
    t.is(reloaded.status, 303);
    const after = await client.get(reloaded.headers.get('location')!);
    t.regex(after.text, /Mallarna är omlästa från TEMPLATES_DIR och prövade som vid start\./);
    t.regex(after.text, /<dt>Egna mallar som används<\/dt><dd>1<\/dd>/);
    t.regex(after.text, /Meddelandemallar: <span class="state-ok">fungerar<\/span>/);
    const preview = await client.get('/admin/templates?channel=email&language=sv&kind=invitation');
    t.true(preview.text.includes(`Mallen som skickas: er egen, ${join(dir, 'email/sv/invitation.hbs')}.`));
    t.regex(app.logs(), /template overrides reloaded by an admin: 1 in use, 0 not used/);
    const audited = await app.server.app.db('audit_log').where({ staff_id: staff.id, action: 'templates.reload' });
    t.is(audited.length, 1);

    // Without the form's crumb (another site's form), nothing happens.
    const forged = await client.request('POST', form![1]!, { form: {} });
    t.is(forged.status, 403);
    // Only an admin.
    const { client: support } = await loggedIn(app, 'support');
    t.is((await support.submit(form![1]!, {}, '/')).status, 403);
  } finally {
    await app.stop();
  }
});

test('SIGHUP makes the running appliance read TEMPLATES_DIR again, as systemctl reload sends it; the process goes on', async (t) => {
  const dir = overrides({ 'sms/sv/invitation.hbs': 'Hej {{name}}! Du har ett digitalt möte {{date}}.' });
  const database = await testDatabase();
  const run = startAppliance({ ...sharedSecrets(), DATABASE_URL: database.url, TEMPLATES_DIR: dir, LOG_LEVEL: 'info' });
  try {
    await run.running();
    t.regex(run.out(), /template override sms\/sv\/invitation\.hbs leaves out \{\{link\}\}/);
    overrides({ 'sms/sv/invitation.hbs': 'Hej {{name}}! Gå in här: {{link}}' }, dir);
    run.child.kill('SIGHUP');
    await until('the reload to be logged', () => {
      if (run.child.exitCode !== null || run.child.signalCode !== null)
        throw new Error(`the appliance ended (${run.child.exitCode ?? run.child.signalCode}) on SIGHUP`);
      return /template overrides reloaded on SIGHUP: 1 in use, 0 not used/.test(run.out());
    });
    t.is(run.child.exitCode, null, 'still running');
    t.is(await run.stop(), 0);
  } finally {
    await run.kill();
    await database.drop();
  }
});

// Several processes on one PostgreSQL: the page is served by one, a message may be sent by another.
const onPostgres = Boolean(process.env.TEST_DATABASE_URL) && process.env.TEST_DB !== 'sqlite';
(onPostgres ? test : test.skip)(
  "an admin's reload reaches every process on the PostgreSQL, each reading TEMPLATES_DIR once",
  async (t) => {
    const dir = overrides({ 'sms/sv/invitation.hbs': 'Hej {{name}}! Du har ett digitalt möte {{date}}.' });
    const database = (await postgresDatabase())!;
    const a = await startServer({ database: { ...database, drop: async () => {} }, env: { TEMPLATES_DIR: dir } });
    const b = await startServer({ database, env: { TEMPLATES_DIR: dir } });
    try {
      overrides({ 'sms/sv/invitation.hbs': 'Hej {{name}}! Gå in här: {{link}}' }, dir);
      const { client } = await loggedIn(a, 'admin');
      await client.get('/admin/status');
      t.is((await client.submit('/admin/templates/reload', {})).status, 303);
      await until('the other process to read them again', () => b.server.plugins.invites.templates.overrideCount === 1);
      t.is(b.server.plugins.invites.templates.problems.length, 0);
      t.is(
        b.server.plugins.invites.templates.sms('sv', 'invitation', mobile),
        `Hej Sara Lind! Gå in här: ${String(mobile.link)}`,
      );
      t.regex(b.logs(), /template overrides reloaded by an admin \(in another process\): 1 in use, 0 not used/);
      t.is(
        a.logs().match(/template overrides reloaded/g)?.length,
        1,
        'the process that served the page read them once',
      );
    } finally {
      await a.stop();
      await b.stop();
    }
  },
);

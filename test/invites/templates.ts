// Hospital IT's template overrides (TEMPLATES_DIR) are tried at start: one that cannot be used —
// it does not parse, its message leaves out the link or code it exists for, or its name is not a
// message the appliance sends — is reported in the log, on the admin's pages and by `samverka
// check`, and the built-in template is sent in its place.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { describeProblem, sampleData, Templates } from '../../appliance/src/invites/templates.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { startServer } from '../helpers/server.ts';
import { loggedIn } from '../meetings/_booking.ts';

/** A TEMPLATES_DIR holding these files (paths inside it). */
function overrides(files: Record<string, string>): string {
  const dir = scratchDir('templates');
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
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

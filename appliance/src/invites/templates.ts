// Message templates: templates/{email,sms}/{sv,en}/<kind>.hbs, Handlebars. Hospital IT may
// override any of them by pointing TEMPLATES_DIR at a folder of the same shape. Every override is
// read and tried at start, and again on SIGHUP or the status page's "Läs om mallarna", with
// made-up data for each kind of recipient: one that does not parse, whose message would leave out
// what the message is for (a guest's link, a code), or an e-mail whose subject comes out empty, is
// not used — the built-in template is sent instead, and the problem is logged, shown by `samverka
// check`, the admin's status page and the template preview. Never a lost message, never a
// link-less one, and never a mail without a subject (it looks like spam).
//
// An e-mail template holds its subject, plain-text and HTML parts in one file:
//   Subject: Inbjudan till digitalt vårdmöte {{date}}
//   --- text ---
//   Hej {{name}} …
//   --- html ---
//   <p>Hej {{name}} …</p>
// The HTML part may be left out; it is then made from the text (links clickable and wrapping on a
// phone, the clinic's number a tel: link kept on one line).
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import Handlebars from 'handlebars';
import { formatWhen } from '../common/clock.ts';
import { languages, type Language } from '../common/language.ts';
import { linkifyLine, linkifyPhone } from '../common/linkify.ts';
import { projectRoot } from '../config.ts';
import type { Channel, MessageKind } from './outbox.ts';

export const builtInTemplates = join(projectRoot, 'templates');

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

type Compiled = {
  subject: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  html: Handlebars.TemplateDelegate | null;
};

const engine = Handlebars.create();
// An SMS is plain text: nothing in it may be HTML-escaped.
const smsEngine = Handlebars.create();

export class TemplateError extends Error {}

function parseEmail(source: string, file: string): Compiled {
  const match =
    /^Subject:[ \t]*(.*)\r?\n---[ \t]*text[ \t]*---\r?\n([\s\S]*?)(?:\r?\n---[ \t]*html[ \t]*---\r?\n([\s\S]*))?$/.exec(
      source,
    );
  if (!match)
    throw new TemplateError(`${file}: expected "Subject: …", then "--- text ---" (and optionally "--- html ---")`);
  const [, subject = '', text = '', html] = match;
  const compile = (part: string, escape: boolean) => {
    const fn = (escape ? engine : smsEngine).compile(part, { strict: false, noEscape: !escape });
    fn({}); // compiles lazily: force it now, so that a syntax error shows here and not at send time
    return fn;
  };
  return { subject: compile(subject, false), text: compile(text, false), html: html ? compile(html, true) : null };
}

/**
 * The HTML part made from the text: paragraphs, links, and the clinic's number to tap. A link longer
 * than a phone's screen is wide wraps (it has no spaces to wrap at) instead of running off the side.
 */
function textToHtml(text: string, unitPhone: unknown): string {
  return text
    .trim()
    .split(/\r?\n\s*\r?\n/)
    .map(
      (paragraph) =>
        `<p style="overflow-wrap:break-word">${linkifyPhone(paragraph.split(/\r?\n/).map(linkifyLine).join('<br>'), unitPhone)}</p>`,
    )
    .join('\n');
}

/** Whom the preview's message is for: each words some templates differently (messages.ts's `tell`). */
export const sampleRecipients = ['email', 'mobile', 'colleague'] as const;
export type SampleRecipient = (typeof sampleRecipients)[number];

/**
 * What a message's template is given, made up: every field a template of templates/ uses, for the
 * recipient chosen (a patient or guest reached by e-mail or with a mobile number, or a colleague
 * with an account, whose link is the staff meeting page).
 */
export const sampleData = (lang: Language, recipient: SampleRecipient = 'email'): Record<string, unknown> => {
  const start = new Date(Date.now() + 3 * 86_400_000);
  start.setUTCHours(13, 0, 0, 0);
  const when = formatWhen(start, lang);
  const before = formatWhen(new Date(start.getTime() - 86_400_000), lang);
  const colleague = recipient === 'colleague';
  return {
    name: colleague ? 'Anna Berg' : 'Sara Lind',
    person: colleague ? 'colleague' : 'main',
    colleague,
    hasMobile: recipient === 'mobile',
    date: when.date,
    time: when.time,
    endTime: formatWhen(new Date(start.getTime() + 3_600_000), lang).time,
    previousDate: before.date,
    previousTime: before.time,
    previousEndTime: formatWhen(new Date(start.getTime() - 86_400_000 + 3_600_000), lang).time,
    unitName: 'Barn- och ungdomsmedicin',
    unitPhone: '010-123 45 67',
    link: colleague
      ? 'https://samverka.region.se/meetings/3f2b8c1e-5d4a-4b6f-9e21-7a0c9d8e6f54'
      : 'https://samverka.region.se/j/EXEMPELexempelEXEMPEL1',
    code: '482910',
    minutes: 10,
    reason: lang === 'sv' ? 'Vi bokar en ny tid med dig.' : 'We will book a new time with you.',
  };
};

/**
 * What each message cannot do without: the link a person joins (or evaluates) by, the code they
 * type. An override whose text leaves it out for some recipient is not used. (The rest — the time,
 * the unit's phone number — is the hospital's wording to choose: the linked page shows the time.)
 */
export const mustCarry: Record<MessageKind, readonly string[]> = {
  invitation: ['link'],
  reminder: ['link'],
  rescheduled: ['link'],
  cancelled: [],
  removed: [],
  nudge: ['link'],
  evaluation_request: ['link'],
  sms_code: ['code'],
};

/** Whom a channel's messages go to: an SMS only ever to a mobile number. */
const recipientsOf = (channel: Channel): readonly SampleRecipient[] =>
  channel === 'sms' ? ['mobile'] : sampleRecipients;

/** Why an override in TEMPLATES_DIR is not used. `file` is its path inside that folder. */
export type TemplateProblem =
  | { file: string; problem: 'unreadable'; detail: string }
  | { file: string; problem: 'leavesOut'; fields: string[]; recipients: SampleRecipient[] }
  | { file: string; problem: 'noSubject'; recipients: SampleRecipient[] }
  | { file: string; problem: 'unknown' };

const recipientWords: Record<SampleRecipient, string> = {
  email: 'a patient or guest reached by e-mail',
  mobile: 'a patient or guest with a mobile number',
  colleague: 'a colleague with an account',
};

/** "a, b and c". */
const listed = (items: string[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}` : (items[0] ?? '');

/** The problem in a sentence, for the log and `samverka check` (the pages say it in their language). */
export function describeProblem(p: TemplateProblem): string {
  switch (p.problem) {
    case 'unreadable':
      return `${p.file} cannot be used (${p.detail}): the built-in template is sent instead`;
    case 'leavesOut':
      return `${p.file} leaves out ${p.fields.map((f) => `{{${f}}}`).join(', ')} for ${listed(p.recipients.map((r) => recipientWords[r]))}: the built-in template is sent instead`;
    case 'noSubject':
      return `${p.file} has an empty subject for ${listed(p.recipients.map((r) => recipientWords[r]))}: the built-in template is sent instead`;
    case 'unknown':
      return `${p.file} is not a message Samverka sends (expected email/<sv|en>/<message>.hbs or sms/<sv|en>/<message>.hbs; messages: ${Templates.kinds('sms').join(', ')}): it is not used`;
  }
}

type Loaded = Compiled | Handlebars.TemplateDelegate;

function parseSms(source: string): Handlebars.TemplateDelegate {
  const fn = smsEngine.compile(source, { noEscape: true });
  fn({}); // as parseEmail: a syntax error shows now
  return fn;
}

/** Every .hbs file below `dir`, as paths inside it (hidden files and other files are not templates). */
function hbsFiles(dir: string, under = ''): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const path = join(under, entry.name);
    if (entry.isDirectory()) return hbsFiles(dir, path);
    return entry.name.endsWith('.hbs') ? [path] : [];
  });
}

/** What is sent for one message (channel/language/kind): its template compiled, and the override's path when it is one. */
interface Sent {
  template: Loaded;
  override: string | null;
}

/** One reading of the templates: what is sent for every message, and why each override left out is. */
interface Review {
  sent: ReadonlyMap<string, Sent>;
  problems: readonly TemplateProblem[];
}

const keyOf = (channel: Channel, language: string, kind: MessageKind) => `${channel}/${language}/${kind}`;

export class Templates {
  readonly #overrides: string | null;
  readonly #warn: (message: string) => void;
  /**
   * The review in use. A reload builds a whole new one and puts it here in one assignment, so a
   * message being rendered sees the old set or the new one, never a mix.
   */
  #current: Review;

  /** `overrides` is TEMPLATES_DIR when it differs from the built-in folder. */
  constructor(overrides: string | null, warn: (message: string) => void) {
    this.#overrides = overrides && overrides !== builtInTemplates ? overrides : null;
    this.#warn = warn;
    this.#current = this.#review();
  }

  /**
   * Reads TEMPLATES_DIR again and tries every override as the start does (SIGHUP, the status page's
   * "Reload templates"): what passes is used from now on, the rest is reported and sent as the built-in.
   */
  reload(): readonly TemplateProblem[] {
    this.#current = this.#review();
    return this.#current.problems;
  }

  /** TEMPLATES_DIR, when it holds overrides. */
  get overridesDir(): string | null {
    return this.#overrides;
  }

  /** Why each of the other .hbs files in TEMPLATES_DIR is not used. */
  get problems(): readonly TemplateProblem[] {
    return this.#current.problems;
  }

  /** How many overrides are in use. */
  get overrideCount(): number {
    return [...this.#current.sent.values()].filter((sent) => sent.override).length;
  }

  /**
   * Where the template sent for this message comes from: the override's path in TEMPLATES_DIR, or
   * null for the built-in one; and why an override of it is not used, if there is one.
   */
  source(
    channel: Channel,
    language: Language,
    kind: MessageKind,
  ): { override: string | null; problem?: TemplateProblem } {
    const { sent, problems } = this.#current;
    const file = join(channel, language, `${kind}.hbs`);
    return {
      override: sent.get(keyOf(channel, language, kind))?.override ?? null,
      problem: problems.find((p) => p.file === file),
    };
  }

  /**
   * Every message's template: the built-in one, or hospital IT's override of it when that passes
   * (read and tried with every recipient); the overrides that do not are reported and logged.
   */
  #review(): Review {
    const sent = new Map<string, Sent>();
    for (const channel of ['email', 'sms'] as const)
      for (const language of languages)
        for (const kind of Templates.kinds(channel)) {
          const file = join(channel, language, `${kind}.hbs`);
          const source = readFileSync(join(builtInTemplates, file), 'utf8');
          sent.set(keyOf(channel, language, kind), {
            template: channel === 'email' ? parseEmail(source, file) : parseSms(source),
            override: null,
          });
        }
    const problems = this.#overrides ? this.#overridesIn(this.#overrides, sent) : [];
    for (const problem of problems) this.#warn(`template override ${describeProblem(problem)}`);
    return { sent, problems };
  }

  /** Reads and tries every override in `dir`: what passes goes into `sent` in place of the built-in, the rest is returned. */
  #overridesIn(dir: string, sent: Map<string, Sent>): TemplateProblem[] {
    let files: string[];
    try {
      files = hbsFiles(dir);
    } catch (error) {
      return [{ file: '.', problem: 'unreadable', detail: (error as Error).message }];
    }
    const problems: TemplateProblem[] = [];
    for (const file of files.sort()) {
      const [channel, language, name, ...deeper] = file.split(sep);
      const kind = name?.slice(0, -'.hbs'.length) as MessageKind;
      if (
        deeper.length > 0 ||
        (channel !== 'email' && channel !== 'sms') ||
        !languages.includes(language as Language) ||
        !Templates.kinds(channel).includes(kind)
      ) {
        problems.push({ file, problem: 'unknown' });
        continue;
      }
      const path = join(dir, file);
      const tried = tryOverride(channel, language as Language, kind, path, file);
      if ('problem' in tried) problems.push(tried);
      else sent.set(keyOf(channel, language as Language, kind), { template: tried.template, override: path });
    }
    return problems;
  }

  #template(channel: Channel, language: string, kind: MessageKind): Loaded {
    const sent = this.#current.sent.get(keyOf(channel, language, kind));
    if (!sent) throw new TemplateError(`no ${channel} template for ${kind} in ${language}`);
    return sent.template;
  }

  email(language: string, kind: MessageKind, data: Record<string, unknown>): RenderedEmail {
    return renderEmail(this.#template('email', language, kind) as Compiled, data);
  }

  sms(language: string, kind: MessageKind, data: Record<string, unknown>): string {
    return (this.#template('sms', language, kind) as Handlebars.TemplateDelegate)(data).trim();
  }

  /** Every template the project ships, for the preview page and the tests. */
  static kinds(channel: Channel): MessageKind[] {
    return channel === 'sms'
      ? ['invitation', 'reminder', 'rescheduled', 'cancelled', 'removed', 'sms_code', 'nudge', 'evaluation_request']
      : ['invitation', 'reminder', 'rescheduled', 'cancelled', 'removed', 'nudge', 'evaluation_request'];
  }
}

/**
 * One override: parsed, and rendered for each recipient its channel reaches, must carry what its
 * message is for, and an e-mail a subject (a mail without one looks like spam).
 */
function tryOverride(
  channel: Channel,
  language: Language,
  kind: MessageKind,
  path: string,
  file: string,
): { template: Loaded } | TemplateProblem {
  let template: Loaded;
  const lacking = new Set<string>();
  const lackingFor: SampleRecipient[] = [];
  const noSubjectFor: SampleRecipient[] = [];
  try {
    const source = readFileSync(path, 'utf8');
    template = channel === 'email' ? parseEmail(source, file) : parseSms(source);
    for (const recipient of recipientsOf(channel)) {
      const data = sampleData(language, recipient);
      let texts: string[];
      if (channel === 'email') {
        const mail = renderEmail(template as Compiled, data);
        if (mail.subject === '') noSubjectFor.push(recipient);
        texts = (template as Compiled).html ? [mail.text, mail.html] : [mail.text];
      } else texts = [(template as Handlebars.TemplateDelegate)(data)];
      const missing = mustCarry[kind].filter((field) => texts.some((text) => !text.includes(String(data[field]))));
      if (missing.length === 0) continue;
      for (const field of missing) lacking.add(field);
      lackingFor.push(recipient);
    }
  } catch (error) {
    return { file, problem: 'unreadable', detail: (error as Error).message };
  }
  // The link first: a message without it fails its purpose, one without a subject may only be overlooked.
  if (lacking.size > 0) return { file, problem: 'leavesOut', fields: [...lacking], recipients: lackingFor };
  if (noSubjectFor.length > 0) return { file, problem: 'noSubject', recipients: noSubjectFor };
  return { template };
}

function renderEmail(t: Compiled, data: Record<string, unknown>): RenderedEmail {
  const text = t.text(data).trim();
  return {
    subject: t.subject(data).trim().replace(/\s+/g, ' '),
    text,
    html: t.html ? t.html(data) : textToHtml(text, data.unitPhone),
  };
}

// Message templates: templates/{email,sms}/{sv,en}/<kind>.hbs, Handlebars. Hospital IT may
// override any of them by pointing TEMPLATES_DIR at a folder of the same shape. A missing or broken
// override falls back to the built-in template with a logged warning: never a lost message.
//
// An e-mail template holds its subject, plain-text and HTML parts in one file:
//   Subject: Inbjudan till digitalt vårdmöte {{date}}
//   --- text ---
//   Hej {{name}} …
//   --- html ---
//   <p>Hej {{name}} …</p>
// The HTML part may be left out; it is then made from the text.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { linkifyLine } from '../common/linkify.ts';
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

function textToHtml(text: string): string {
  return text
    .trim()
    .split(/\r?\n\s*\r?\n/)
    .map((paragraph) => `<p>${paragraph.split(/\r?\n/).map(linkifyLine).join('<br>')}</p>`)
    .join('\n');
}

export class Templates {
  readonly #overrides: string | null;
  readonly #warn: (message: string) => void;
  readonly #cache = new Map<string, Compiled | Handlebars.TemplateDelegate>();

  /** `overrides` is TEMPLATES_DIR when it differs from the built-in folder. */
  constructor(overrides: string | null, warn: (message: string) => void) {
    this.#overrides = overrides && overrides !== builtInTemplates ? overrides : null;
    this.#warn = warn;
  }

  #load<T>(channel: Channel, language: string, kind: MessageKind, parse: (source: string, file: string) => T): T {
    const key = `${channel}/${language}/${kind}`;
    const cached = this.#cache.get(key);
    if (cached) return cached as T;
    const relative = join(channel, language, `${kind}.hbs`);
    let compiled: T | undefined;
    if (this.#overrides) {
      const file = join(this.#overrides, relative);
      if (existsSync(file)) {
        try {
          compiled = parse(readFileSync(file, 'utf8'), file);
        } catch (error) {
          this.#warn(
            `template override ${file} cannot be used (${(error as Error).message}): using the built-in template instead`,
          );
        }
      }
    }
    compiled ??= parse(readFileSync(join(builtInTemplates, relative), 'utf8'), relative);
    this.#cache.set(key, compiled as Compiled);
    return compiled;
  }

  email(language: string, kind: MessageKind, data: Record<string, unknown>): RenderedEmail {
    const t = this.#load('email', language, kind, parseEmail);
    const text = t.text(data).trim();
    return {
      subject: t.subject(data).trim().replace(/\s+/g, ' '),
      text,
      html: t.html ? t.html(data) : textToHtml(text),
    };
  }

  sms(language: string, kind: MessageKind, data: Record<string, unknown>): string {
    const t = this.#load('sms', language, kind, (source) => {
      const fn = smsEngine.compile(source, { noEscape: true });
      fn({});
      return fn;
    });
    return t(data).trim();
  }

  /** Every template the project ships, for the preview page and the tests. */
  static kinds(channel: Channel): MessageKind[] {
    return channel === 'sms'
      ? ['invitation', 'reminder', 'rescheduled', 'cancelled', 'removed', 'sms_code', 'nudge', 'evaluation_request']
      : ['invitation', 'reminder', 'rescheduled', 'cancelled', 'removed', 'nudge', 'evaluation_request'];
  }
}

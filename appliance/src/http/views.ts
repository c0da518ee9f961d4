// Server-rendered staff pages: @hapi/vision with Handlebars, views in admin/views, a `t` helper
// for UI strings in the request's language, and the CSRF crumb in every view's context.
import { join } from 'node:path';
import type { Request, Server } from '@hapi/hapi';
import Vision from '@hapi/vision';
import Handlebars from 'handlebars';
import { projectRoot } from '../config.ts';
import { languageOf, t, type Language } from './i18n.ts';
import { inlineText } from './inline.ts';
import { textOf } from '../common/text.ts';
import { dialString } from '../common/linkify.ts';

/** Leaves every {placeholder} in place, for the `t` helper to fill with markup. */
const keepPlaceholders = new Proxy({}, { get: (_, name) => `{${String(name)}}` });

/** What the helpers read of Handlebars' `options.data` (typed `any`): the view's own context, as `root`. */
interface HelperData {
  root?: { lang?: Language };
}

export async function registerViews(server: Server): Promise<void> {
  await server.register(Vision);
  const handlebars = Handlebars.create();
  handlebars.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
    const lang = (options.data as HelperData | undefined)?.root?.lang ?? 'sv';
    const vars = options.hash as Record<string, unknown>;
    if (!Object.values(vars).some((v) => v instanceof Handlebars.SafeString)) return t(lang, key, vars);
    // A value made safe by a helper (a phone link) goes into the sentence as markup; the sentence
    // and every other value are escaped as usual.
    const parts = Object.fromEntries(
      Object.entries(vars).map(([name, v]) => [
        name,
        v instanceof Handlebars.SafeString ? v.toHTML() : Handlebars.escapeExpression(textOf(v)),
      ]),
    );
    const sentence = Handlebars.escapeExpression(t(lang, key, keepPlaceholders));
    return new Handlebars.SafeString(sentence.replace(/\{(\w+)\}/g, (_, name: string) => parts[name] ?? ''));
  });
  // A phone number a person can tap, never broken across lines: "010-123 45 67" stays whole.
  handlebars.registerHelper('phoneLink', (phone: unknown) => {
    if (typeof phone !== 'string' || phone.trim() === '') return '';
    const dial = dialString(phone);
    return new Handlebars.SafeString(
      `<a class="phone" href="tel:${Handlebars.escapeExpression(dial)}">${Handlebars.escapeExpression(phone.trim())}</a>`,
    );
  });
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  // A page's stylesheet or script: inside the page when it is small (http/inline.ts), else a file.
  handlebars.registerHelper('style', (file: string) => {
    const text = inlineText(file);
    return new Handlebars.SafeString(
      text === undefined
        ? `<link rel="stylesheet" href="/static/${Handlebars.escapeExpression(file)}">`
        : `<style>${text}</style>`,
    );
  });
  handlebars.registerHelper('script', (file: string) => {
    const text = inlineText(file);
    return new Handlebars.SafeString(
      text === undefined
        ? `<script type="module" src="/static/${Handlebars.escapeExpression(file)}"></script>`
        : `<script type="module">${text}</script>`,
    );
  });
  handlebars.registerHelper(
    'json',
    (value: unknown) => new Handlebars.SafeString(JSON.stringify(value).replace(/</g, '\\u003c')),
  );

  // One compiled template per source text. Vision keeps a template once its first render has read
  // and compiled it, but requests that arrive together on a fresh process all miss that cache and
  // each compile the same file (500 guests at once compiled the link page about 500 times); the
  // views never change while the appliance runs.
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  const engine = {
    compile(source: string, options?: CompileOptions) {
      let template = compiled.get(source);
      if (!template) compiled.set(source, (template = handlebars.compile(source, options)));
      return template;
    },
    registerPartial: (name: string, source: string) => handlebars.registerPartial(name, source),
    registerHelper: (name: string, helper: Handlebars.HelperDelegate) => handlebars.registerHelper(name, helper),
  };
  const manager: unknown = server.views({
    engines: { hbs: engine },
    relativeTo: join(projectRoot, 'admin'),
    path: 'views',
    layout: true,
    layoutPath: 'views/layouts',
    partialsPath: 'views/partials',
    context: (request: Request | null) => {
      if (!request) return { lang: 'sv' };
      const lang = languageOf(request);
      const credentials = request.auth?.isAuthenticated ? request.auth.credentials : undefined;
      return {
        lang,
        otherLang: lang === 'sv' ? 'en' : 'sv',
        path: request.path,
        // The address as asked for, query and all (a search's results, a timeline's filter and
        // page), for the language switch to come back to: encoded as one value of its `next`.
        here: encodeURIComponent(returnAddress(request)),
        staff: credentials?.user,
      };
    },
  });
  lookUpOnce(manager);
}

/**
 * Where the language switch comes back to. A page asked for is asked for again; a page that
 * answered a form (a confirmation, a refused change: POST /meetings/{id}/cancel) has no address
 * to ask for again - asked for, it is "Sidan finns inte" - so the nearest page above it that can
 * be (/meetings/{id}).
 */
function returnAddress(request: Request): string {
  if (request.method === 'get') return `${request.url.pathname}${request.url.search}`;
  let path = request.url.pathname;
  while (path.length > 1 && !answersGet(request, path)) path = path.slice(0, path.lastIndexOf('/')) || '/';
  return path;
}

/** Whether a GET of `path` reaches a route; a path hapi cannot read (`/meetings/%zz`) does not. */
function answersGet(request: Request, path: string): boolean {
  try {
    return request.server.match('get', path) !== null;
  } catch {
    // hapi's router throws "Invalid path" for a malformed percent-encoding.
    return false;
  }
}

/** The part of vision's manager (7.x, not its public API) that finds a view's file. */
interface ViewLookup {
  _path(template: string, settings: unknown, isLayout: boolean): Promise<string>;
}

/**
 * Vision finds each view's and layout's file anew on every render: two `fs.stat` on libuv's
 * thread pool per page, about 8 % of the CPU a calendar page costs (and as much of a guest's
 * link and test pages). The views never change while the appliance runs, so each is looked up
 * once. `_path` is vision's own method, not its API: test/http/views.ts fails if an upgrade of
 * vision makes this stop taking effect (a page rendered again must not touch the disk).
 */
function lookUpOnce(manager: unknown): void {
  const lookup = manager as Partial<ViewLookup>;
  const find = lookup._path;
  if (typeof find !== 'function') return;
  const found = new Map<string, Promise<string>>();
  lookup._path = function (template, settings, isLayout) {
    const key = `${isLayout ? 'layout' : 'view'}:${template}`;
    let path = found.get(key);
    if (!path) {
      path = find.call(this, template, settings, isLayout);
      found.set(key, path);
      // A view that was not found is looked for again next time (and fails again, as before).
      path.catch(() => found.delete(key));
    }
    return path;
  };
}

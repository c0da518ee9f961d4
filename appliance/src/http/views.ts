// Server-rendered staff pages: @hapi/vision with Handlebars, views in admin/views, a `t` helper
// for UI strings in the request's language, and the CSRF crumb in every view's context.
import { join } from 'node:path';
import type { Request, Server } from '@hapi/hapi';
import Vision from '@hapi/vision';
import Handlebars from 'handlebars';
import { projectRoot } from '../config.ts';
import { languageOf, t, type Language } from './i18n.ts';
import { inlineText } from './inline.ts';

export async function registerViews(server: Server): Promise<void> {
  await server.register(Vision);
  const handlebars = Handlebars.create();
  handlebars.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
    const lang = (options.data?.root?.lang ?? 'sv') as Language;
    return t(lang, key, options.hash);
  });
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  // A page's stylesheet or script: inside the page when it is small (http/inline.ts), else a file.
  handlebars.registerHelper('style', (file: string) => {
    const text = inlineText(file);
    return new Handlebars.SafeString(text === undefined ? `<link rel="stylesheet" href="/static/${Handlebars.escapeExpression(file)}">` : `<style>${text}</style>`);
  });
  handlebars.registerHelper('script', (file: string) => {
    const text = inlineText(file);
    return new Handlebars.SafeString(text === undefined ? `<script type="module" src="/static/${Handlebars.escapeExpression(file)}"></script>` : `<script type="module">${text}</script>`);
  });
  handlebars.registerHelper('json', (value: unknown) => new Handlebars.SafeString(JSON.stringify(value).replace(/</g, '\\u003c')));

  server.views({
    engines: { hbs: handlebars },
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
        staff: credentials?.user,
      };
    },
  });
}

// The one error funnel: request errors are Boom with a message a person can act on; anything
// unexpected becomes a logged 500 with a request id, and never a stack trace to the client.
import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit, Server } from '@hapi/hapi';
import type { ValidationError, ValidationErrorItem } from 'joi';
import { isDatabaseUnavailable } from '../db/knex.ts';
import type { Language } from '../common/language.ts';
import { hasString, languageOf, speakBookedLanguage, t } from './i18n.ts';
import { textOf } from '../common/text.ts';
import { headerText } from './headers.ts';

/**
 * A domain's own error (a broken booking rule, a stale edit, a meeting that is not yours). The
 * domain throws it; the error funnel below turns it into the HTTP answer it names, in the request's
 * language — the one mapping for every domain, so routes do not catch.
 */
export abstract class DomainError extends Error {
  abstract toBoom(lang: Language): Boom.Boom;
  /** Work done before the answer goes, e.g. recording a denied access in the audit log. */
  reported?(request: Request): Promise<void>;
  /** Whose refusal this is, when known: the answer speaks their booked language (unless they chose one). */
  language?: Language;
  /**
   * A refusal a person reads as a page of its own rather than as an error with a reference number
   * (an evaluation already answered, a link past its time): the view the funnel renders for a page,
   * with the status `toBoom` names. Without it a page shows the common error page.
   */
  page?(lang: Language, request: Request): DomainPage;
}

/** A domain's own page for a refusal: its template, what the template shows, and its layout. */
export interface DomainPage {
  template: string;
  context: Record<string, unknown>;
  layout?: string;
}

const databaseUnavailable = 'The database cannot be reached just now: try again in a moment';

/** hapi's own 401 when no strategy found a way in (no session, no token): answered in the caller's language. */
const hapiMissingAuthentication = 'Missing authentication';

/**
 * One detail of a failed joi check as a sentence in the request's language (admin/locales/*\/core.json,
 * `validation.<joi's type>`), the field named by `label` (its name in the form) or else by its path
 * in the payload; a type without a sentence of ours keeps joi's own (English) one.
 */
function validationText(detail: ValidationErrorItem, lang: Language, label?: string): string {
  const context = detail.context ?? {};
  const key = `validation.${detail.type}`;
  if (!hasString(lang, key)) return detail.message.replace(/"/g, '');
  const valids = Array.isArray(context.valids) ? context.valids.map(String).join(', ') : '';
  return t(lang, key, { ...context, label: label ?? textOf(context.label), valids });
}

/**
 * Every detail of a failed joi check as sentences in the request's language; `labelOf` names a field
 * as its form does (by its first path key), else it is named by its path. The generic 400 sentence
 * when joi gave no details.
 */
export function validationSentences(
  error: unknown,
  lang: Language,
  labelOf: (field: string) => string | undefined = () => undefined,
): string {
  const details = (error as ValidationError | undefined)?.details ?? [];
  if (details.length === 0) return t(lang, 'error.400');
  return details.map((d) => validationText(d, lang, labelOf(String(d.path[0])))).join(' ');
}

/** Default failAction: joi's details, in the request's language, joined into one sentence, as a 400. */
export const validationFailed: Lifecycle.Method = (request, _h, err) => {
  throw Boom.badRequest(validationSentences(err, languageOf(request)));
};

/** Pages (as opposed to the API, health and metrics) get rendered error pages. */
export function wantsHtml(request: Request): boolean {
  const path = request.path;
  if (path.startsWith('/api/') || path.startsWith('/health/') || path === '/metrics' || path.startsWith('/static/'))
    return false;
  return headerText(request, 'accept').includes('text/html') || request.method === 'get';
}

/** The pages behind a participant's guest session (the way in after the link, and the meeting). */
const isGuestPage = (request: Request): boolean => request.path === '/entry' || request.path.startsWith('/entry/');

export function registerErrorFunnel(server: Server): void {
  server.ext('onPreResponse', async (request: Request, h: ResponseToolkit) => {
    let response = request.response;
    if (response instanceof DomainError) {
      await response.reported?.(request);
      speakBookedLanguage(request, response.language);
      const lang = languageOf(request);
      const boom = response.toBoom(lang);
      if (response.page && wantsHtml(request)) {
        const { template, context, layout } = response.page(lang, request);
        return h
          .view(template, context, layout ? { layout } : {})
          .code(boom.output.statusCode)
          .header('x-request-id', request.info.id);
      }
      response = boom;
    }
    if (!Boom.isBoom(response)) {
      response.header('x-request-id', request.info.id);
      return h.continue;
    }
    const unavailable = response.output.statusCode === 500 && isDatabaseUnavailable(response);
    if (unavailable) {
      // No connection to be had just now (the pool's wait is over, the server restarts or is
      // full): nothing was decided, so the request may be tried again - never a wrong answer.
      request.logger.error({ err: response, requestId: request.info.id }, `database unavailable: ${response.message}`);
      response = Boom.serverUnavailable(databaseUnavailable);
      response.output.headers['retry-after'] = '5';
    } else if (response.output.statusCode >= 500) {
      request.logger.error({ err: response, requestId: request.info.id }, `request failed: ${response.message}`);
    }
    const status = response.output.statusCode;
    response.output.headers['x-request-id'] = request.info.id;
    const payload = { ...response.output.payload, requestId: request.info.id };
    // Whatever a server error carried stays in the log: no internals leave the process.
    if (status >= 500 && !unavailable) payload.message = 'An internal server error occurred';
    if (status === 401 && response.message === hapiMissingAuthentication)
      payload.message = t(languageOf(request), 'error.api.401');

    const retryAfter = response.output.headers['retry-after'];
    if (wantsHtml(request)) {
      const lang = languageOf(request);
      const known = [400, 401, 403, 404, 409, 413, 429, 500, 503];
      const key = known.includes(status) ? `error.${status}` : status >= 500 ? 'error.500' : 'error.400';
      // A participant's page speaks to them: no staff login, no IT department, the way back in.
      const guest = isGuestPage(request);
      const guestKey =
        status === 401 || status === 403
          ? `error.guest.${status}`
          : status === 503
            ? key
            : status >= 500
              ? 'error.guest.500'
              : key;
      const message = t(lang, guest ? guestKey : key);
      const page = h
        .view(
          'error',
          {
            status,
            message,
            requestId: request.info.id,
            title: t(lang, 'error.title'),
            guest,
            styles: guest ? ['guest.css'] : undefined,
          },
          guest ? { layout: 'guest' } : {},
        )
        .code(status)
        .header('x-request-id', request.info.id);
      if (retryAfter !== undefined) page.header('retry-after', String(retryAfter));
      return page;
    }
    const reply = h.response(payload).code(status);
    for (const [name, value] of Object.entries(response.output.headers)) {
      if (value !== undefined) reply.header(name, String(value));
    }
    return reply;
  });
}

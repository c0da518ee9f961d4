// The meetings domain's errors become Boom here, once, with the message in the request's language.
import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit } from '@hapi/hapi';
import { languageOf, t, type Language } from '../http/i18n.ts';
import { tooManyRequests } from '../http/ratelimit.ts';
import { Forbidden, NotChangeable, NotFound, RuleViolation, TooManyResends, VersionConflict } from './violations.ts';

export function ruleMessage(lang: Language, violation: RuleViolation): string {
  return t(lang, `meetings.rule.${violation.rule}`, violation.vars);
}

export function toBoom(error: unknown, lang: Language): unknown {
  if (error instanceof RuleViolation) {
    const boom = Boom.badRequest(ruleMessage(lang, error));
    Object.assign(boom.output.payload, { rule: error.rule, field: error.field });
    return boom;
  }
  if (error instanceof VersionConflict) {
    const boom = Boom.conflict(t(lang, 'meetings.conflict'));
    Object.assign(boom.output.payload, { rule: 'version_conflict', currentVersion: error.current });
    return boom;
  }
  if (error instanceof NotChangeable) {
    const boom = Boom.conflict(t(lang, 'meetings.notChangeable', { status: t(lang, `meetings.status.${error.status}`) }));
    Object.assign(boom.output.payload, { rule: 'not_changeable' });
    return boom;
  }
  if (error instanceof TooManyResends) {
    const boom = tooManyRequests(error.retryAfterSeconds, t(lang, 'meetings.tooManyResends', { minutes: Math.ceil(error.retryAfterSeconds / 60) }));
    Object.assign(boom.output.payload, { rule: 'too_many_resends' });
    return boom;
  }
  if (error instanceof NotFound) return Boom.notFound(t(lang, `meetings.notFound.${error.what}`));
  if (error instanceof Forbidden) return Boom.forbidden(t(lang, 'meetings.forbidden'));
  return error;
}

/** Wraps a handler (API or page) so that the domain's errors leave as Boom; a denied access is audited too. */
export function handled(handler: (request: Request, h: ResponseToolkit) => ReturnType<Lifecycle.Method>): Lifecycle.Method {
  return async (request, h) => {
    try {
      return await handler(request, h);
    } catch (error) {
      if (error instanceof Forbidden) {
        const meetingId = (request.params as { id?: string }).id;
        await request.audit('meeting.denied', { meetingId, targetType: 'meeting', targetId: meetingId, details: { path: request.path, method: request.method } });
      }
      throw toBoom(error, languageOf(request));
    }
  };
}

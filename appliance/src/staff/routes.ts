// Login page, logout, the language switch, the start page and /api/v1/me.
import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { apiRoute } from '../http/api.ts';
import { validationSentences } from '../http/errors.ts';
import { isLanguage, languageCookie, languageOf, t } from '../http/i18n.ts';
import { rateLimit, refundAttempt } from '../http/ratelimit.ts';
import { fieldOf, objectOf, route } from '../http/route.ts';
import type { Language } from '../common/language.ts';
import { loggedOutPath, loginOptions, providerLogout, refuseLocalLogin } from './oidc-routes.ts';
import type { Role } from './model.ts';
import {
  longestPath,
  loginNext,
  nextPath,
  loginPayload,
  loginQuery,
  passwordPath,
  passwordQuery,
  staffSchema,
} from './schemas.ts';
import {
  changePassword,
  checkPassword,
  endSession,
  minPasswordLength,
  startSession,
  type PasswordProblem,
  type StartedSession,
} from './service.ts';
import { keepSession } from './auth.ts';
import { findUnit } from './store.ts';

export const landing: Record<Role, string> = { clinician: '/calendar', support: '/connlog', admin: '/admin' };

// Guesses from one address, over every account (the per-account lockout is config.login). A login
// that succeeds gives its attempt back: thirty clinicians on one Citrix server start at eight.
const loginLimit = rateLimit('login', { points: 30, durationSeconds: 15 * 60 });

function loginPage(
  request: Request,
  h: ResponseToolkit,
  extra: { error?: string; email?: string; next?: string; notice?: string },
  code = 200,
) {
  return h
    .view('login', { title: t(languageOf(request), 'login.title'), ...loginOptions(request), ...extra })
    .code(code);
}

/**
 * The password page: every problem at once, each beside its field; after a change, the way on to
 * the page the person was going to (`next`, kept through the form's address), else to their own
 * start page.
 */
function passwordPage(
  request: Request,
  h: ResponseToolkit,
  state: { problems?: PasswordProblem[]; changed?: boolean; next?: string } = {},
) {
  const lang = languageOf(request);
  const staff = request.auth.credentials.user!;
  const fieldOf: Record<PasswordProblem, 'current' | 'next' | 'repeat'> = {
    wrong_current: 'current',
    too_short: 'next',
    unchanged: 'next',
    mismatch: 'repeat',
  };
  const errors: Partial<Record<'current' | 'next' | 'repeat', string>> = {};
  for (const problem of state.problems ?? []) {
    const field = fieldOf[problem];
    errors[field] = [errors[field], t(lang, `password.${problem}`, { min: minPasswordLength })]
      .filter(Boolean)
      .join(' ');
  }
  const count = state.problems?.length ?? 0;
  return h.view('password', {
    title: t(lang, 'password.title'),
    min: minPasswordLength,
    mustChange: !state.changed && staff.mustChangePassword,
    changed: state.changed,
    action: passwordPath(state.next),
    next: state.next || landing[staff.role],
    errors,
    problemCount:
      count > 0 ? t(lang, count === 1 ? 'password.oneProblem' : 'password.problems', { n: count }) : undefined,
  });
}

/**
 * The per-address limit's refusal on the login page itself: what was typed stays in the form, with
 * why it is refused and (Retry-After) when the computer may try again.
 */
const tooManyLogins: Lifecycle.Method = (request, h, error) => {
  // Only the limit's own refusal: anything else (the database away) goes to the error funnel.
  if (!Boom.isBoom(error) || error.output.statusCode !== 429) throw error ?? Boom.internal();
  const text = (key: string) => {
    const value = fieldOf(request.payload, key);
    return typeof value === 'string' ? value : undefined;
  };
  const next = text('next');
  const page = loginPage(
    request,
    h,
    {
      error: t(languageOf(request), 'login.tooMany'),
      email: text('email')?.slice(0, 500),
      // Shown again only as it could be kept (the form's own check is not run on a refused try).
      next: next && next.length <= longestPath ? next : undefined,
    },
    429,
  );
  const retryAfter = error.output.headers['retry-after'];
  if (retryAfter !== undefined) page.header('retry-after', String(retryAfter));
  return page.takeover();
};

export const routes: ServerRoute[] = [
  route({
    method: 'GET',
    path: '/login',
    options: {
      auth: { mode: 'try' },
      plugins: { cookie: { redirectTo: false } },
      validate: { query: loginQuery },
    },
    handler(request, h) {
      const query = request.query;
      if (request.auth.isAuthenticated) return h.redirect(query.next || '/');
      const lang = languageOf(request);
      const { sessionIdleMinutes: minutes, sessionHours: hours } = request.server.app.config;
      const notice = query.bye
        ? t(lang, 'login.loggedOut')
        : query.session
          ? t(lang, `login.ended.${query.session}`, { minutes, hours })
          : undefined;
      return loginPage(request, h, { next: query.next, notice });
    },
  }),
  route({
    method: 'POST',
    path: '/login',
    options: {
      auth: { mode: 'try' },
      plugins: { cookie: { redirectTo: false } },
      ext: { onPreAuth: { method: refuseLocalLogin } },
      pre: [{ method: loginLimit, failAction: tooManyLogins }],
      validate: {
        payload: loginPayload,
        failAction: (request, h) => {
          const typed = fieldOf(request.payload, 'email');
          const email = typeof typed === 'string' ? typed.slice(0, 254) : '';
          // The page to return to stays in the form (a password left empty must not lose it), if it is one.
          const kept = loginNext.validate(fieldOf(request.payload, 'next'));
          const next = kept.error ? undefined : (kept.value as string | undefined);
          return loginPage(request, h, { error: t(languageOf(request), 'login.invalid'), email, next }, 400).takeover();
        },
      },
    },
    async handler(request, h) {
      const { db, config, bus } = request.server.app;
      const { email, password, next } = request.payload;
      const lang = languageOf(request);
      const sessionId = request.auth.isAuthenticated ? request.auth.credentials.sessionId : undefined;
      let started: StartedSession | undefined;
      // The try, its outcome, the session and the audit record commit once (ARCHITECTURE.md, the data path).
      const result = await checkPassword(db, config.login, email, password, new Date(), async (trx, outcome) => {
        if (!outcome.ok) {
          const staff = outcome.staff;
          await request.auditIn(trx, outcome.reason === 'locked' ? 'login.locked' : 'login.failed', {
            targetType: 'staff',
            targetId: staff?.id,
            // An address that names no account may be a patient's or a private one mistyped: kept
            // beside the record for a short while only (RETENTION_LOGIN_ADDRESS_DAYS).
            ...(staff ? {} : { details: { unknownAccount: true }, typedAddress: email }),
          });
          return;
        }
        await refundAttempt(trx, 'login', request);
        // A new session id at every login, and the old session (if any) ended: no fixation.
        if (sessionId) await endSession(trx, sessionId);
        started = await startSession(trx, outcome.staff.id, { method: 'password', hours: config.sessionHours });
        await request.auditIn(
          trx,
          'login',
          { targetType: 'staff', targetId: outcome.staff.id, details: { method: 'password' } },
          outcome.staff,
        );
      });
      // Locked, unknown or wrong: one answer, so that nobody learns which accounts exist.
      if (!result.ok || !started) return loginPage(request, h, { error: t(lang, 'login.failed'), email, next }, 401);
      keepSession(request, started);
      bus.emit('staff.login', { staffId: result.staff.id, method: 'password' });
      return h.redirect(result.staff.mustChangePassword ? passwordPath(next) : next || '/');
    },
  }),
  route({
    method: 'GET',
    path: '/password',
    options: { auth: { strategy: 'session' }, validate: { query: passwordQuery } },
    handler: (request, h) => passwordPage(request, h, { next: request.query.next }),
  }),
  route({
    method: 'POST',
    path: '/password',
    options: {
      auth: { strategy: 'session' },
      pre: [
        { method: rateLimit('password', { points: 10, durationSeconds: 15 * 60 }, (r) => r.auth.credentials.user!.id) },
      ],
      validate: {
        query: passwordQuery,
        payload: objectOf<{ current: string; next: string; repeat: string }>({
          current: Joi.string().max(1024).allow('').default(''),
          next: Joi.string().max(1024).allow('').default(''),
          repeat: Joi.string().max(1024).allow('').default(''),
        }),
        failAction: (request, h, error) => {
          // The address's `next` is checked first: one that is not a path here is refused as the login refuses it.
          const kept = loginNext.validate(fieldOf(request.query, 'next'));
          if (kept.error) throw Boom.badRequest(validationSentences(error, languageOf(request)));
          return passwordPage(request, h, { problems: ['wrong_current'], next: kept.value })
            .code(400)
            .takeover();
        },
      },
    },
    async handler(request, h) {
      const staff = request.auth.credentials.user!;
      const { current, next, repeat } = request.payload;
      const { sessionId } = request.auth.credentials;
      const result = await changePassword(request.server.app.db, staff.id, sessionId, current, next, repeat, (trx) =>
        request.auditIn(trx, 'password.change', { targetType: 'staff', targetId: staff.id }),
      );
      if (!result.ok)
        return passwordPage(request, h, { problems: result.problems, next: request.query.next }).code(400);
      // The session goes on under its new id; the cookie keeps its end (keepSession).
      if (result.sessionId) request.cookieAuth.set('sid', result.sessionId);
      // The other sessions have ended (changePassword): so do their open streams.
      request.server.app.bus.emit('staff.changed', { staffId: staff.id });
      return passwordPage(request, h, { changed: true, next: request.query.next });
    },
  }),
  route({
    method: 'POST',
    path: '/logout',
    options: { auth: { strategy: 'session', mode: 'try' }, plugins: { cookie: { redirectTo: false } } },
    async handler(request, h) {
      const endSessionUrl = await providerLogout(request);
      if (request.auth.isAuthenticated && request.auth.credentials.sessionId) {
        const { sessionId } = request.auth.credentials;
        const staffId = request.auth.credentials.user!.id;
        // The session's end and its audit record commit together.
        await request.server.app.db.transaction(async (trx) => {
          await endSession(trx, sessionId);
          await request.auditIn(trx, 'logout', { targetType: 'staff', targetId: staffId });
        });
        request.server.app.bus.emit('staff.logout', { staffId });
      }
      request.cookieAuth.clear();
      if (!endSessionUrl) return h.redirect(loggedOutPath);
      // The provider's session must end too (on a shared computer the next SITHS login would
      // otherwise ask for nothing). A redirect from this form's POST to the provider is a form
      // submission to another origin, which form-action 'self' stops in the browser; so the POST
      // ends here, on a page of this site, and the browser goes on to the provider by a GET.
      const lang = languageOf(request);
      return h
        .view('logout', { title: t(lang, 'identity.logout.title'), staff: null, endSession: endSessionUrl.href })
        .header('refresh', `0; url=${endSessionUrl.href}`)
        .header('cache-control', 'no-store');
    },
  }),
  route({
    method: 'GET',
    path: '/lang/{lang}',
    options: {
      auth: false,
      validate: {
        params: objectOf<{ lang: Language }>({ lang: Joi.string<Language>().valid('sv', 'en').required() }),
        // The page it was asked on, query and all (a support search's sealed address among them).
        query: objectOf<{ next?: string }>({ next: nextPath }),
      },
    },
    handler(request, h) {
      const lang = request.params.lang;
      const next = request.query.next ?? '/';
      return h.redirect(next).state(languageCookie, isLanguage(lang) ? lang : 'sv');
    },
  }),
  route({
    method: 'GET',
    path: '/',
    options: { auth: { strategy: 'session' } },
    // Each role starts where its work is: clinicians in their calendar (the routine: join by
    // clicking the patient's name there), support in the connection logs, IT in administration.
    handler(request, h) {
      return h.redirect(landing[request.auth.credentials.user!.role]);
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/me',
    options: {
      description: 'The authenticated staff member',
      notes: 'Works with the session cookie or an API bearer token.',
      response: { schema: staffSchema, failAction: 'log' },
    },
    async handler(request) {
      const staff = request.auth.credentials.user!;
      const unit = await findUnit(request.server.app.db, { id: staff.unitId });
      return { id: staff.id, email: staff.email, name: staff.name, hsaId: staff.hsaId, role: staff.role, unit };
    },
  }),
];

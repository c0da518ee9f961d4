// Staff login through the hospital's identity provider ("Logga in med SITHS-kort"): /auth/login
// sends the browser to the provider, /auth/callback maps the returned HSA-ID (or e-mail) to a staff
// account and starts a fresh session. Also what LOCAL_LOGIN=off and logout need from the provider.
import type { Lifecycle, Request, ResponseToolkit, Server, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { OidcConfig } from '../config.ts';
import { decrypt, encrypt, randomToken, sha256 } from '../crypto.ts';
import type { Db } from '../db/knex.ts';
import { languageOf, t } from '../http/i18n.ts';
import { rateLimit } from '../http/ratelimit.ts';
import { fieldOf, objectOf, route } from '../http/route.ts';
import type { Staff } from './model.ts';
import { FlowError, identityProviderFor, identityProviderOf, type VerifiedIdentity } from './oidc.ts';
import { flowMinutes, sessionOrigin } from './oidc-flows.ts';
import { loginNext, longestPath } from './schemas.ts';
import { endSession, normaliseEmail, startSession, type StartedSession } from './service.ts';
import { keepSession } from './auth.ts';
import { must } from '../common/must.ts';
import { findStaff, findUnit, insertStaffUnlessTaken } from './store.ts';

/** The browser's flow cookie: a flow started elsewhere does not complete here. */
export const flowCookie = 'samverka_flow';
const bindingPattern = /^[A-Za-z0-9_-]{43}$/;

/** This browser's flow binding, created on first use and kept while flows are in progress. */
export function flowBinding(request: Request, h: ResponseToolkit): string {
  const existing = request.state[flowCookie];
  const value = typeof existing === 'string' && bindingPattern.test(existing) ? existing : randomToken();
  h.state(flowCookie, value);
  return value;
}

// The provider reads what it sent back, whatever else the query carries.
export const callbackQuery = Joi.object<Record<string, unknown>>({
  state: Joi.string().max(200),
  code: Joi.string().max(2000),
  iss: Joi.string().max(500),
  error: Joi.string().max(200),
  error_description: Joi.string().max(1000),
  session_state: Joi.string().max(500),
}).unknown(true);

/** What the login page needs to know: the SITHS button (keeping the page asked for), and whether the password form is shown. */
export function loginOptions(request: Request): { oidc?: string; localLogin: boolean } {
  const { config } = request.server.app;
  // Drawn for any route, validated or not: the next page is taken only where it is a path here.
  const next = [fieldOf(request.query, 'next'), fieldOf(request.payload, 'next')].find(
    (value): value is string => typeof value === 'string' && value.startsWith('/') && value.length <= longestPath,
  );
  return {
    oidc: config.oidc ? `/auth/login${next ? `?next=${encodeURIComponent(next)}` : ''}` : undefined,
    localLogin: config.localLogin,
  };
}

function loginPage(request: Request, h: ResponseToolkit, error: string, code: number) {
  const lang = languageOf(request);
  return h.view('login', { title: t(lang, 'login.title'), ...loginOptions(request), error }).code(code);
}

/** With LOCAL_LOGIN=off the password form is gone, and a posted password is refused unread. */
export const refuseLocalLogin: Lifecycle.Method = (request, h) => {
  if (request.server.app.config.localLogin) return h.continue;
  return loginPage(request, h, t(languageOf(request), 'identity.localLoginOff'), 403).takeover();
};

/** The AES-GCM context of a sealed ID token: a sealed value from another column does not open as one. */
const idTokenContext = 'staff_sessions.id_token';

export const loggedOutPath = '/login?bye=true';

/**
 * After logout: the provider's end-session address (with the session's ID token as id_token_hint,
 * and back to /login?bye=true) when the session came from the provider; undefined otherwise.
 */
export async function providerLogout(request: Request): Promise<URL | undefined> {
  const provider = identityProviderOf(request.server);
  const sid = request.auth.credentials?.sessionId;
  if (!provider || typeof sid !== 'string') return undefined;
  const { db, config } = request.server.app;
  const origin = await sessionOrigin(db, sha256(sid));
  if (origin?.method !== 'oidc') return undefined;
  let idToken: string | undefined;
  try {
    idToken = origin.idTokenSealed ? decrypt(config.dataKey, origin.idTokenSealed, idTokenContext) : undefined;
  } catch {
    idToken = undefined; // sealed under an earlier DATA_KEY: the provider asks the person instead
  }
  return provider.endSessionUrl(loggedOutPath, idToken);
}

export type StaffMatch =
  | { ok: true; staff: Staff; provisioned: boolean }
  | { ok: false; reason: 'no_claim' | 'no_email' | 'unknown' | 'disabled' | 'provision_failed' };

/** The staff account the provider's identity names; unknown people get one only when OIDC_AUTO_PROVISION says so. */
export async function staffFor(db: Db, settings: OidcConfig, identity: VerifiedIdentity): Promise<StaffMatch> {
  const key = settings.staffMatch === 'hsa_id' ? identity.hsaId : identity.email && normaliseEmail(identity.email);
  // The page names the claim that was missing: the HSA-ID, or the e-mail address when accounts are found by it.
  if (!key) return { ok: false, reason: settings.staffMatch === 'hsa_id' ? 'no_claim' : 'no_email' };
  const found = await findStaff(db, settings.staffMatch === 'hsa_id' ? { hsaId: key } : { email: key });
  if (found) return found.disabled ? { ok: false, reason: 'disabled' } : { ok: true, staff: found, provisioned: false };
  if (!settings.autoProvision) return { ok: false, reason: 'unknown' };
  const unit = await findUnit(db, { name: settings.autoProvision.unit });
  const email = identity.email && normaliseEmail(identity.email);
  // The e-mail address and the HSA-ID are each unique, and the match looked by one of them only:
  // an account that already holds the other is someone's, and gets no second account beside it.
  if (
    !unit ||
    !email ||
    !identity.name ||
    (await findStaff(db, { email })) ||
    (identity.hsaId && (await findStaff(db, { hsaId: identity.hsaId })))
  )
    return { ok: false, reason: 'provision_failed' };
  const staff = await insertStaffUnlessTaken(db, {
    email,
    name: identity.name.normalize('NFC'),
    role: settings.autoProvision.role,
    unitId: unit.id,
    hsaId: identity.hsaId,
    passwordHash: null,
  });
  if (!staff) {
    // The person's other login (a second tab) added the account meanwhile: this one finds it. An
    // account someone else added with this e-mail address meanwhile is theirs, as above.
    const again = await staffFor(db, { ...settings, autoProvision: undefined }, identity);
    return again.ok || again.reason !== 'unknown' ? again : { ok: false, reason: 'provision_failed' };
  }
  return { ok: true, staff, provisioned: true };
}

export function registerOidc(server: Server): void {
  const { config } = server.app;
  const provider = identityProviderFor(config);
  server.state(flowCookie, {
    isSecure: config.publicUrl.protocol === 'https:',
    isHttpOnly: true,
    // Lax: the provider sends the browser back with a top-level GET from its own site.
    isSameSite: 'Lax',
    path: '/',
    ttl: flowMinutes * 60_000,
    encoding: 'none',
    clearInvalid: true,
    strictHeader: true,
  });
  server.expose('identityProvider', provider);
  if (!provider) return;
  server.app.health.add('identity provider', () => provider.check());
  server.route(oidcRoutes);
}

const perAddress = rateLimit('oidc-login', { points: 60, durationSeconds: 10 * 60 });

const oidcRoutes: ServerRoute[] = [
  route({
    method: 'GET',
    path: '/auth/login',
    options: {
      auth: { mode: 'try' },
      plugins: { cookie: { redirectTo: false } },
      pre: [{ method: perAddress }],
      validate: {
        query: objectOf<{ next?: string }>({ next: loginNext }),
        failAction: (_request, h) => h.redirect('/auth/login').takeover(),
      },
    },
    async handler(request, h) {
      const provider = identityProviderOf(request.server)!;
      try {
        const url = await provider.begin(request.server.app.db, {
          purpose: 'staff',
          binding: flowBinding(request, h),
          callbackPath: '/auth/callback',
          nextPath: request.query.next || null,
          acrValues: provider.settings.acr.siths,
        });
        return h.redirect(url.href);
      } catch (error) {
        if (!(error instanceof FlowError)) throw error;
        request.log(['oidc', 'warn'], error.message);
        await request.audit('login.failed', { details: { method: 'oidc', reason: error.problem } });
        return loginPage(request, h, t(languageOf(request), 'identity.unreachable'), 503);
      }
    },
  }),
  route({
    method: 'GET',
    path: '/auth/callback',
    options: {
      auth: { mode: 'try' },
      plugins: { cookie: { redirectTo: false } },
      pre: [{ method: perAddress }],
      validate: {
        query: callbackQuery,
        failAction: (request, h) =>
          loginPage(request, h, t(languageOf(request), 'identity.problem.unknown_state'), 400).takeover(),
      },
    },
    async handler(request, h) {
      const { db, config, bus } = request.server.app;
      const provider = identityProviderOf(request.server)!;
      const lang = languageOf(request);
      let result;
      try {
        result = await provider.finish(
          db,
          { path: '/auth/callback', query: request.query },
          request.state[flowCookie] as string | undefined,
          'staff',
        );
      } catch (error) {
        if (!(error instanceof FlowError)) throw error;
        request.log(['oidc', 'warn'], `${error.message}${error.code ? ` (${error.code})` : ''}`);
        await request.audit('login.failed', { details: { method: 'oidc', reason: error.problem, code: error.code } });
        return loginPage(
          request,
          h,
          t(lang, `identity.problem.${error.problem}`),
          error.problem === 'unreachable' ? 503 : 401,
        );
      }
      const idTokenSealed = result.identity.idToken
        ? encrypt(config.dataKey, result.identity.idToken, idTokenContext)
        : undefined;
      const sessionId = request.auth.isAuthenticated ? request.auth.credentials.sessionId : undefined;
      let started: StartedSession | undefined;
      // The account found or provisioned, the session and the audit records commit once.
      const match = await db.transaction(async (trx) => {
        const found = await staffFor(trx, config.oidc!, result.identity);
        if (!found.ok) {
          const hsaId = result.identity.hsaId ?? undefined;
          // An HSA-ID that names no account here is kept beside the record for a short while only,
          // as an address typed at a failed password login is (RETENTION_LOGIN_ADDRESS_DAYS); a
          // disabled account's names that account, and stays with the record.
          const namesNoAccount = hsaId !== undefined && found.reason !== 'disabled';
          await request.auditIn(trx, 'login.failed', {
            details: {
              method: 'oidc',
              reason: found.reason,
              ...(namesNoAccount ? { unknownAccount: true } : { hsaId }),
            },
            ...(namesNoAccount ? { typedAddress: hsaId } : {}),
          });
          return found;
        }
        // A new session id at every login, and the old session (if any) ended: no fixation.
        if (sessionId) await endSession(trx, sessionId);
        started = await startSession(trx, found.staff.id, {
          method: 'oidc',
          hours: config.sessionHours,
          idTokenSealed,
        });
        if (found.provisioned)
          await request.auditIn(
            trx,
            'staff.provisioned',
            { targetType: 'staff', targetId: found.staff.id, details: { method: 'oidc' } },
            found.staff,
          );
        await request.auditIn(
          trx,
          'login',
          { targetType: 'staff', targetId: found.staff.id, details: { method: 'oidc' } },
          found.staff,
        );
        return found;
      });
      if (!match.ok) return loginPage(request, h, t(lang, `identity.staff.${match.reason}`), 403);
      keepSession(request, must(started, 'the session begun'));
      bus.emit('staff.login', { staffId: match.staff.id, method: 'oidc' });
      return h.redirect(result.flow.nextPath || '/');
    },
  }),
];

// The identity step for participants booked with BankID or SITHS: the person is sent to the
// hospital's identity provider and comes back with what it vouches for. A patient's (or proxy's)
// personal identity number must be the booked one; a colleague's HSA-ID the one on their staff
// account. The number is compared as a hash in constant time, and never shown or logged.
import { timingSafeEqual } from 'node:crypto';
import type { Lifecycle, Request, ResponseToolkit, RouteOptionsPreArray, ServerRoute } from '@hapi/hapi';
import { sha256 } from '../crypto.ts';
import type { Db } from '../db/knex.ts';
import { languageOf, t } from '../http/i18n.ts';
import { route } from '../http/route.ts';
import { parsePersonalNumber } from '../meetings/index.ts';
import { personalNumberOf } from '../meetings/index.ts';
import { FlowError, identityProviderOf, type VerifiedIdentity } from '../staff/index.ts';
import { callbackQuery, flowBinding, flowCookie } from '../staff/index.ts';
import { findStaff } from '../staff/index.ts';
import type { LinkPerson } from './links.ts';
import { namesMatch } from '../common/names.ts';
import type { Invitation } from './service.ts';
import { markIdentified, recordIdentityMismatch } from './store.ts';

declare module '../events.ts' {
  interface DomainEvents {
    /** Someone came back from the identity provider as another person than the invited one. */
    'entry.identity_mismatch': { meetingId: string; participantId: string; person: LinkPerson };
  }
}

type Method = 'bankid' | 'siths';
export type IdentityCheck = 'match' | 'mismatch' | 'missing';

const sameText = (a: string, b: string): boolean =>
  timingSafeEqual(Buffer.from(sha256(a), 'hex'), Buffer.from(sha256(b), 'hex'));

/**
 * Whether the verified identity is the invited person. Guests are never asked for a personal
 * number (README.md, Entry) and have no staff account: for them the verified name must be the invited one.
 */
export async function checkIdentity(
  db: Db,
  dataKey: Buffer,
  invitation: Invitation,
  method: Method,
  identity: VerifiedIdentity,
): Promise<IdentityCheck> {
  const { participant, person } = invitation;
  if (method === 'bankid') {
    const booked =
      participant.kind === 'guest'
        ? null
        : await personalNumberOf(db, participant.id, dataKey, person === 'proxy' ? 'proxy' : 'patient');
    if (booked) {
      if (!identity.personalNumber) return 'missing';
      const verified = parsePersonalNumber(identity.personalNumber);
      return verified.ok && sameText(verified.value, booked) ? 'match' : 'mismatch';
    }
  } else if (participant.kind === 'colleague' && participant.staffId) {
    const colleague = await findStaff(db, { id: participant.staffId });
    if (!identity.hsaId) return 'missing';
    return colleague?.hsaId && sameText(identity.hsaId.toUpperCase(), colleague.hsaId.toUpperCase())
      ? 'match'
      : 'mismatch';
  }
  if (!identity.name) return 'missing';
  return namesMatch(identity.name, invitation.invitedName) ? 'match' : 'mismatch';
}

/** What the identity routes borrow from the entry pages. */
export interface EntryPages {
  current(
    request: Request,
    h: ResponseToolkit,
  ): Promise<{ ended: Lifecycle.ReturnValue } | { invitation: Invitation; state: { identifiedAt: Date | null } }>;
  base(request: Request, invitation: Invitation | undefined, title: string): Record<string, unknown>;
  layout: { layout: string };
  rateLimit: RouteOptionsPreArray;
}

const guest = { strategy: 'guest' } as const;
const methodOf = (invitation: Invitation): Method | undefined => {
  const method = invitation.participant.identification;
  return method === 'bankid' || method === 'siths' ? method : undefined;
};

export function identifyRoutes(pages: EntryPages): ServerRoute[] {
  const page = (
    request: Request,
    h: ResponseToolkit,
    invitation: Invitation,
    method: Method,
    extra: { title?: string; text: string; problem?: boolean; button?: boolean },
    code = 200,
  ) => {
    const lang = languageOf(request);
    return h
      .view(
        'entry/identify',
        {
          ...pages.base(request, invitation, extra.title ?? t(lang, `identity.entry.${method}.title`)),
          text: extra.text,
          problem: extra.problem ?? false,
          button: extra.button ? t(lang, `identity.entry.${method}.button`) : undefined,
        },
        pages.layout,
      )
      .code(code);
  };

  return [
    route({
      method: 'GET',
      path: '/entry/identify',
      options: { auth: guest },
      async handler(request, h) {
        const found = await pages.current(request, h);
        if ('ended' in found) return found.ended;
        const lang = languageOf(request);
        const method = methodOf(found.invitation);
        if (found.state.identifiedAt || !method) return h.redirect('/entry');
        // Without an identity provider there is no way to identify: an honest page, never a way around it.
        if (!identityProviderOf(request.server)) {
          return page(
            request,
            h,
            found.invitation,
            method,
            {
              title: t(lang, `entry.identify.${method}.title`),
              text: t(lang, `entry.identify.${method}.text`),
              problem: true,
            },
            503,
          );
        }
        return page(request, h, found.invitation, method, {
          text: t(lang, `identity.entry.${method}.text`),
          button: true,
        });
      },
    }),
    route({
      // A GET: the page's link leads here (a form could not redirect to the provider under form-action 'self').
      method: 'GET',
      path: '/entry/identify/start',
      options: { auth: guest, pre: pages.rateLimit },
      async handler(request, h) {
        const found = await pages.current(request, h);
        if ('ended' in found) return found.ended;
        const method = methodOf(found.invitation);
        const provider = identityProviderOf(request.server);
        if (found.state.identifiedAt || !method || !provider) return h.redirect('/entry');
        const { participant, person } = found.invitation;
        try {
          const url = await provider.begin(request.server.app.db, {
            purpose: 'entry',
            binding: flowBinding(request, h),
            callbackPath: '/entry/identify/callback',
            participantId: participant.id,
            person,
            acrValues: provider.settings.acr[method],
            // Never the session of someone else who used this browser at the provider.
            fresh: true,
          });
          return h.redirect(url.href);
        } catch (error) {
          if (!(error instanceof FlowError)) throw error;
          request.log(['oidc', 'warn'], error.message);
          return page(
            request,
            h,
            found.invitation,
            method,
            { text: t(languageOf(request), 'identity.problem.unreachable'), problem: true, button: true },
            503,
          );
        }
      },
    }),
    route({
      method: 'GET',
      path: '/entry/identify/callback',
      options: {
        auth: guest,
        pre: pages.rateLimit,
        validate: { query: callbackQuery, failAction: (_request, h) => h.redirect('/entry/identify').takeover() },
      },
      async handler(request, h) {
        const found = await pages.current(request, h);
        if ('ended' in found) return found.ended;
        const { invitation } = found;
        const method = methodOf(invitation);
        const provider = identityProviderOf(request.server);
        if (found.state.identifiedAt || !method || !provider) return h.redirect('/entry');
        const { db, config, bus } = request.server.app;
        const lang = languageOf(request);
        const { participant, person, meeting } = invitation;
        const audit = {
          meetingId: meeting.id,
          participantId: participant.id,
          targetType: 'participant',
          targetId: participant.id,
        };
        let identity: VerifiedIdentity;
        try {
          const result = await provider.finish(
            db,
            { path: '/entry/identify/callback', query: request.query },
            request.state[flowCookie] as string | undefined,
            'entry',
          );
          // The flow belongs to this guest session's person, not just to this browser.
          if (result.flow.participantId !== participant.id || result.flow.person !== person)
            throw new FlowError('other_browser', 'the identification was started for another person');
          identity = result.identity;
        } catch (error) {
          if (!(error instanceof FlowError)) throw error;
          request.log(['oidc', 'warn'], `${error.message}${error.code ? ` (${error.code})` : ''}`);
          await request.audit('entry.identify.failed', {
            ...audit,
            details: { method, person, reason: error.problem, code: error.code },
          });
          return page(
            request,
            h,
            invitation,
            method,
            { text: t(lang, `identity.problem.${error.problem}`), problem: true, button: true },
            error.problem === 'unreachable' ? 503 : 401,
          );
        }
        const check = await checkIdentity(db, config.dataKey, invitation, method, identity);
        if (check !== 'match') {
          // The mismatch, its audit record and its event commit once (ARCHITECTURE.md, the data path).
          await db.transaction(async (trx) => {
            await recordIdentityMismatch(trx, participant.id, person);
            await request.auditIn(trx, 'entry.identify.mismatch', {
              ...audit,
              details: { method, person, reason: check },
            });
            await bus.emitIn(trx, 'entry.identity_mismatch', {
              meetingId: meeting.id,
              participantId: participant.id,
              person,
            });
          });
          const text = t(lang, check === 'missing' ? 'identity.entry.missing' : 'identity.entry.mismatch.text');
          return page(
            request,
            h,
            invitation,
            method,
            { title: t(lang, 'identity.entry.mismatch.title'), text, problem: true },
            403,
          );
        }
        await db.transaction(async (trx) => {
          await markIdentified(trx, participant.id, person, method);
          await request.auditIn(trx, 'entry.identified', { ...audit, details: { method, person } });
          await bus.emitIn(trx, 'participant.status', {
            meetingId: meeting.id,
            participantId: participant.id,
            status: 'identified',
            person,
          });
        });
        return h.redirect('/entry');
      },
    }),
  ];
}

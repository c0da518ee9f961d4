// Guests (patients, proxies, external parties) are not staff: after the name check their browser
// holds a guest session, an HttpOnly cookie whose value is stored only as a hash. It is the only
// thing that lets that browser back in until the meeting is over.
import Boom from '@hapi/boom';
import type { Request, Server } from '@hapi/hapi';
import { sha256 } from '../crypto.ts';
import { speakBookedLanguage } from '../http/i18n.ts';
import { findAttendance, findParticipant } from '../meetings/index.ts';
import type { LinkPerson } from './links.ts';
import type { SessionRead } from './service.ts';
import { findGuestSession } from './store.ts';

export const guestCookie = 'samverka_guest';

/**
 * A browser keeps a session for each way in it took, its current one first: a social worker or a
 * parent invited to several meetings enters them all from one browser, and each link still knows it.
 */
const sessionsKept = 8;

/** The sessions the guest cookie holds, the current one first (none for a cookie not ours). */
export function heldSessions(value: unknown): string[] {
  if (typeof value !== 'string' || value.length > sessionsKept * 65) return [];
  return value
    .split('.')
    .filter((s) => /^[\w-]{1,64}$/.test(s))
    .slice(0, sessionsKept);
}

/** The cookie's value with `session` as the current one, before the others the browser holds. */
export const withCurrent = (session: string, held: string[]): string =>
  [session, ...held.filter((s) => s !== session)].slice(0, sessionsKept).join('.');

export interface GuestIdentity {
  participantId: string;
  person: LinkPerson;
  meetingId: string;
}

declare module '@hapi/hapi' {
  interface AuthCredentials {
    guest?: GuestIdentity;
  }
}

// What the session's check read (the person's entry state, the participant and their meeting), for
// the rest of the same request (service.current): read once per request. Never kept beyond the
// request: the meeting may change under the guest (cancelled, rescheduled, the participant removed).
const readFor = new WeakMap<Request, SessionRead>();

/** The entry state, participant and meeting as this request's guest-session check read them. */
export const sessionRead = (request: Request): SessionRead | undefined => readFor.get(request);

export function registerGuestAuth(server: Server): void {
  const secure = server.app.config.publicUrl.protocol === 'https:';
  // Lax: a returning guest comes back through the link in an SMS or e-mail, a cross-site visit.
  server.state(guestCookie, {
    isSecure: secure,
    isHttpOnly: true,
    isSameSite: 'Lax',
    path: '/',
    encoding: 'none',
    clearInvalid: true,
    strictHeader: true,
  });
  server.auth.scheme('guest-session', () => ({
    async authenticate(request, h) {
      const [current] = heldSessions(request.state[guestCookie]);
      if (!current) throw Boom.unauthorized(null, 'guest');
      const session = await findGuestSession(server.app.db, sha256(current));
      if (!session) throw Boom.unauthorized('The guest session has ended', 'guest');
      const attendance = await findAttendance(server.app.db, session.participantId);
      readFor.set(request, { attendance, state: session.state });
      // Every page after the name check speaks the booking's language, error pages included (also
      // the one that tells a person taken off the meeting, whose participant is read for it).
      speakBookedLanguage(
        request,
        attendance
          ? attendance.participant.language
          : (await findParticipant(server.app.db, session.participantId))?.language,
      );
      return h.authenticated({
        credentials: {
          guest: { participantId: session.participantId, person: session.person, meetingId: session.meetingId },
        },
      });
    },
  }));
  server.auth.strategy('guest', 'guest-session');
}

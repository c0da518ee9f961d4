// POST /connlog/events: what the meeting page reports from the browser (Jitsi's IFrame API events,
// camera and microphone errors, reconnects). Only about the caller's own session: a guest's
// participant comes from their guest session, a staff member's from their login; a body naming
// anyone else is refused. Small (4 KB), validated, and rate-limited per session.
import Boom from '@hapi/boom';
import type { Request, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { instant, lookupYears } from '../http/dates.ts';
import { localRateLimit } from '../http/ratelimit.ts';
import { objectOf, route } from '../http/route.ts';
import { meetingFor, tookPart } from '../meetings/index.ts';
import { describeUserAgent } from '../techtest/index.ts';
import { clientEventTypes, type ClientEventType, type Details } from './model.ts';
import type { Recorder } from './recorder.ts';
import { headerText } from '../http/headers.ts';

export const clientEventMaxBytes = 4 * 1024;

const detailValue = Joi.alternatives(Joi.string().max(500).allow(''), Joi.number(), Joi.boolean()).allow(null);

export const clientEventPayload = objectOf<ClientEvent>({
  type: Joi.string<ClientEventType>()
    .valid(...clientEventTypes)
    .required(),
  meetingId: Joi.string().guid(),
  participantId: Joi.string().guid().allow(null),
  /** When the browser saw it; the server's clock decides the entry's time, this is kept as a detail. */
  at: instant(lookupYears),
  details: Joi.object<Details>()
    .pattern(/^[A-Za-z][\w.-]{0,39}$/, detailValue)
    .max(20)
    .default({}),
}).label('ClientEvent');

interface ClientEvent {
  type: ClientEventType;
  meetingId?: string;
  participantId?: string | null;
  at?: Date;
  details: Details;
}

/**
 * Details the server states, never the page: who (patient or proxy, a colleague by id), with what,
 * from where and when the browser saw it. A page's own details of these names are dropped.
 */
const serverStated = new Set(['person', 'staffId', 'byStaffId', 'browser', 'os', 'address', 'clientAt']);

const pageDetails = (details: Details): Details =>
  Object.fromEntries(Object.entries(details).filter(([key]) => !serverStated.has(key)));

/** Whose event this is, from the session alone. */
async function ownSession(
  request: Request,
  event: ClientEvent,
): Promise<{ meetingId: string; participantId: string | null; person?: 'main' | 'proxy'; staffId?: string }> {
  const { guest, user } = request.auth.credentials;
  if (guest) {
    if (
      (event.meetingId && event.meetingId !== guest.meetingId) ||
      (event.participantId && event.participantId !== guest.participantId)
    ) {
      throw Boom.forbidden('Events can only be reported for your own session');
    }
    // A patient and their proxy share the participant: the person says which of them it was.
    return { meetingId: guest.meetingId, participantId: guest.participantId, person: guest.person };
  }
  if (!user) throw Boom.unauthorized();
  if (!event.meetingId) throw Boom.badRequest('meetingId is required for staff');
  const meeting = await meetingFor(request.server, user, event.meetingId);
  const own = meeting.participants.find((p) => p.staffId === user.id);
  if (!tookPart(user.id, meeting)) throw Boom.forbidden('Events can only be reported for meetings you take part in');
  if (event.participantId && event.participantId !== own?.id)
    throw Boom.forbidden('Events can only be reported for your own session');
  // The colleague by id (shown by name): a host who is not among the participants has no participant.
  return { meetingId: meeting.id, participantId: own?.id ?? null, staffId: user.id };
}

export function clientEventRoute(recorder: Recorder): ServerRoute {
  // A meeting page reports a handful of events a minute; a loop in a broken page must not fill the log.
  const perSession = localRateLimit('connlog-events', { points: 120, durationSeconds: 10 * 60 }, (request) => {
    const { guest, user, sessionId } = request.auth.credentials;
    return guest ? `${guest.participantId}:${guest.person}` : `staff:${sessionId ?? user?.id ?? request.clientAddress}`;
  });
  return route({
    method: 'POST',
    path: '/connlog/events',
    options: {
      auth: { strategies: ['guest', 'session'] },
      plugins: { crumb: { restful: true } },
      pre: [{ method: perSession }],
      payload: { maxBytes: clientEventMaxBytes, allow: 'application/json' },
      validate: { payload: clientEventPayload },
    },
    async handler(request, h) {
      const event = request.payload;
      const whose = await ownSession(request, event);
      const platform = describeUserAgent(headerText(request, 'user-agent'));
      // The address (behind the proxy, the client's own) helps support tell a home network from the
      // hospital's guest Wi-Fi.
      const details: Details = {
        ...pageDetails(event.details),
        ...(whose.person ? { person: whose.person } : {}),
        ...(whose.staffId ? { staffId: whose.staffId } : {}),
        browser: platform.browser,
        os: platform.os,
        address: request.clientAddress,
      };
      if (event.at) details.clientAt = event.at.toISOString();
      await recorder.record({
        meetingId: whose.meetingId,
        participantId: whose.participantId,
        type: `client_${event.type}`,
        details,
      });
      return h.response().code(204);
    },
  });
}

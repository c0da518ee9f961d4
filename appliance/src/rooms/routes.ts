// The meeting page, for guests (after the waiting room) and for staff (from the calendar), with
// Jitsi embedded through its IFrame API; the staff's participant panel, end-for-all, kick and
// the five-minute rule's actions; and the panel's live stream.
import Boom from '@hapi/boom';
import type { Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { apiRoute } from '../http/api.ts';
import { objectOf, route } from '../http/route.ts';
import { openEventStream } from '../http/sse.ts';
import { languageOf, t } from '../http/i18n.ts';
import { defaultCsp } from '../http/security.ts';
import { sessionRead, checkBrowser, entryService, entryStatesOf, roomClock } from '../entry/index.ts';
import { nudge } from '../invites/index.ts';
import {
  accessChanges,
  isJoinable,
  mayChange,
  meetingEnd,
  meetingFor,
  mustChange,
  participantStatusKey,
  stillSees,
  type BareMeeting,
  type Meeting,
} from '../meetings/index.ts';
import { latestResult, participantSubject, staffSessionSubject } from '../techtest/index.ts';
import { bookedStaff, toTheRoom, type RoomService } from './service.ts';
import { inRoom, nudgeChannel, phonesOf, proxyLabel } from './contact.ts';
import { alertsOf, findRoom, presenceOf } from './store.ts';
import { headerText } from '../http/headers.ts';

const meetingParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });

/** The meeting page may load Jitsi's script and frame Jitsi: nothing else from another origin. */
function meetingCsp(jitsiUrl: string | undefined): string {
  if (!jitsiUrl) return defaultCsp;
  const origin = new URL(jitsiUrl).origin;
  return defaultCsp
    .replace("script-src 'self'", `script-src 'self' ${origin}`)
    .replace("default-src 'self'", `default-src 'self'; frame-src ${origin}`);
}

/**
 * The Jitsi Meet app's own link to a room, as Jitsi's web client builds it (deep-linking/functions.js,
 * generateDeepLinkingURL): the meeting's address with the scheme `org.jitsi.meet:`; on Android an
 * intent link naming the app's package, since not every Android browser opens custom schemes. The
 * token travels as `?jwt=`, the query parameter Jitsi's token authentication reads.
 */
function appLink(domain: string, room: string, jwt: string, android: boolean): string {
  const address = `${domain}/${encodeURIComponent(room)}?jwt=${encodeURIComponent(jwt)}`;
  return android
    ? `intent://${address}#Intent;scheme=org.jitsi.meet;package=org.jitsi.meet;end`
    : `org.jitsi.meet://${address}`;
}

/** What the page's script needs to start Jitsi, as data attributes (the CSP allows no inline script). */
async function jitsiSettings(
  request: Request,
  service: RoomService,
  meeting: BareMeeting,
  attendee: Parameters<RoomService['token']>[1],
  name: string,
  leaveUrl: string,
) {
  const { config } = request.server.app;
  if (!config.jitsi) return { mediaConfigured: false };
  const jwt = await service.token(meeting, attendee, name);
  const room = (await findRoom(request.server.app.db, { meetingId: meeting.id }))?.name;
  const domain = new URL(config.jitsi.url).host;
  return {
    mediaConfigured: true,
    externalApi: `${config.jitsi.url}/external_api.js`,
    domain,
    room,
    jwt,
    deepLink:
      room && jwt ? appLink(domain, String(room), jwt, /Android/.test(headerText(request, 'user-agent'))) : undefined,
    name,
    leaveUrl,
    meetingId: meeting.id,
  };
}

/** One line when the patient and the proxy are in the same state: the panel must fit beside the video. */
function sayOnceIfSame<T extends { who?: string; text: string }>(lines: T[]): T[] {
  const [first] = lines;
  return first && lines.every((l) => l.text === first.text) ? [{ ...first, who: undefined }] : lines;
}

export function roomRoutes(service: RoomService, jitsiUrl: string | undefined): ServerRoute[] {
  const csp = meetingCsp(jitsiUrl);
  const staffMeeting = async (request: Request, meetingId: string): Promise<Meeting> => {
    const staff = request.auth.credentials.user!;
    return meetingFor(request.server, staff, meetingId);
  };

  /** The participant panel: status, how each was identified, the number to call, who is in the room. */
  async function panel(request: Request, meeting: Meeting) {
    const lang = languageOf(request);
    const { db } = request.server.app;
    const [presence, alerts, entry] = await Promise.all([
      presenceOf(db, meeting.id),
      alertsOf(db, meeting.id),
      entryStatesOf(
        db,
        meeting.participants.map((p) => p.id),
      ),
    ]);
    const here = presence.filter((p) => !p.leftAt);
    // The routine: at the start, the leader tells everyone they will be called if the technology fails.
    const started = meeting.status === 'in_progress' || Date.now() >= meeting.startsAt.getTime();
    return {
      participants: meeting.participants.map((p) => {
        // The patient and their proxy each identify themselves and each can lock their own link:
        // with a proxy, the panel says whose state is whose.
        const persons = [
          { person: 'main' as const, who: p.proxy ? p.name : undefined },
          ...(p.proxy ? [{ person: 'proxy' as const, who: proxyLabel(lang, p) }] : []),
        ].map(({ person, who }) => ({
          who,
          state: entry.find((e) => e.participantId === p.id && e.person === person),
        }));
        const alert = alerts.find((a) => a.participantId === p.id && !a.clearedAt);
        const inside = inRoom(lang, p, presence);
        const phones = phonesOf(lang, p);
        const channel = nudgeChannel(p);
        return {
          id: p.id,
          name: p.name,
          proxyName: p.proxy?.name,
          kind: t(lang, `meetings.kind.${p.kind}`),
          status: t(lang, participantStatusKey(meeting, p)),
          identification: sayOnceIfSame(
            persons.map(({ who, state }) => ({
              who,
              text: state?.identifiedBy
                ? t(lang, `rooms.identified.${state.identifiedBy}`)
                : p.kind === 'colleague'
                  ? t(lang, 'rooms.identified.siths')
                  : t(lang, 'rooms.identified.notYet'),
              nameMatched: Boolean(state?.identifiedBy),
            })),
          ),
          locked: persons.filter(({ state }) => state?.lockedAt).map(({ who }) => ({ who })),
          phones,
          inRoom: inside.people,
          inRoomWho: inside.whoNames,
          alert: alert
            ? {
                // One number: the alert says it, as a link. Two (patient and proxy): they are just above.
                phone: phones.length === 1 ? phones[0] : undefined,
                call: t(
                  lang,
                  phones.length > 1
                    ? 'rooms.noshow.callEither'
                    : channel === 'email'
                      ? 'rooms.noshow.noPhoneEmail'
                      : 'rooms.noshow.noPhone',
                ),
                nudge: channel ? t(lang, `rooms.noshow.nudge.${channel}`) : undefined,
                action: alert.action ? t(lang, `rooms.noshow.done.${alert.action}`) : undefined,
              }
            : undefined,
        };
      }),
      unknown: here
        .filter((p) => !p.participantId && !p.staffId)
        .map((p) => ({ nick: p.nick, name: p.displayName ?? p.nick })),
      staffHere: here.filter((p) => p.staffId).length,
      reminder: started && meeting.status !== 'ended',
      ended: meeting.status === 'ended' || meeting.status === 'cancelled',
      canChange: mayChange(request.server, request.auth.credentials.user!, meeting),
      meetingId: meeting.id,
    };
  }

  const staffPage = async (request: Request, h: ResponseToolkit, meetingId: string) => {
    const meeting = await staffMeeting(request, meetingId);
    const staff = request.auth.credentials.user!;
    const lang = languageOf(request);
    const pageView = await request.auditPageView('meeting.room.open', {
      meetingId: meeting.id,
      targetType: 'meeting',
      targetId: meeting.id,
    });
    // Only the booked staff get a token: they are the meeting's owners.
    const booked = bookedStaff(meeting).includes(staff.id);
    // An ended (or cancelled) meeting has no room to join: the page says so in place of the video.
    const live = isJoinable(meeting, request.server.app.config.roomGraceMinutes);
    // The routine: the first meeting after a new login starts with the technical test.
    if (booked && live && request.server.app.config.jitsi && request.auth.credentials.sessionKey) {
      const tested = await latestResult(
        request.server.app.db,
        staffSessionSubject(request.auth.credentials.sessionKey),
      );
      if (!tested) return h.redirect(`/techtest?next=${encodeURIComponent(`/meetings/${meeting.id}/room`)}`);
    }
    const jitsi =
      booked && live
        ? await jitsiSettings(
            request,
            service,
            meeting,
            { type: 'staff', staffId: staff.id },
            staff.name,
            `/evaluation/meeting/${meeting.id}`,
          )
        : { mediaConfigured: Boolean(request.server.app.config.jitsi) };
    return h
      .view('rooms/staff', {
        title: `${t(lang, 'rooms.staff.title')}: ${meeting.title}`,
        // The video and the participant panel share the whole width: the panel must stay readable.
        wide: true,
        styles: ['meeting.css'],
        scripts: ['meeting.js'],
        meeting: {
          id: meeting.id,
          title: meeting.title,
          when: meeting.startsAt.toISOString(),
          ends: meetingEnd(meeting).toISOString(),
        },
        booked,
        jitsi,
        closed: live
          ? undefined
          : t(lang, meeting.status === 'cancelled' ? 'rooms.closed.cancelled' : 'rooms.closed.over'),
        pageView,
        panel: await panel(request, meeting),
      })
      .code(live ? 200 : 410);
  };

  return [
    route({
      method: 'GET',
      path: '/meetings/{id}/room',
      options: { auth: { strategy: 'session' }, validate: { params: meetingParams }, plugins: { csp } },
      handler: (request, h) => staffPage(request, h, request.params.id),
    }),
    route({
      method: 'GET',
      path: '/meetings/{id}/room/panel',
      options: { auth: { strategy: 'session' }, validate: { params: meetingParams } },
      handler: async (request, h) => {
        const meeting = await staffMeeting(request, request.params.id);
        // The panel's live refresh belongs to the room's page view; without its token it is a new access.
        await request.auditPageView('meeting.room.open', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
        });
        return h.view('rooms/panel', await panel(request, meeting), { layout: false });
      },
    }),
    route({
      method: 'GET',
      path: '/meetings/{id}/room/events',
      options: { auth: { strategy: 'session' }, validate: { params: meetingParams } },
      handler: async (request, h) => {
        const meeting = await staffMeeting(request, request.params.id);
        const bus = request.server.app.bus;
        const offs: (() => void)[] = [];
        const { response, stream } = openEventStream(request, h, {
          onClose: () => offs.forEach((off) => off()),
          stillAllowed: (staff) => stillSees(request.server, staff, meeting.id),
        });
        const mine = (payload: { meetingId: string | null }) => payload.meetingId === meeting.id;
        // A change that may take the person's access to the meeting away: the panel checks it again.
        for (const name of accessChanges)
          offs.push(bus.follow(name, (payload) => (mine(payload) ? stream.recheck() : undefined)));
        for (const name of [
          'room.presence',
          'room.kicked',
          'room.ended',
          'noshow.alert',
          'noshow.action',
          'noshow.cleared',
          'participant.status',
          'entry.locked',
        ] as const) {
          offs.push(
            bus.follow(name, (payload: { meetingId: string | null }) => {
              if (mine(payload)) stream.send('changed', { type: name });
            }),
          );
        }
        return response;
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/end',
      options: {
        auth: { strategy: 'session' },
        validate: {
          params: meetingParams,
          payload: objectOf<{ confirm: 'yes' }>({ confirm: Joi.string<'yes'>().valid('yes').required() }),
        },
      },
      handler: async (request, h) => {
        const meeting = await staffMeeting(request, request.params.id);
        const staff = request.auth.credentials.user!;
        mustChange(request.server, staff, meeting);
        await service.end(meeting.id, toTheRoom('rooms.endReason'), staff.id, new Date(), (trx) =>
          request.auditIn(trx, 'meeting.end', { meetingId: meeting.id, targetType: 'meeting', targetId: meeting.id }),
        );
        return h.redirect(`/meetings/${meeting.id}`);
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/kick',
      options: {
        auth: { strategy: 'session' },
        validate: {
          params: meetingParams,
          payload: objectOf<{ nick: string }>({ nick: Joi.string().max(200).required() }),
        },
      },
      handler: async (request, h) => {
        const meeting = await staffMeeting(request, request.params.id);
        const staff = request.auth.credentials.user!;
        mustChange(request.server, staff, meeting);
        const { nick } = request.payload;
        if (!(await presenceOf(request.server.app.db, meeting.id)).some((p) => p.nick === nick && !p.leftAt))
          throw Boom.notFound(t(languageOf(request), 'rooms.kick.notHere'));
        await service.kick(meeting.id, nick, staff);
        await request.audit('meeting.kick', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
          details: { nick },
        });
        return h.redirect(`/meetings/${meeting.id}/room`);
      },
    }),
    route({
      method: 'POST',
      path: '/meetings/{id}/noshow/{participantId}',
      options: {
        auth: { strategy: 'session' },
        validate: {
          params: objectOf<{ id: string; participantId: string }>({
            id: Joi.string().guid().required(),
            participantId: Joi.string().guid().required(),
          }),
          payload: objectOf<{ action: 'called' | 'nudge' | 'dismissed' }>({
            action: Joi.string<'called' | 'nudge' | 'dismissed'>().valid('called', 'nudge', 'dismissed').required(),
          }),
        },
      },
      handler: async (request, h) => {
        const meeting = await staffMeeting(request, request.params.id);
        const staff = request.auth.credentials.user!;
        mustChange(request.server, staff, meeting);
        const { participantId } = request.params;
        const participant = meeting.participants.find((p) => p.id === participantId);
        if (!participant) throw Boom.notFound(t(languageOf(request), 'meetings.notFound.participant'));
        const { action } = request.payload;
        // "We are waiting for you" goes through the outbox like every message, on the invitation's
        // channel: what is recorded (and shown) is what was sent.
        const channel = nudgeChannel(participant);
        if (action === 'nudge' && !channel) throw Boom.badRequest(t(languageOf(request), 'rooms.noshow.noChannel'));
        if (action === 'nudge') await nudge(request.server, meeting.id, participantId);
        await service.recordAction(
          meeting.id,
          participantId,
          action === 'nudge' ? (channel === 'sms' ? 'sms_sent' : 'email_sent') : action,
          staff,
          (trx) =>
            request.auditIn(trx, 'meeting.noshow', {
              meetingId: meeting.id,
              participantId,
              targetType: 'participant',
              targetId: participantId,
              details: { action },
            }),
        );
        return h.redirect(`/meetings/${meeting.id}/room`);
      },
    }),
    route({
      method: 'GET',
      path: '/entry/meeting',
      options: {
        auth: { strategy: 'guest' },
        plugins: { csp },
        validate: { query: objectOf<{ browser?: boolean }>({ browser: Joi.boolean() }) },
      },
      async handler(request, h) {
        const identity = request.auth.credentials.guest!;
        const found = await entryService(request.server).current(identity, sessionRead(request));
        if (!found || !found.state.identifiedAt) return h.redirect('/entry');
        // The routine: the technical test first, then into the meeting (as the waiting room asks).
        if (!(await latestResult(request.server.app.db, participantSubject(identity))))
          return h.redirect('/entry/test');
        const { invitation } = found;
        if (!roomClock(request.server).isOpen(invitation)) return h.redirect('/entry/waiting');
        const lang = languageOf(request);
        const jitsi = await jitsiSettings(
          request,
          service,
          invitation.meeting,
          { type: 'participant', participantId: identity.participantId, person: identity.person },
          invitation.invitedName,
          '/entry/evaluation',
        );
        // On a phone, the Jitsi Meet app is offered beside the browser (the routine's choice).
        const browser = checkBrowser(headerText(request, 'user-agent'));
        return h.view(
          'rooms/guest',
          {
            title: t(lang, 'rooms.guest.title'),
            // Until the person has chosen, Jitsi does not start in the page: they would join twice.
            choice:
              browser.ok && browser.mobile && !request.query.browser && 'deepLink' in jitsi && Boolean(jitsi.deepLink),
            styles: ['guest.css', 'meeting.css'],
            scripts: ['meeting.js'],
            unitName: invitation.unit?.name,
            unitPhone: invitation.unit?.phone,
            jitsi,
          },
          { layout: 'guest' },
        );
      },
    }),
    apiRoute({
      method: 'GET',
      path: '/meetings/{id}/room',
      options: {
        description: "Who is in the meeting's room, and the five-minute rule's alerts",
        validate: { params: meetingParams },
      },
      handler: async (request) => {
        const meeting = await staffMeeting(request, request.params.id);
        await request.audit('meeting.room.read', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
        });
        const { db } = request.server.app;
        return { presence: await presenceOf(db, meeting.id), alerts: await alertsOf(db, meeting.id) };
      },
    }),
  ];
}

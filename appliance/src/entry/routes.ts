// The guest's pages: the link page and its name form, the SMS code, the identity step, the
// technical test (mounted from techtest/), the waiting room with its event stream, and the room.
import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { CareUnit } from '../staff/index.ts';
import { sha256 } from '../crypto.ts';
import { openEventStream } from '../http/sse.ts';
import {
  languageCookie,
  languageOf,
  speakBookedLanguage,
  speakChosenLanguage,
  t,
  type Language,
} from '../http/i18n.ts';
import { rateLimit } from '../http/ratelimit.ts';
import { fieldOf, objectOf, route } from '../http/route.ts';
import {
  describeUserAgent,
  latestResult,
  participantSubject,
  techTestPage,
  techTestRoutes,
  type Subject,
  type TechTestMount,
} from '../techtest/index.ts';
import { guestCookie, heldSessions, sessionRead, withCurrent, type GuestIdentity } from './auth.ts';
import { checkBrowser } from './browser.ts';
import { failedDevices } from './facts.ts';
import { identifyRoutes } from './identify.ts';
import { linkPath } from './links.ts';
import { formatWhen } from '../common/clock.ts';
import { limits, meetingTime, type EntryService, type Invitation, type LinkProblem } from './service.ts';
import { headerText } from '../http/headers.ts';

/** The routine: the room opens shortly before the start; a waiting room holds early arrivals. */
export interface RoomClock {
  opensAt(invitation: Invitation): Date;
  /** Open now: from its opening time (or when staff opened it) until the meeting has ended. */
  isOpen(invitation: Invitation, now?: Date): boolean;
  /** Over: nobody is let in any more, and the pages say so (also after a reload). */
  isEnded(invitation: Invitation, now?: Date): boolean;
}

/**
 * How long a browser keeps the guest cookie: long, since a meeting may be moved days or months on
 * after the guest came in (browsers keep none longer than 400 days). The sessions it names end with
 * their meetings (and move with them): they are what lets the browser in.
 */
const guestCookieTtl = 365 * 86_400_000;

/** The sessions this browser holds (auth.ts), the current one first. */
const sessionsIn = (request: Request): string[] => heldSessions(request.state[guestCookie]);

/** Makes `session` the browser's current one, keeping the others it holds (other meetings' ways in). */
const makeCurrent = <R extends { state(name: string, value: string, options: { ttl: number }): unknown }>(
  request: Request,
  response: R,
  session: string,
): R => {
  response.state(guestCookie, withCurrent(session, sessionsIn(request)), { ttl: guestCookieTtl });
  return response;
};

const token = Joi.string()
  .max(64)
  .pattern(/^[A-Za-z0-9_-]+$/);
const guest = { strategy: 'guest' } as const;
const guestPage = { layout: 'guest' };
// Pages that carry a token: no referrer leaves them, nothing is cached.
const tokenHeaders = (response: { header(name: string, value: string): unknown }) => {
  response.header('referrer-policy', 'no-referrer');
  response.header('cache-control', 'no-store');
};

function base(request: Request, invitation: Invitation | undefined, title: string) {
  const lang = languageOf(request);
  return {
    title,
    styles: ['guest.css'],
    scripts: ['entry.js'],
    unitName: invitation?.unit?.name,
    unitPhone: invitation?.unit?.phone,
    ...(invitation ? meetingTime(invitation.meeting, lang) : {}),
  };
}

const problemStatus: Record<LinkProblem, number> = {
  unknown: 404,
  revoked: 410,
  expired: 410,
  cancelled: 410,
  used: 409,
  locked: 423,
};

/** The token of the page being shown, if it came through one: the language switch must carry it in a form. */
function tokenOf(request: Request): string | undefined {
  const value = fieldOf(request.params, 'token') ?? fieldOf(request.payload, 'token');
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

function problemPage(
  request: Request,
  h: ResponseToolkit,
  problem: LinkProblem,
  invitation?: Invitation,
  language = invitation?.participant.language,
  /** Whom to call, and why the clinic cancelled, when there is no invitation to tell it (a meeting cancelled under a session). */
  closed?: { unit: CareUnit | undefined; cancelReason: string | null },
) {
  speakBookedLanguage(request, language);
  const lang = languageOf(request);
  // Told to someone whose link it is: in the connection log, so that support sees what they saw
  // ("it says the link was already used") and on which device.
  if (invitation) {
    const { browser, os } = describeUserAgent(headerText(request, 'user-agent'));
    request.server.app.bus.emit('entry.refused', {
      meetingId: invitation.meeting.id,
      participantId: invitation.participant.id,
      person: invitation.person,
      problem,
      browser,
      os,
    });
  }
  const response = h
    .view(
      'entry/problem',
      {
        ...base(request, invitation, t(lang, `entry.problem.${problem}.title`)),
        ...(closed?.unit && !invitation ? { unitName: closed.unit.name, unitPhone: closed.unit.phone } : {}),
        problem,
        text: t(lang, `entry.problem.${problem}.text`),
        // The clinic's own words, as its cancellation message said them: the page is where people look again.
        cancelReason:
          problem === 'cancelled'
            ? ((invitation ? invitation.meeting.cancelReason : closed?.cancelReason) ?? undefined)
            : undefined,
        langToken: tokenOf(request),
      },
      guestPage,
    )
    .code(problemStatus[problem]);
  tokenHeaders(response);
  return response;
}

/**
 * Where a guest goes next: identification first, then the technical test, then the waiting room.
 * The name POST sends the guest straight there (one redirect, not a chain through /entry: on a
 * mobile line every hop is a round trip).
 */
async function nextStep(
  request: Request,
  identity: Pick<GuestIdentity, 'participantId' | 'person'>,
  identification: string,
  identified: boolean,
  ended: boolean,
): Promise<string> {
  if (!identified) return identification === 'sms' ? '/entry/code' : '/entry/identify';
  // After the meeting there is nothing to test for: the waiting room says it is over.
  if (ended) return '/entry/waiting';
  return (await latestResult(request.server.app.db, participantSubject(identity))) ? '/entry/waiting' : '/entry/test';
}

export function entryRoutes(service: EntryService, clock: RoomClock): ServerRoute[] {
  const perAddress = rateLimit('entry-link', { points: 60, durationSeconds: 10 * 60 });
  const perToken = rateLimit('entry-name', { points: 10, durationSeconds: 10 * 60 }, (r) =>
    sha256(String((r.payload as { token?: string })?.token ?? '')),
  );
  const perGuest = (name: string, points: number) =>
    rateLimit(
      name,
      { points, durationSeconds: 10 * 60 },
      (r) => r.auth.credentials.guest?.participantId ?? r.clientAddress,
    );

  /** The guest's invitation and state, or the page that says the way in has closed. */
  async function current(request: Request, h: ResponseToolkit, page = true) {
    const identity = request.auth.credentials.guest!;
    const read = sessionRead(request);
    const found = await service.current(identity, read, { page });
    // Taken off a meeting that goes on (the session's check found no attendance): their link no
    // longer holds, as the link itself would say; otherwise the meeting is cancelled.
    if (!found) {
      const problem = read && !read.attendance ? 'revoked' : 'cancelled';
      const closed = page ? await service.closedMeeting(identity) : undefined;
      return { ended: problemPage(request, h, problem, undefined, undefined, closed).takeover() };
    }
    return found;
  }

  /** The link page; `extra` (an error, what was typed) is made once the page's language is known. */
  const linkPage = (
    request: Request,
    h: ResponseToolkit,
    invitation: Invitation,
    tokenValue: string,
    extra: (lang: Language) => Record<string, unknown> = () => ({}),
    code = 200,
  ) => {
    // The link's first page already speaks the booking's language: only the token says whose it is.
    speakBookedLanguage(request, invitation.participant.language);
    const lang = languageOf(request);
    // The technical test comes next for most: its script loads while the person types their name.
    const response = h
      .view(
        'entry/link',
        {
          ...base(request, invitation, t(lang, 'entry.link.title')),
          token: tokenValue,
          langToken: tokenValue,
          prefetch: ['techtest.js'],
          ...extra(lang),
        },
        guestPage,
      )
      .code(code);
    tokenHeaders(response);
    return response;
  };

  /**
   * A browser the meeting does not work in. The page's script has already taken the token out of
   * the address bar, so the page itself offers the link to copy into Chrome, Firefox or Edge: it
   * is in this one response (not cached, no referrer), never in a log or another page.
   */
  const browserPage = (
    request: Request,
    h: ResponseToolkit,
    browser: string,
    invitation: Invitation,
    tokenValue: string,
  ) => {
    speakBookedLanguage(request, invitation.participant.language);
    const lang = languageOf(request);
    const link = `${request.server.app.config.publicUrl.toString().replace(/\/$/, '')}${linkPath(tokenValue)}`;
    const response = h.view(
      'entry/browser',
      { ...base(request, invitation, t(lang, 'entry.browser.title')), browser, link, langToken: tokenValue },
      guestPage,
    );
    tokenHeaders(response);
    return response;
  };

  const subjectOf = async (request: Request): Promise<Subject> => {
    const identity = request.auth.credentials.guest!;
    const found = await service.current(identity, sessionRead(request), { page: false });
    // The test comes after identification: nobody skips the name or code step through its URL.
    if (!found || !found.state.identifiedAt) throw Boom.forbidden('Identify yourself first');
    return { ...participantSubject(identity), meetingId: found.invitation.meeting.id };
  };

  const testMount: TechTestMount = {
    path: '/entry/test',
    auth: guest,
    subject: subjectOf,
    next: () => '/entry/waiting',
  };

  /** The guest's invitation once identified; `page: false` where the answer is no page. */
  const identified =
    (page: boolean): Lifecycle.Method =>
    async (request, h) => {
      const found = await current(request, h, page);
      if ('ended' in found) return found.ended;
      if (!found.state.identifiedAt) return h.redirect('/entry').takeover();
      return found;
    };

  return [
    route({
      method: 'GET',
      path: '/j/{token}',
      options: {
        auth: { ...guest, mode: 'try' },
        pre: [{ method: perAddress }],
        validate: {
          params: objectOf<{ token: string }>({ token }),
          failAction: (request, h) => problemPage(request, h, 'unknown').takeover(),
        },
      },
      async handler(request, h) {
        const found = await service.lookup(request.params.token, sessionsIn(request));
        if (!found.ok) return problemPage(request, h, found.problem, found.invitation, found.language);
        // Entered from this browser before: back in, to this link's meeting.
        if (found.held !== undefined) return makeCurrent(request, h.redirect('/entry'), found.held);
        const browser = checkBrowser(headerText(request, 'user-agent'));
        if (!browser.ok) return browserPage(request, h, browser.browser, found.invitation, request.params.token);
        return linkPage(request, h, found.invitation, request.params.token);
      },
    }),
    route({
      // The name form posts the token in its body: after this, no URL carries it.
      method: 'POST',
      path: '/j',
      options: {
        auth: { ...guest, mode: 'try' },
        // Both counts side by side (hapi runs one set's methods in parallel): they join one group
        // commit instead of waiting for a commit each.
        pre: [[{ method: perAddress }, { method: perToken }]],
        validate: {
          payload: objectOf<{ token: string; name?: string; lang?: Language }>({
            token: token.required(),
            name: Joi.string().max(200).allow(''),
            lang: Joi.string<Language>().valid('sv', 'en'),
          }).or('name', 'lang'),
          failAction: (request, h) => problemPage(request, h, 'unknown').takeover(),
        },
      },
      async handler(request, h) {
        const { token: value, name = '', lang: chosen } = request.payload;
        if (chosen) {
          // The language switch of a page under a one-time link: the same page, in the other
          // language, with the token still only in the form. This response already speaks it.
          speakChosenLanguage(request, chosen);
          const browser = checkBrowser(headerText(request, 'user-agent'));
          const found = await service.lookup(value, sessionsIn(request));
          const page = !found.ok
            ? problemPage(request, h, found.problem, found.invitation, found.language)
            : found.held !== undefined
              ? makeCurrent(request, h.redirect('/entry'), found.held)
              : browser.ok
                ? linkPage(request, h, found.invitation, value)
                : browserPage(request, h, browser.browser, found.invitation, value);
          return page.state(languageCookie, chosen);
        }
        if (name.trim() === '') {
          const found = await service.lookup(value, sessionsIn(request));
          if (!found.ok) return problemPage(request, h, found.problem, found.invitation, found.language);
          return linkPage(
            request,
            h,
            found.invitation,
            value,
            (lang) => ({ error: t(lang, 'entry.link.nameMissing') }),
            400,
          );
        }
        const result = await service.enter(value, name, sessionsIn(request));
        if (!result.ok) {
          const invitation = result.invitation && (await service.withUnit(result.invitation));
          if (result.problem === 'mismatch') {
            return linkPage(
              request,
              h,
              invitation!,
              value,
              (lang) => ({ error: t(lang, 'entry.link.mismatch', { tries: result.triesLeft }), typed: name }),
              400,
            );
          }
          return problemPage(request, h, result.problem, invitation, result.language);
        }
        const { participant, person } = result.invitation;
        // Entering by name identifies a guest invited without identification; others go on to theirs.
        const identified = participant.identification === 'none';
        const next = !result.fresh
          ? '/entry'
          : await nextStep(
              request,
              { participantId: participant.id, person },
              participant.identification,
              identified,
              clock.isEnded(result.invitation),
            );
        // The tech test, the usual next step, is the answer itself: a redirect would cost a round trip.
        speakBookedLanguage(request, participant.language);
        const response = next === testMount.path ? techTestPage(request, h, testMount) : h.redirect(next);
        return makeCurrent(request, response, result.session);
      },
    }),
    route({
      method: 'GET',
      path: '/entry',
      options: { auth: guest },
      async handler(request, h) {
        const found = await current(request, h);
        if ('ended' in found) return found.ended;
        const { invitation, state } = found;
        return h.redirect(
          await nextStep(
            request,
            request.auth.credentials.guest!,
            invitation.participant.identification,
            Boolean(state.identifiedAt),
            clock.isEnded(invitation),
          ),
        );
      },
    }),
    route({
      method: 'GET',
      path: '/entry/code',
      options: { auth: guest, validate: { query: objectOf<{ sent?: boolean }>({ sent: Joi.boolean() }) } },
      async handler(request, h) {
        const found = await current(request, h);
        if ('ended' in found) return found.ended;
        const { invitation, state } = found;
        if (state.identifiedAt || invitation.participant.identification !== 'sms') return h.redirect('/entry');
        const lang = languageOf(request);
        // The first visit sends the first code: the person has just typed their name.
        const sending = state.codesSent === 0 ? await service.sendCode(invitation) : undefined;
        return codePage(request, h, invitation, lang, sending?.sent ? { notice: t(lang, 'entry.code.sentFirst') } : {});
      },
    }),
    route({
      method: 'POST',
      path: '/entry/code',
      options: {
        auth: guest,
        pre: [{ method: perGuest('entry-code', 20) }],
        validate: {
          payload: objectOf<{ code: string }>({ code: Joi.string().max(20).allow('').required() }),
          failAction: (_r, h) => h.redirect('/entry/code').takeover(),
        },
      },
      async handler(request, h) {
        const found = await current(request, h);
        if ('ended' in found) return found.ended;
        const lang = languageOf(request);
        // Identified already, in another tab or before going back: the code page is behind them.
        if (found.state.identifiedAt) return h.redirect('/entry');
        const { outcome, triesLeft } = await service.checkCode(found.invitation, request.payload.code);
        if (outcome === 'identified') return h.redirect('/entry');
        if (outcome === 'ok') {
          const next = await nextStep(
            request,
            request.auth.credentials.guest!,
            found.invitation.participant.identification,
            true,
            clock.isEnded(found.invitation),
          );
          return next === testMount.path ? techTestPage(request, h, testMount) : h.redirect(next);
        }
        const text = t(lang, `entry.code.${outcome}`, { tries: triesLeft });
        return codePage(request, h, found.invitation, lang, { error: text }, 400);
      },
    }),
    route({
      method: 'POST',
      path: '/entry/code/resend',
      options: { auth: guest, pre: [{ method: perGuest('entry-code-resend', 10) }] },
      async handler(request, h) {
        const found = await current(request, h);
        if ('ended' in found) return found.ended;
        const lang = languageOf(request);
        const sending = await service.sendCode(found.invitation);
        return codePage(
          request,
          h,
          found.invitation,
          lang,
          sending.sent ? { notice: t(lang, 'entry.code.sent') } : { error: t(lang, 'entry.code.notYet') },
          sending.sent ? 200 : 429,
        );
      },
    }),
    ...identifyRoutes({ current, base, layout: guestPage, rateLimit: [{ method: perGuest('entry-identify', 20) }] }),
    ...techTestRoutes(testMount),
    route({
      method: 'GET',
      path: '/entry/waiting',
      options: {
        auth: guest,
        pre: [{ method: identified(true), assign: 'entry' }],
        // `moved`: the page reloaded because the meeting was given a new time (entry.ts).
        validate: { query: objectOf<{ moved?: boolean }>({ moved: Joi.boolean() }) },
      },
      async handler(request, h) {
        const { invitation } = request.pre.entry as { invitation: Invitation };
        const lang = languageOf(request);
        if (clock.isEnded(invitation)) {
          return h.view(
            'entry/waiting',
            { ...base(request, invitation, t(lang, 'entry.ended.title')), ended: true },
            guestPage,
          );
        }
        const tested = await latestResult(request.server.app.db, participantSubject(request.auth.credentials.guest!));
        if (!tested) return h.redirect('/entry/test');
        const page = base(request, invitation, t(lang, 'entry.waiting.title'));
        const opensAt = clock.opensAt(invitation);
        const opens = formatWhen(opensAt, lang);
        return h.view(
          'entry/waiting',
          {
            ...page,
            startsAt: invitation.meeting.startsAt.toISOString(),
            opensAt: opensAt.toISOString(),
            // The opening time in words: a guest who tests days ahead reads when to come back, not
            // a countdown of 47 hours (the page counts down only the last hour, entry.ts).
            opens:
              opens.date === page.date
                ? t(lang, 'entry.waiting.closed', { time: opens.time })
                : t(lang, 'entry.waiting.closedOtherDay', opens),
            // The clinic calls back a person whose connection fails on the number in the booking:
            // only one with a number is told so.
            callable: invitation.mobile !== null,
            moved: request.query.moved === true,
            open: clock.isOpen(invitation),
            // A connection that failed says so first; a good or choppy one does not make the meeting
            // work on a device whose camera, microphone or sound did not.
            verdict:
              tested.verdict !== 'failed' && failedDevices(tested, lang)
                ? t(lang, 'entry.waiting.devices', { devices: failedDevices(tested, lang) })
                : t(lang, `entry.waiting.verdict.${tested.verdict}`),
          },
          guestPage,
        );
      },
    }),
    route({
      method: 'GET',
      path: '/entry/waiting/events',
      // `watch`: the meeting page listening for the end only (its person is not waiting).
      options: {
        auth: guest,
        pre: [{ method: identified(false), assign: 'entry' }],
        validate: { query: objectOf<{ watch?: boolean }>({ watch: Joi.boolean() }) },
      },
      handler(request, h) {
        const { invitation } = request.pre.entry as { invitation: Invitation };
        const bus = request.server.app.bus;
        if (!request.query.watch) service.markWaiting(invitation);
        let timer: NodeJS.Timeout | undefined;
        let unsubscribe = () => {};
        const { response, stream } = openEventStream(request, h, {
          onClose: () => {
            clearInterval(timer);
            unsubscribe();
          },
        });
        // What the bus says is newer than the meeting this stream started with.
        const tell = (now: { open?: boolean; ended?: boolean } = {}) => {
          const ended = now.ended ?? clock.isEnded(invitation);
          stream.send('room', {
            open: !ended && (now.open ?? clock.isOpen(invitation)),
            ended,
            opensAt: clock.opensAt(invitation).toISOString(),
          });
        };
        tell();
        // The room opens at its time, or earlier when staff open it (the rooms plugin says so).
        timer = setInterval(() => (clock.isOpen(invitation) ? (tell(), clearInterval(timer)) : undefined), 5_000);
        timer.unref();
        const offOpened = bus.follow('room.opened', ({ meetingId }) => {
          if (meetingId === invitation.meeting.id) tell({ open: true });
        });
        // Staff ended the meeting before this person got in: the page must not promise a room.
        const offEnded = bus.follow('room.ended', ({ meetingId }) => {
          if (meetingId === invitation.meeting.id) tell({ ended: true });
        });
        // Cancelled, this person taken off it, or moved: the page reloads into the page that says so
        // (or shows the new time). This stream knows the meeting as it started: without this it would
        // wait on and, at the old opening time, announce the room open.
        const changed = (news: { ended: boolean; cancelled?: boolean; moved?: boolean }) => {
          clearInterval(timer);
          stream.send('room', { open: false, ...news });
        };
        const offCancelled = bus.follow('meeting.cancelled', ({ meetingId }) => {
          if (meetingId === invitation.meeting.id) changed({ ended: true, cancelled: true });
        });
        const offRemoved = bus.follow('participant.removed', ({ participantId }) => {
          if (participantId === invitation.participant.id) changed({ ended: true, cancelled: true });
        });
        const offMoved = bus.follow('meeting.rescheduled', ({ meetingId }) => {
          if (meetingId === invitation.meeting.id) changed({ ended: false, moved: true });
        });
        unsubscribe = () => (offOpened(), offEnded(), offCancelled(), offRemoved(), offMoved());
        return response;
      },
    }),
  ];

  async function codePage(
    request: Request,
    h: ResponseToolkit,
    invitation: Invitation,
    lang: Language,
    extra: Record<string, unknown>,
    code = 200,
  ) {
    const status = await service.codeStatus(invitation);
    return h
      .view(
        'entry/code',
        {
          ...base(request, invitation, t(lang, 'entry.code.title')),
          ...extra,
          mobileEnd: invitation.mobile?.slice(-2),
          waitSeconds: status.waitSeconds,
          sendsLeft: status.sendsLeft,
          minutes: limits.codeMinutes,
        },
        guestPage,
      )
      .code(code);
  }
}

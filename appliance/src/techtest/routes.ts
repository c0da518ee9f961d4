// The tech-test page and the small API it calls. Built around a subject resolved from the request,
// so that the same page serves staff (mounted here, under their session) and participants (mounted
// by the entry path after the name check, under its own authentication). Each route reads as a
// pipeline: whose test (pre) → rate limit per subject (pre) → validation → a short handler.
import { randomBytes } from 'node:crypto';
import type { Request, ResponseToolkit, RouteOptions, RouteOptionsPreArray, ServerRoute } from '@hapi/hapi';
import { languageOf, stringKeys, t, type Language } from '../http/i18n.ts';
import { localRateLimit, rateLimit, type Limit } from '../http/ratelimit.ts';
import { route as typedRoute } from '../http/route.ts';
import type { Subject } from './model.ts';
import { downloadQuery, nextQuery, resultMaxBytes, resultPayload, transferMaxBytes } from './schemas.ts';
import { recordResult, staffSessionSubject } from './service.ts';
import { turnCredentials, turnTtlSeconds } from './turn.ts';
import { headerText } from '../http/headers.ts';

export interface TechTestMount {
  /** Where the page lives; its API sits beneath: <path>/ice, /results, /download, /upload. */
  path: string;
  auth: RouteOptions['auth'];
  /** Whose test this is, from the authenticated request (throw a Boom to refuse). */
  subject: (request: Request) => Subject | Promise<Subject>;
  /** Where the page leads once the test is done (the waiting room, for a participant). */
  next: (request: Request) => string;
}

const noStore = 'no-store';

/** A test run fetches about six samples; a handful of re-runs fit, a download loop does not. */
const transferLimit: Limit = { points: 120, durationSeconds: 10 * 60 };
const resultLimit: Limit = { points: 30, durationSeconds: 10 * 60 };

/** Leaves every {placeholder} in place: the page's script fills them itself. */
const keepPlaceholders = new Proxy({}, { get: (_, name) => `{${String(name)}}` });

/** The UI strings the page's script needs, by language: made once (they never change while the appliance runs). */
const clientStringsByLanguage = new Map<Language, Record<string, string>>();

/** The UI strings the page's script needs, in the request's language. */
function clientStrings(request: Request): Record<string, string> {
  const lang = languageOf(request);
  let strings = clientStringsByLanguage.get(lang);
  if (!strings) {
    strings = Object.fromEntries(
      stringKeys(lang)
        .filter((k) => k.startsWith('techtest.'))
        .map((k) => [k, t(lang, k, keepPlaceholders)]),
    );
    clientStringsByLanguage.set(lang, strings);
  }
  return strings;
}

const subjectOf = (request: Request): Subject => request.pre.subject as Subject;

/** What the page's connection check needs to reach the TURN server: fresh credentials, or that there is none. */
function iceReply(request: Request) {
  const turn = request.server.app.config.turn;
  if (!turn) return { relay: false as const };
  const { iceServers, expiresAt } = turnCredentials(turn);
  return { relay: true as const, iceServers, expiresAt: expiresAt.toISOString(), validForSeconds: turnTtlSeconds };
}

/**
 * The test page of `mount`. Besides its own GET, the step before it may answer with it directly
 * (the guest's name POST): on a mobile line a redirect costs a round trip. `here` is the address
 * the page stands for; its script puts that in the address bar, so a reload asks for the page
 * itself and never sends the form again.
 */
export function techTestPage(request: Request, h: ResponseToolkit, mount: TechTestMount, here = mount.path) {
  const lang = languageOf(request);
  return (
    h
      .view(
        'techtest',
        {
          title: t(lang, 'techtest.title'),
          base: mount.path,
          next: mount.next(request),
          relay: Boolean(request.server.app.config.turn),
          // The credentials come with the page: the check starts without asking for them (a round trip).
          ice: iceReply(request),
          here,
          langNext: encodeURIComponent(here),
          strings: clientStrings(request),
          styles: ['guest.css'],
          scripts: ['techtest.js'],
        },
        { layout: 'guest' },
      )
      // Fresh TURN credentials inside, and whatever address it answers (a POST too): never kept.
      .header('cache-control', noStore)
  );
}

export function techTestRoutes(mount: TechTestMount): ServerRoute[] {
  const base = mount.path;
  // Limits count per subject, not per address: a hospital's staff all come through one proxy.
  const perSubject = (request: Request) => `${subjectOf(request).type}:${subjectOf(request).id}`;
  const whose = { method: (request: Request) => mount.subject(request), assign: 'subject' };
  const limited = (name: string, limit: Limit): RouteOptionsPreArray => [
    whose,
    { method: rateLimit(`techtest-${name}${base}`, limit, perSubject) },
  ];
  // The line estimate's samples guess at nothing: they are counted in this process (one limit for
  // download and upload), so that no sample waits for a database commit the line has no part in.
  const transfers: RouteOptionsPreArray = [
    whose,
    { method: localRateLimit(`techtest-transfer${base}`, transferLimit, perSubject) },
  ];
  // Generic, so that the options keep their schemas' types for the handler (http/route.ts).
  const route = <O extends RouteOptions>(options: O) => ({ auth: mount.auth, pre: [whose], ...options });
  // Writes with the session cookie are CSRF-checked by header, like the REST API.
  const csrf = { crumb: { restful: true } };

  return [
    typedRoute({
      method: 'GET',
      path: base,
      options: route({ validate: { query: nextQuery } }),
      handler: (request, h) => techTestPage(request, h, mount, `${request.path}${request.url.search}`),
    }),
    typedRoute({
      method: 'GET',
      path: `${base}/ice`,
      options: route({}),
      // Fresh credentials for a page that stood open longer than those it came with.
      handler: (request, h) => h.response(iceReply(request)).header('cache-control', noStore),
    }),
    typedRoute({
      method: 'POST',
      path: `${base}/results`,
      options: route({
        plugins: csrf,
        pre: limited('result', resultLimit),
        payload: { maxBytes: resultMaxBytes, allow: 'application/json' },
        validate: { payload: resultPayload },
      }),
      async handler(request, h) {
        const { db, bus } = request.server.app;
        const answers = request.payload;
        const result = await recordResult({ db, bus }, subjectOf(request), answers, headerText(request, 'user-agent'));
        return h
          .response({ id: result.id, verdict: result.verdict, testedAt: result.testedAt.toISOString() })
          .code(201);
      },
    }),
    typedRoute({
      method: 'GET',
      path: `${base}/download`,
      options: route({ pre: transfers, validate: { query: downloadQuery } }),
      handler(request, h) {
        const { bytes } = request.query;
        // Random bytes: nothing on the way (gzip, a proxy) can make the sample smaller than it is.
        return h.response(randomBytes(bytes)).type('application/octet-stream').header('cache-control', noStore);
      },
    }),
    typedRoute({
      method: 'POST',
      path: `${base}/upload`,
      options: route({
        plugins: csrf,
        pre: transfers,
        payload: { maxBytes: transferMaxBytes, output: 'data', parse: false, allow: 'application/octet-stream' },
      }),
      handler(request, h) {
        // Unparsed (parse: false): the body as a Buffer, none when it was empty.
        const bytes = Buffer.isBuffer(request.payload) ? request.payload.length : 0;
        return h.response({ bytes }).header('cache-control', noStore);
      },
    }),
  ];
}

/** Staff test themselves at any time; the result belongs to their login session. */
export const staffRoutes = techTestRoutes({
  path: '/techtest',
  auth: { strategy: 'session' },
  subject: (request) => staffSessionSubject(request.auth.credentials.sessionKey!),
  // The page's query is validated (nextQuery): `next` is a path on this site when given.
  next: (request) => (typeof request.query.next === 'string' ? request.query.next : '/'),
});

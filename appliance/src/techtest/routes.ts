// The tech-test page and the small API it calls. Built around a subject resolved from the request,
// so that the same page serves staff (mounted here, under their session) and participants (mounted
// by the entry path after the name check, under its own authentication).
import { randomBytes } from 'node:crypto';
import type { Request, RouteOptions, ServerRoute } from '@hapi/hapi';
import { languageOf, stringKeys, t } from '../http/i18n.ts';
import { rateLimit } from '../http/ratelimit.ts';
import type { Subject, TechTestAnswers } from './model.ts';
import { downloadQuery, nextQuery, resultMaxBytes, resultPayload, transferMaxBytes } from './schemas.ts';
import { recordResult, staffSessionSubject } from './service.ts';
import { turnCredentials } from './turn.ts';

export interface TechTestMount {
  /** Where the page lives; its API sits beneath: <path>/ice, /results, /download, /upload. */
  path: string;
  auth: RouteOptions['auth'];
  /** Whose test this is, from the authenticated request. */
  subject: (request: Request) => Subject | Promise<Subject>;
  /** Where the page leads once the test is done (the waiting room, for a participant). */
  next: (request: Request) => string;
}

const noStore = 'no-store';

/** Leaves every {placeholder} in place: the page's script fills them itself. */
const keepPlaceholders = new Proxy({}, { get: (_, name) => `{${String(name)}}` });

/** The UI strings the page's script needs, in the request's language. */
function clientStrings(request: Request): Record<string, string> {
  const lang = languageOf(request);
  return Object.fromEntries(stringKeys(lang).filter((k) => k.startsWith('techtest.')).map((k) => [k, t(lang, k, keepPlaceholders)]));
}

export function techTestRoutes(mount: TechTestMount): ServerRoute[] {
  const base = mount.path;
  // One limiter per mount: staff and participants do not share a budget.
  const transferLimit = rateLimit(`techtest-transfer${base}`, { points: 120, durationSeconds: 10 * 60 });
  const resultLimit = rateLimit(`techtest-result${base}`, { points: 60, durationSeconds: 10 * 60 });
  const api = (options: RouteOptions): RouteOptions => ({ auth: mount.auth, ...options });
  // Writes with the session cookie are CSRF-checked by header, like the REST API.
  const csrf = { crumb: { restful: true } };

  return [
    {
      method: 'GET',
      path: base,
      options: api({ validate: { query: nextQuery } }),
      async handler(request, h) {
        await mount.subject(request);
        const lang = languageOf(request);
        return h.view(
          'techtest',
          {
            title: t(lang, 'techtest.title'),
            base,
            next: mount.next(request),
            relay: Boolean(request.server.app.config.turn),
            here: `${request.path}${request.url.search}`,
            strings: clientStrings(request),
            styles: ['guest.css'],
            scripts: ['techtest.js'],
          },
          { layout: 'guest' },
        );
      },
    },
    {
      method: 'GET',
      path: `${base}/ice`,
      options: api({}),
      async handler(request, h) {
        await mount.subject(request);
        const turn = request.server.app.config.turn;
        if (!turn) return h.response({ relay: false }).header('cache-control', noStore);
        const { iceServers, expiresAt } = turnCredentials(turn);
        return h.response({ relay: true, iceServers, expiresAt: expiresAt.toISOString() }).header('cache-control', noStore);
      },
    },
    {
      method: 'POST',
      path: `${base}/results`,
      options: api({
        plugins: csrf,
        pre: [{ method: resultLimit }],
        payload: { maxBytes: resultMaxBytes, allow: 'application/json' },
        validate: { payload: resultPayload },
      }),
      async handler(request, h) {
        const { db, bus } = request.server.app;
        const subject = await mount.subject(request);
        const result = await recordResult({ db, bus }, subject, request.payload as TechTestAnswers, request.headers['user-agent'] as string | undefined);
        return h.response({ id: result.id, verdict: result.verdict, testedAt: result.testedAt.toISOString() }).code(201);
      },
    },
    {
      method: 'GET',
      path: `${base}/download`,
      options: api({ pre: [{ method: transferLimit }], validate: { query: downloadQuery } }),
      async handler(request, h) {
        await mount.subject(request);
        const { bytes } = request.query as { bytes: number };
        // Random bytes: nothing on the way (gzip, a proxy) can make the sample smaller than it is.
        return h.response(randomBytes(bytes)).type('application/octet-stream').header('cache-control', noStore);
      },
    },
    {
      method: 'POST',
      path: `${base}/upload`,
      options: api({
        plugins: csrf,
        pre: [{ method: transferLimit }],
        payload: { maxBytes: transferMaxBytes, output: 'data', parse: false, allow: 'application/octet-stream' },
      }),
      async handler(request, h) {
        await mount.subject(request);
        const payload = request.payload as Buffer | null;
        return h.response({ bytes: payload?.length ?? 0 }).header('cache-control', noStore);
      },
    },
  ];
}

/** Staff test themselves at any time; the result belongs to their login session. */
export const staffRoutes = techTestRoutes({
  path: '/techtest',
  auth: { strategy: 'session' },
  subject: (request) => staffSessionSubject(request.auth.credentials.sessionId!),
  next: (request) => (request.query as { next?: string }).next ?? '/',
});

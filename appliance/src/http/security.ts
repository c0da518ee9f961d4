// Security headers on every response. Pages load nothing from other origins; routes that must
// relax this (the API docs page, later the meeting page framing Jitsi) set plugins.csp on the route.
import type { Request, ResponseToolkit, Server } from '@hapi/hapi';
import Boom from '@hapi/boom';
import { inlineHashes } from './inline.ts';

declare module '@hapi/hapi' {
  interface PluginSpecificConfiguration {
    /** Replaces the default Content-Security-Policy for this route. */
    csp?: string;
  }
}

export const defaultCsp = [
  "default-src 'self'",
  "img-src 'self' data:",
  // Guest pages inline their small styles and scripts (http/inline.ts): those texts, and no others.
  ["style-src 'self'", ...inlineHashes('css')].join(' '),
  ["script-src 'self'", ...inlineHashes('js')].join(' '),
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

/**
 * The headers every answer carries even when hapi replaces a response that failed to be written
 * (a header Node refuses, say) with a bare 500 built after onPreResponse: set on the raw response
 * just before its head goes out, unless the response set them itself.
 */
function lastResortHeaders(request: Request, h: ResponseToolkit) {
  const res = request.raw.res;
  // Called below with `this` as Node passes it, so the wrapper stays transparent.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const writeHead = res.writeHead;
  const fallback: [string, string][] = [
    ['x-request-id', request.info.id],
    ['content-security-policy', defaultCsp],
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['cache-control', 'no-store'],
  ];
  res.writeHead = function (this: typeof res, ...args: unknown[]) {
    if (!res.headersSent) {
      for (const [name, value] of fallback) if (!res.hasHeader(name)) res.setHeader(name, value);
    }
    return (writeHead as (...a: unknown[]) => typeof res).apply(this, args);
  };
  return h.continue;
}

export function registerSecurityHeaders(server: Server): void {
  server.ext('onRequest', lastResortHeaders);
  server.ext('onPreResponse', (request: Request, h: ResponseToolkit) => {
    const response = request.response;
    const csp = request.route.settings.plugins?.csp ?? defaultCsp;
    if (Boom.isBoom(response)) {
      response.output.headers['content-security-policy'] = csp;
    } else {
      response.header('content-security-policy', csp);
    }
    return h.continue;
  });
}

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

export function registerSecurityHeaders(server: Server): void {
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

// JSON logs through hapi-pino. Secrets never reach a line: authorization headers, cookies and any
// token, code or password in a URL are redacted, and /j/<token> guest links (and /e/<token>
// evaluation links) are cut off.
import type { Request, Server } from '@hapi/hapi';
import hapiPino from 'hapi-pino';

const secretParams = /([?&](?:token|code|password|crumb|state|nonce)=)[^&#]*/gi;
// /j/<token> guest links and /e/<token> evaluation links.
const guestLinkToken = /(\/[je]\/)[^/?#]+/g;

export function redactUrl(url: string): string {
  return url.replace(guestLinkToken, '$1[redacted]').replace(secretParams, '$1[redacted]');
}

export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'payload.password',
  'payload.token',
  'payload.code',
];

export async function registerLogging(server: Server, level: string, stream?: NodeJS.WritableStream): Promise<void> {
  await server.register({
    plugin: hapiPino,
    options: <hapiPino.Options>{
      level,
      stream,
      redact: { paths: redactPaths, censor: '[redacted]' },
      // Health probes every few seconds would drown the log.
      ignorePaths: ['/health/live', '/health/ready', '/metrics'],
      logRequestStart: false,
      customRequestCompleteMessage: (request: Request, responseTime: number) =>
        `[response] ${request.method} ${redactUrl(request.path)} ${request.raw.res.statusCode} (${responseTime}ms)`,
      logPayload: false,
      // The client behind the proxy (TRUSTED_PROXIES), beside the peer the socket saw.
      getChildBindings: (request: Request) => ({ req: request, client: request.clientAddress }),
      serializers: {
        req: (req: {
          method: string;
          url: string;
          headers: Record<string, unknown>;
          remoteAddress?: string;
          id?: string;
        }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
          remoteAddress: req.remoteAddress,
          userAgent: req.headers?.['user-agent'],
        }),
      },
    },
  });
}

// Rate limits for endpoints that guess at secrets (login, and later links, codes and events).
// In-memory per process, from rate-limiter-flexible; a limit hit is a 429 with Retry-After.
import Boom from '@hapi/boom';
import type { Lifecycle, Request } from '@hapi/hapi';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface Limit {
  points: number;
  durationSeconds: number;
}

export function rateLimit(name: string, limit: Limit, key: (request: Request) => string = (r) => r.info.remoteAddress): Lifecycle.Method {
  const limiter = new RateLimiterMemory({ keyPrefix: name, points: limit.points, duration: limit.durationSeconds });
  return async (request, h) => {
    try {
      await limiter.consume(key(request));
      return h.continue;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const error = Boom.tooManyRequests('Too many attempts: wait a while and try again');
      error.output.headers['retry-after'] = String(Math.ceil(res.msBeforeNext / 1000));
      throw error;
    }
  };
}

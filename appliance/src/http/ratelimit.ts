// Rate limits for endpoints that guess at secrets (login, links, codes) or send messages. Counted
// in the database (db/counters.ts), so that they hold under parallel requests and across processes
// (group-committed, db/group-commit.ts);
// a limit hit is a 429 with Retry-After. Keys default to the client's address (TRUSTED_PROXIES),
// an IPv6 client's /64 (attemptSource).
import Boom from '@hapi/boom';
import type { Lifecycle, Request } from '@hapi/hapi';
import type * as Flexible from 'rate-limiter-flexible';
import type { Knex } from 'knex';
import { countAttempt, refundAttempt as refund } from '../db/counters.ts';
import { attemptSource } from './client-address.ts';

export interface Limit {
  points: number;
  durationSeconds: number;
}

export function tooManyRequests(
  retryAfterSeconds: number,
  message = 'Too many attempts: wait a while and try again',
): Boom.Boom {
  const error = Boom.tooManyRequests(message);
  error.output.headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  return error;
}

const byAddress = (r: Request) => attemptSource(r.clientAddress);

export function rateLimit(name: string, limit: Limit, key: (request: Request) => string = byAddress): Lifecycle.Method {
  return async (request, h) => {
    const now = new Date();
    // Counted in a group commit with other requests' records (db/group-commit.ts): the count is
    // taken in one statement inside the shared transaction, so a burst still numbers 1…n, and the
    // request goes on only once its attempt is durable.
    const counter = `${name}:${key(request)}`;
    const attempt = await request.server.app.groupCommit.write((trx) =>
      countAttempt(trx, counter, limit.durationSeconds, now),
    );
    if (attempt.hits <= limit.points) return h.continue;
    throw tooManyRequests((attempt.resetsAt.getTime() - now.getTime()) / 1000);
  };
}

/**
 * Gives the request's attempt back to `name`'s limit, in the caller's transaction: for a limit on
 * guesses, an attempt that proved not to be one (a login that succeeded) does not count. Every
 * attempt is counted first, so a burst of guesses is held to the limit all the same.
 */
export function refundAttempt(
  trx: Knex,
  name: string,
  request: Request,
  key: (request: Request) => string = byAddress,
): Promise<void> {
  return refund(trx, `${name}:${key(request)}`);
}

/**
 * The same limit kept in this process only: for floods that guess at nothing (a broken page's
 * event loop), where a database write per request would cost more than the flood.
 */
// rate-limiter-flexible loads every store it supports (Redis, Mongo, MySQL, …) with it: it waits
// for the first request that needs it rather than slow every start.
let flexible: Promise<typeof Flexible> | undefined;

export function localRateLimit(name: string, limit: Limit, key: (request: Request) => string): Lifecycle.Method {
  let limiter: Flexible.RateLimiterMemory | undefined;
  return async (request, h) => {
    const { RateLimiterMemory, RateLimiterRes } = await (flexible ??= import('rate-limiter-flexible'));
    limiter ??= new RateLimiterMemory({ keyPrefix: name, points: limit.points, duration: limit.durationSeconds });
    try {
      await limiter.consume(key(request));
      return h.continue;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      throw tooManyRequests(res.msBeforeNext / 1000);
    }
  };
}

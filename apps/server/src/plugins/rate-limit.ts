import { AtriumError } from '@atrium/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitConfig } from '../config.ts';
import type { Metrics } from './metrics.ts';

export type LimitScope = 'ip' | 'auth' | 'tenant' | 'api_key';

/**
 * Fixed one-minute windows per scope and key. With Redis every API process shares the counts; without it each
 * process counts alone (embedded mode). A Redis outage falls back to in-process counting instead of failing.
 */
export class RateLimits {
  private readonly limiters: Record<LimitScope, RateLimiterAbstract>;
  private readonly points: Record<LimitScope, number>;
  private readonly refused;

  constructor(config: RateLimitConfig, metrics: Metrics, redis: Redis | null) {
    this.points = {
      ip: config.ipPerMinute,
      auth: config.authPerMinute,
      tenant: config.tenantPerMinute,
      api_key: config.apiKeyPerMinute,
    };
    const make = (scope: LimitScope): RateLimiterAbstract => {
      const options = { points: this.points[scope], duration: 60, keyPrefix: `atrium:rl:${scope}` };
      if (!redis) return new RateLimiterMemory(options);
      return new RateLimiterRedis({
        ...options,
        storeClient: redis,
        useRedisPackage: false,
        insuranceLimiter: new RateLimiterMemory(options),
      });
    };
    this.limiters = { ip: make('ip'), auth: make('auth'), tenant: make('tenant'), api_key: make('api_key') };
    this.refused = metrics.counter('atrium_rate_limited_total');
  }

  /** Counts one request; sets RateLimit-* headers; throws a 429 problem when the window is used up. */
  async consume(request: FastifyRequest, reply: FastifyReply, scope: LimitScope, key: string) {
    let result: RateLimiterRes;
    try {
      result = await this.limiters[scope].consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      this.setHeaders(reply, scope, 0, retryAfter);
      reply.header('retry-after', String(retryAfter));
      this.refused.inc({ scope });
      request.log.info({ scope }, 'rate limited');
      throw new AtriumError('rate_limited', `too many requests; retry in ${retryAfter} s`);
    }
    this.setHeaders(reply, scope, result.remainingPoints, Math.ceil(result.msBeforeNext / 1000));
  }

  private setHeaders(reply: FastifyReply, scope: LimitScope, remaining: number, resetSeconds: number) {
    reply.header('ratelimit-limit', String(this.points[scope]));
    reply.header('ratelimit-remaining', String(Math.max(0, remaining)));
    reply.header('ratelimit-reset', String(resetSeconds));
  }
}

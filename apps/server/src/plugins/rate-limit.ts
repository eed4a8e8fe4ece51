import { AtriumError, type RedisClient } from '@atrium/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitConfig } from '../config.ts';
import type { Metrics } from './metrics.ts';
import { SharedWindowCounter } from './shared-window-counter.ts';

export type LimitScope = 'ip' | 'auth' | 'tenant' | 'api_key';

/**
 * Fixed one-minute windows per scope and key. With Redis every API process shares the counts: exactly for
 * per-IP limits, in the background for per-organization and per-key limits (SharedWindowCounter). Without Redis
 * each process counts alone (embedded mode). A Redis outage falls back to in-process counting.
 */
export class RateLimits {
  private readonly limiters: Partial<Record<LimitScope, RateLimiterAbstract>> = {};
  private readonly shared: Partial<Record<LimitScope, SharedWindowCounter>> = {};
  private readonly points: Record<LimitScope, number>;
  private readonly refused;

  constructor(config: RateLimitConfig, metrics: Metrics, redis: RedisClient | null, redisKeyPrefix = 'atrium:') {
    this.points = {
      ip: config.ipPerMinute,
      auth: config.authPerMinute,
      tenant: config.tenantPerMinute,
      api_key: config.apiKeyPerMinute,
    };
    for (const scope of ['ip', 'auth', 'tenant', 'api_key'] as const) {
      const keyPrefix = `${redisKeyPrefix}rl:${scope}`;
      const options = { points: this.points[scope], duration: 60, keyPrefix };
      if (!redis) {
        this.limiters[scope] = new RateLimiterMemory(options);
      } else if (scope === 'tenant' || scope === 'api_key') {
        // Authenticated traffic is the hot path: counted locally, shared through Redis in the background.
        this.shared[scope] = new SharedWindowCounter(redis, `${keyPrefix}:`, this.points[scope]);
      } else {
        this.limiters[scope] = new RateLimiterRedis({
          ...options,
          storeClient: redis,
          useRedisPackage: false,
          insuranceLimiter: new RateLimiterMemory(options),
        });
      }
    }
    this.refused = metrics.counter('atrium_rate_limited_total');
  }

  close() {
    for (const counter of Object.values(this.shared)) counter.stop();
  }

  /**
   * Counts one request; sets RateLimit-* headers; throws a 429 problem when the window is used up. A count the
   * SharedWindowCounter decides in process (per organization and per key, with Redis) returns nothing and throws
   * synchronously; the others return the promise of the limiter's decision.
   */
  consume(request: FastifyRequest, reply: FastifyReply, scope: LimitScope, key: string): Promise<void> | undefined {
    const shared = this.shared[scope];
    if (!shared) return this.consumeLimiter(request, reply, scope, key);
    const decision = shared.consume(key);
    if (!decision.allowed) this.refuse(request, reply, scope, decision.msBeforeNext);
    this.setHeaders(reply, scope, decision.remaining, Math.ceil(decision.msBeforeNext / 1000));
    return undefined;
  }

  private async consumeLimiter(request: FastifyRequest, reply: FastifyReply, scope: LimitScope, key: string) {
    let result: RateLimiterRes;
    try {
      result = await (this.limiters[scope] as RateLimiterAbstract).consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.refuse(request, reply, scope, rejection.msBeforeNext);
    }
    this.setHeaders(reply, scope, result.remainingPoints, Math.ceil(result.msBeforeNext / 1000));
  }

  private refuse(request: FastifyRequest, reply: FastifyReply, scope: LimitScope, msBeforeNext: number): never {
    const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
    this.setHeaders(reply, scope, 0, retryAfter);
    reply.header('retry-after', String(retryAfter));
    this.refused.inc({ scope });
    request.log.info({ scope }, 'rate limited');
    throw new AtriumError('rate_limited', `too many requests; retry in ${retryAfter} s`);
  }

  private setHeaders(reply: FastifyReply, scope: LimitScope, remaining: number, resetSeconds: number) {
    reply.header('ratelimit-limit', String(this.points[scope]));
    reply.header('ratelimit-remaining', String(Math.max(0, remaining)));
    reply.header('ratelimit-reset', String(resetSeconds));
  }
}

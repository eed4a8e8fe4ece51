import type { RedisClient } from '@atrium/core';
import { Cluster, Redis } from 'ioredis';
import type { Config } from './config.ts';

/**
 * What every command gets: two retries after a lost connection, and one second in all (`commandTimeout`), sent or
 * still queued for a connection that is not back. A request then answers 503 (or, for a rate limit, counts in
 * process) after at most a second; ioredis alone holds a command for three reconnection attempts, 5 s and more once
 * Redis has been away for a minute.
 */
const perCommand = { maxRetriesPerRequest: 2, commandTimeout: 1000 };

/**
 * Atrium's connection to Redis (REDIS_URL), the same for the API, the worker and `atrium licenses reconcile`:
 * one server, or with ATRIUM_REDIS_CLUSTER=true a Redis Cluster reached through the seed nodes REDIS_URL lists.
 * Null without REDIS_URL (embedded mode).
 *
 * No auto-pipelining: the seat stores already send a turn's calls of one license as one script call
 * (TurnBatcher), and ioredis keeps one auto-pipeline in flight at a time, so a call made while one is out waits for
 * its reply. Off, acquires at half load spent 140 against 187 us of CPU each, p99 10 against 23 ms; heartbeats of
 * 50 licenses 60 against 72 us (bench/README.md, 2026-12-03).
 */
export function connectRedis(config: Pick<Config, 'redisUrl' | 'redisCluster'>): RedisClient | null {
  if (!config.redisUrl) return null;
  if (!config.redisCluster) {
    return new Redis(config.redisUrl, { ...perCommand, enableAutoPipelining: false });
  }
  const seeds = config.redisUrl.split(',').map((seed) => new URL(seed));
  const first = seeds[0] as URL;
  return new Cluster(
    seeds.map((seed) => ({ host: seed.hostname, port: Number(seed.port || 6379) })),
    {
      enableAutoPipelining: false,
      // Every node takes the first seed's credentials and, for rediss:, TLS.
      redisOptions: {
        username: decodeURIComponent(first.username) || undefined,
        password: decodeURIComponent(first.password) || undefined,
        tls: first.protocol === 'rediss:' ? {} : undefined,
        ...perCommand,
      },
      // With TLS, a node's certificate names the host the cluster reports for it, so connect to that name as given
      // rather than to an address resolved here (what ioredis documents for ElastiCache and Memorystore).
      dnsLookup: (address, callback) => callback(null, address),
    },
  );
}

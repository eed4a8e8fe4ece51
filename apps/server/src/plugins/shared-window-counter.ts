import type { RedisClient } from '@atrium/core';
import { Cluster } from 'ioredis';

export interface WindowDecision {
  allowed: boolean;
  remaining: number;
  msBeforeNext: number;
}

interface Entry {
  window: number;
  /** The shared count Redis last reported for this key and window. */
  shared: number;
  /** Requests counted here and not yet sent to Redis. */
  pending: number;
}

/**
 * Fixed-window counting for high-volume limits (per organization, per API key), decided in-process and shared
 * through Redis in the background: each process sends its increments every `flushMs` (one INCRBY per key) and
 * learns the total. A request never waits for Redis, so an authenticated hot path pays no extra round trip; the
 * price is that all processes together may overshoot a limit by what they accept within one flush interval.
 * The strict per-IP limits keep using an exact Redis counter (rate-limiter-flexible).
 */
export class SharedWindowCounter {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;

  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly points: number;
  private readonly windowMs: number;
  private readonly flushMs: number;

  /** `windowMs` Default: 60000; `flushMs` Default: 200. */
  constructor(redis: RedisClient, prefix: string, points: number, windowMs = 60_000, flushMs = 200) {
    this.redis = redis;
    this.prefix = prefix;
    this.points = points;
    this.windowMs = windowMs;
    this.flushMs = flushMs;
  }

  consume(key: string): WindowDecision {
    const now = Date.now();
    const window = Math.floor(now / this.windowMs);
    let entry = this.entries.get(key);
    if (!entry || entry.window !== window) {
      entry = { window, shared: 0, pending: 0 };
      this.entries.set(key, entry);
    }
    const msBeforeNext = (window + 1) * this.windowMs - now;
    const used = entry.shared + entry.pending;
    if (used >= this.points) return { allowed: false, remaining: 0, msBeforeNext };
    entry.pending += 1;
    this.schedule();
    return { allowed: true, remaining: this.points - used - 1, msBeforeNext };
  }

  /**
   * Sends pending increments now (tests and shutdown). One pipeline for all keys on one Redis server; on a Redis
   * Cluster, whose pipelines must stay on one node, one per key (two commands of one key share its slot), sent
   * together.
   */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const batch = [...this.entries].filter(([, entry]) => entry.pending > 0);
      if (batch.length === 0) return;
      const groups = this.redis instanceof Cluster ? batch.map((item) => [item]) : [batch];
      await Promise.all(groups.map((group) => this.send(group)));
      this.dropOldWindows();
    } catch {
      // A client that cannot even build a pipeline (a cluster that never connected): the counts stay local.
    } finally {
      this.flushing = false;
    }
  }

  private async send(batch: Array<[string, Entry]>) {
    const pipeline = this.redis.pipeline();
    for (const [key, entry] of batch) {
      const redisKey = `${this.prefix}${key}:${entry.window}`;
      pipeline.incrby(redisKey, entry.pending);
      pipeline.pexpire(redisKey, this.windowMs * 2);
    }
    const sent = batch.map(([, entry]) => entry.pending);
    for (const [, entry] of batch) entry.pending = 0;
    // Redis unavailable: the pipeline fails as a whole, and every count stays local until it returns.
    const results = await pipeline.exec().catch(() => null);
    batch.forEach(([, entry], i) => {
      const [error, total] = results?.[i * 2] ?? [new Error('no reply'), null];
      // If Redis failed, keep counting what this process accepted so the local limit still holds.
      entry.shared = error ? entry.shared + (sent[i] ?? 0) : Number(total);
    });
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.flushMs);
    this.timer.unref();
  }

  private dropOldWindows() {
    const current = Math.floor(Date.now() / this.windowMs);
    for (const [key, entry] of this.entries)
      if (entry.window < current && entry.pending === 0) this.entries.delete(key);
  }
}

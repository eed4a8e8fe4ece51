import { randomBytes } from 'node:crypto';
import { newUuid } from '@atrium/contracts';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../../test/redis-servers.ts';
import { RedisSeatStore } from '../src/licensing/seat-store.redis.ts';
import { AtriumError } from '../src/shared/errors.ts';

/**
 * Redis at its memory limit (ADR 0105). The deployments run it with `volatile-lru`: only keys with a TTL (the
 * rate-limit counters) may be evicted, never a lease set, and when nothing that expires is left Redis refuses the
 * seat scripts, which the store answers as 503 service_unavailable. Document 000's `allkeys-lru` would evict lease
 * sets under the same pressure: the second case shows it, on a real server with a 4 MB limit each.
 */

const tenantId = newUuid();
const kilobyte = 'x'.repeat(1024);
let server: RedisServer | null = null;
let redis: Redis | null = null;
afterEach(async () => {
  redis?.disconnect();
  await server?.stop();
});

async function underPressure(policy: string) {
  server = await startRedisServer(['--maxmemory', '4mb', '--maxmemory-policy', policy]);
  const client = new Redis(server.url, { maxRetriesPerRequest: 0 });
  redis = client;
  // A license seen for the first time has no set yet: it starts from an empty journal here.
  const store = new RedisSeatStore(client, { loadOpenLeases: async () => ({ lifetimeMs: 60_000, leases: [] }) });
  const licenses = Array.from({ length: 20 }, () => newUuid());
  for (const licenseId of licenses) {
    const outcome = await store.acquire({
      tenantId,
      licenseId,
      sessionId: newUuid(),
      fingerprint: 'machine',
      metadata: {},
      maxSeats: 1,
      lifetimeMs: 60_000,
    });
    expect(outcome.kind).toBe('acquired');
  }
  const seatKeys = licenses.flatMap((id) => store.keys(id));
  const surviving = async () => (await client.exists(...seatKeys)) as number;
  return { client, store, licenses, seatKeys, surviving };
}

/** Writes 1 KB values until `count` are written or Redis refuses one (OOM); returns how many it wrote. */
async function fill(client: Redis, count: number, ttlMs: number | null): Promise<number> {
  const prefix = randomBytes(4).toString('hex');
  for (let i = 0; i < count; i++) {
    try {
      if (ttlMs === null) await client.set(`${prefix}:${i}`, kilobyte);
      else await client.set(`${prefix}:${i}`, kilobyte, 'PX', ttlMs);
    } catch (err) {
      if (String(err).includes('OOM')) return i;
      throw err;
    }
  }
  return count;
}

describe('the Redis seat store at the memory limit', () => {
  it('with volatile-lru: counters are evicted, lease sets never; when only those are left, a seat call is a 503', async () => {
    const { client, store, licenses, seatKeys, surviving } = await underPressure('volatile-lru');
    // 6 MB of expiring keys (what the rate limiters write) into 4 MB: Redis makes room by evicting them.
    expect(await fill(client, 6000, 60_000)).toBe(6000);
    expect(Number((await client.info('stats')).match(/evicted_keys:(\d+)/)?.[1])).toBeGreaterThan(0);
    expect(await surviving()).toBe(seatKeys.length);
    // 2 MB that does not expire (Redis evicts expiring keys to make room), then a limit below what is left:
    // nothing Redis may evict can bring it under, so it refuses every write.
    expect(await fill(client, 2000, null)).toBe(2000);
    await client.config('SET', 'maxmemory', '2mb');
    expect(await fill(client, 1, null)).toBe(0);
    expect(await surviving()).toBe(seatKeys.length);
    // A second seat on a license that now allows two: the script must write, and Redis refuses the write.
    const refused = await store
      .acquire({
        tenantId,
        licenseId: licenses[0] as string,
        sessionId: newUuid(),
        fingerprint: 'second',
        metadata: {},
        maxSeats: 2,
        lifetimeMs: 60_000,
      })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AtriumError);
    expect((refused as AtriumError).code).toBe('service_unavailable');
    expect(await client.zcard(store.keys(licenses[0] as string)[0])).toBe(1);
  });

  it('with allkeys-lru (document 000): the same pressure evicts keys of lease sets', async () => {
    const { client, seatKeys, surviving } = await underPressure('allkeys-lru');
    expect(await fill(client, 6000, null)).toBe(6000);
    expect(await surviving()).toBeLessThan(seatKeys.length);
  });
});

import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from '../../../test/redis-servers.ts';
import { SharedWindowCounter } from '../src/plugins/shared-window-counter.ts';

const redis = new Redis('redis://127.0.0.1:6379');
afterAll(() => redis.quit());

describe('SharedWindowCounter', () => {
  it('shares one limit between processes through Redis, without waiting for Redis per request', async () => {
    const prefix = `test:swc:${randomUUID()}:`;
    const first = new SharedWindowCounter(redis, prefix, 10);
    const second = new SharedWindowCounter(redis, prefix, 10);
    for (let i = 0; i < 6; i++) expect(first.consume('tenant').allowed).toBe(true);
    await first.flush();
    await second.flush();
    // The second process has seen nothing yet; after one exchange it knows the first used 6.
    for (let i = 0; i < 3; i++) expect(second.consume('tenant').allowed).toBe(true);
    await second.flush();
    await first.flush();
    expect(second.consume('tenant')).toMatchObject({ allowed: true, remaining: 0 });
    await second.flush();
    expect(second.consume('tenant').allowed).toBe(false);
    first.consume('tenant');
    await first.flush();
    expect(first.consume('tenant').allowed).toBe(false);
    expect(Number(await redis.get(`${prefix}tenant:${Math.floor(Date.now() / 60_000)}`))).toBe(11);
    first.stop();
    second.stop();
  });

  it('keeps counting locally when Redis is unreachable', async () => {
    const broken = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    broken.on('error', () => {});
    const counter = new SharedWindowCounter(broken, 'x:', 3);
    for (let i = 0; i < 3; i++) expect(counter.consume('k').allowed).toBe(true);
    await counter.flush();
    expect(counter.consume('k').allowed).toBe(false);
    counter.stop();
    broken.disconnect();
  });
});

describe('SharedWindowCounter on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
  });
  afterAll(async () => {
    client.disconnect();
    await cluster.stop();
  });

  it('shares the counts of keys that live on different nodes (a pipeline may not span them)', async () => {
    const prefix = `test:swc:${randomUUID()}:`;
    const keys = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
    const first = new SharedWindowCounter(client, prefix, 100);
    const second = new SharedWindowCounter(client, prefix, 100);
    keys.forEach((key, i) => {
      for (let n = 0; n <= i; n++) first.consume(key);
      second.consume(key);
    });
    await Promise.all([first.flush(), second.flush()]);
    const window = Math.floor(Date.now() / 60_000);
    const redisKeys = keys.map((key) => `${prefix}${key}:${window}`);
    // The keys are spread over the primaries, so one pipeline for all of them would be refused.
    const nodes = await Promise.all(redisKeys.map((key) => client.cluster('KEYSLOT', key)));
    const owners = new Set(nodes.map((slot) => client.slots[Number(slot)]?.[0]).filter((owner) => owner !== undefined));
    expect(owners.size).toBeGreaterThan(1);
    expect(await Promise.all(redisKeys.map((key) => client.get(key)))).toEqual(keys.map((_, i) => String(i + 2)));
    // Each process now knows the total the other one added.
    expect(second.consume('tenant-11').remaining).toBe(100 - 13 - 1);
    first.stop();
    second.stop();
    await Promise.all(redisKeys.map((key) => client.del(key)));
  });
});

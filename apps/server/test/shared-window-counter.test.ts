import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
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

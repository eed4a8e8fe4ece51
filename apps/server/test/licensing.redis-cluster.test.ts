import { randomBytes } from 'node:crypto';
import { fromPublicId, newUuid, toPublicId } from '@atrium/contracts';
import type { RedisClient } from '@atrium/core';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';
import { freePort, runCli } from '../../../test/processes.ts';
import { type RedisCluster, startRedisCluster } from '../../../test/redis-servers.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { connectRedis } from '../src/redis.ts';

/**
 * Scaled mode on a Redis Cluster (ATRIUM_REDIS_CLUSTER=true, DESIGN.md §2): a real three-node cluster, the API
 * in-process on the connection `connectRedis` opens from that configuration, and `atrium licenses reconcile` as an
 * operator runs it. Seats, both kinds of rate-limit counters and the rebuild after a node lost its data must all
 * work when the keys they touch live on different nodes.
 */

const prefix = `test:${randomBytes(4).toString('hex')}:`;
let cluster: RedisCluster;
let redis: RedisClient;
let t: TestApp;
let org: string;
let env: Record<string, string>;

beforeAll(async () => {
  cluster = await startRedisCluster();
  env = { REDIS_URL: cluster.url, ATRIUM_REDIS_CLUSTER: 'true', ATRIUM_REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const client = connectRedis(loadConfig(env));
  if (!client) throw new Error('no Redis connection');
  redis = client;
  t = await createTestApp(
    {
      journalFlushIntervalMs: 10,
      redisKeyPrefix: prefix,
      leaseReapIntervalMs: 600_000,
      rateLimits: { ipPerMinute: 100_000, authPerMinute: 4, tenantPerMinute: 1_000_000, apiKeyPerMinute: 1_000_000 },
    },
    { redis },
  );
  org = await createOrganization(t.app, 'Cluster');
});
afterAll(async () => {
  await t.close();
  redis.disconnect();
  await cluster.stop();
});

/** Every key under the test's prefix, read from each primary: which node holds what. */
async function keysByNode(pattern: string): Promise<Map<string, number>> {
  const holders = new Map<string, number>();
  for (const node of (redis as Cluster).nodes('master')) {
    for (const key of await node.keys(`${prefix}${pattern}`)) holders.set(key, Number(node.options.port));
  }
  return holders;
}

/** A machine's acquire and heartbeat, as the organization's owner. */
const acquire = (licenseKey: string, fingerprint: string) =>
  call(t.app, 'POST', '/api/v1/licenses/acquire', { license_key: licenseKey, fingerprint }, { tenant: org });
const heartbeat = (sessionId: string) =>
  call(t.app, 'POST', '/api/v1/licenses/heartbeat', { session_id: sessionId }, { tenant: org });

describe('licensing on a Redis Cluster', () => {
  it('is what ATRIUM_REDIS_CLUSTER=true connects to, and the configuration is checked', () => {
    expect(redis).toBeInstanceOf(Cluster);
    expect(() => loadConfig({ ATRIUM_REDIS_CLUSTER: 'true' })).toThrow('needs REDIS_URL');
    expect(() => loadConfig({ ATRIUM_REDIS_CLUSTER: 'yes', REDIS_URL: cluster.url })).toThrow(ConfigError);
    expect(() => loadConfig({ ATRIUM_REDIS_CLUSTER: 'true', REDIS_URL: 'redis://127.0.0.1:7000/2' })).toThrow(
      'only database 0',
    );
    expect(() => loadConfig({ ATRIUM_REDIS_CLUSTER: 'true', REDIS_URL: 'http://127.0.0.1:7000' })).toThrow(
      'redis:// or rediss://',
    );
    expect(loadConfig({ ATRIUM_REDIS_CLUSTER: 'true', REDIS_URL: ' redis://a:1 , rediss://b:2 ' }).redisUrl).toBe(
      'redis://a:1,rediss://b:2',
    );
  });

  it('gives out max_seats seats under concurrent acquires, heartbeats, releases, and spreads licenses over the nodes', async () => {
    const licenses = [];
    for (let i = 0; i < 6; i++) {
      const created = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 3 }, { tenant: org });
      expect(created.status).toBe(201);
      licenses.push(created.body as { id: string; license_key: string });
    }
    const [license] = licenses as [{ id: string; license_key: string }];
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => acquire(license.license_key, `machine-${i}`)),
    );
    expect(outcomes.map((o) => o.status).sort()).toEqual([201, 201, 201, 409, 409, 409, 409, 409]);
    const held = outcomes.filter((o) => o.status === 201).map((o) => o.body.session_id as string);
    const beat = await heartbeat(held[0] as string);
    expect(beat.status).toBe(200);
    const released = await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id: held[1] }, { tenant: org });
    expect(released.status).toBe(204);
    expect((await acquire(license.license_key, 'machine-late')).status).toBe(201);
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${license.license_key}`, undefined, {
      tenant: org,
    });
    expect(status.body.seats).toEqual({ used: 3, max: 3 });

    // One seat on each of the other licenses: their keys land on different primaries, each license on one.
    for (const [i, other] of licenses.slice(1).entries()) {
      expect((await acquire(other.license_key, `spread-${i}`)).status).toBe(201);
    }
    const holders = await keysByNode('{lic:*');
    const nodesOfLicense = licenses.map(
      (l) =>
        new Set(
          [...holders]
            .filter(([key]) => key.includes(`{lic:${fromPublicId('license', l.id)}}`))
            .map(([, port]) => port),
        ),
    );
    for (const nodes of nodesOfLicense) expect(nodes.size).toBe(1);
    expect(new Set(nodesOfLicense.flatMap((nodes) => [...nodes])).size).toBeGreaterThan(1);
  });

  it('keeps the rate-limit counts in the cluster: per organization in the background, per IP exactly', async () => {
    // Per organization: counted in process, sent to Redis every 200 ms. A new organization starts at zero.
    const fresh = await createOrganization(t.app, 'Counted');
    const window = Math.floor(Date.now() / 60_000);
    const tenantKey = `${prefix}rl:tenant:${fromPublicId('organization', fresh)}:${window}`;
    for (let i = 0; i < 5; i++) {
      expect((await call(t.app, 'GET', '/api/v1/licenses', undefined, { tenant: fresh })).status).toBe(200);
    }
    const deadline = Date.now() + 5000;
    while (Number(await redis.get(tenantKey)) < 5 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(Number(await redis.get(tenantKey))).toBe(5);

    // Per IP on the sign-in routes (4 a minute here; the two sign-ups took two): rate-limiter-flexible's counter.
    const login = () =>
      call(t.app, 'POST', '/api/v1/auth/login', { email: 'nobody@example.com', password: 'wrong password here' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await login()).status);
    expect(statuses).toEqual([401, 401, 429]);
    const authKeys = await keysByNode('rl:auth*');
    expect([...authKeys.keys()]).toHaveLength(1);
    expect(Number(await redis.get([...authKeys.keys()][0] as string))).toBeGreaterThanOrEqual(5);
  });

  it('`atrium licenses reconcile` rebuilds, on the cluster, a license whose node lost its keys', async () => {
    const created = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 5 }, { tenant: org });
    const license = created.body as { id: string; license_key: string };
    for (const fingerprint of ['a', 'b']) {
      expect((await acquire(license.license_key, fingerprint)).status).toBe(201);
    }
    await t.app.licensing.journal.flush();
    const keys = [...(await keysByNode(`{lic:${fromPublicId('license', license.id)}}*`)).keys()];
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);

    const cli = runCli(['licenses', 'reconcile', '--license', license.id], { ...env, DATABASE_APP_URL: t.db.appUrl });
    expect(await cli.exit()).toBe(0);
    expect(cli.output()).toContain(`${license.id} restored 2, dropped 0, live 2`);
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${license.license_key}`, undefined, {
      tenant: org,
    });
    expect(status.body.seats).toEqual({ used: 2, max: 5 });
  });

  it('reconcile over every license removes the keys of deleted licenses from every node, and nothing else', async () => {
    const kept = (await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 2 }, { tenant: org })).body as {
      id: string;
      license_key: string;
    };
    expect((await acquire(kept.license_key, 'kept')).status).toBe(201);
    // Keys of licenses that no longer exist, as a deletion while Redis was away leaves them: twelve ids spread
    // their hash slots over the three primaries.
    const gone = Array.from({ length: 12 }, () => newUuid());
    for (const id of gone) {
      await redis.zadd(`${prefix}{lic:${id}}:leases`, Date.now() + 60_000, newUuid());
      await redis.set(`${prefix}{lic:${id}}:ready`, '1');
    }
    const orphanNodes = new Set((await keysByNode(`{lic:*`)).values());
    expect(orphanNodes.size).toBe(3);

    const cli = runCli(['licenses', 'reconcile'], { ...env, DATABASE_APP_URL: t.db.appUrl });
    expect(await cli.exit(), cli.output()).toBe(0);
    for (const id of gone)
      expect(cli.output()).toContain(`${toPublicId('license', id)} deleted: its lease set was removed`);
    expect(cli.output()).toMatch(/total: \d+ licenses, .*; removed the lease sets of 12 deleted\n/);
    const left = [...(await keysByNode('{lic:*')).keys()];
    for (const id of gone) expect(left.filter((key) => key.includes(id))).toEqual([]);
    const keptId = fromPublicId('license', kept.id) as string;
    expect(left.filter((key) => key.includes(keptId))).toHaveLength(4);
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${kept.license_key}`, undefined, {
      tenant: org,
    });
    expect(status.body.seats.used).toBe(1);
  });

  it('answers 503 while the node of a license is down, and rebuilds the license from the journal when it comes back empty', async () => {
    const created = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 2 }, { tenant: org });
    const license = created.body as { id: string; license_key: string };
    const held = await acquire(license.license_key, 'held');
    expect(held.status).toBe(201);
    await t.app.licensing.journal.flush();
    const [port] = new Set((await keysByNode(`{lic:${fromPublicId('license', license.id)}}*`)).values());
    if (port === undefined) throw new Error('no node holds the license');

    await cluster.killNode(port);
    const refused = await acquire(license.license_key, 'during');
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('service_unavailable');
    expect(refused.headers['retry-after']).toBe('5');
    const beat = await heartbeat(held.body.session_id);
    expect(beat.status).toBe(503);

    await cluster.startNode(port);
    // The node came back with nothing: the first call rebuilds the license from the journal, seat count included.
    const deadline = Date.now() + 10_000;
    let after = await acquire(license.license_key, 'after');
    while (after.status === 503 && Date.now() < deadline) after = await acquire(license.license_key, 'after');
    expect(after.status).toBe(201);
    expect(after.body.seats).toEqual({ used: 2, max: 2 });
    expect((await acquire(license.license_key, 'one-too-many')).status).toBe(409);
    const renewed = await heartbeat(held.body.session_id);
    expect(renewed.status).toBe(200);
  });
});

describe('licensing when its one Redis server is away', () => {
  it('answers 503 service_unavailable with retry-after, not 500', async () => {
    const away = connectRedis({ redisUrl: `redis://127.0.0.1:${await freePort()}`, redisCluster: false });
    if (!away) throw new Error('no Redis connection');
    away.on('error', () => {});
    const app = await createTestApp({ redisKeyPrefix: prefix }, { redis: away });
    try {
      const owner = await createOrganization(app.app, 'Away');
      const created = await call(app.app, 'POST', '/api/v1/licenses', { max_seats: 2 }, { tenant: owner });
      expect(created.status).toBe(201);
      const acquired = await call(
        app.app,
        'POST',
        '/api/v1/licenses/acquire',
        { license_key: created.body.license_key, fingerprint: 'm' },
        { tenant: owner },
      );
      expect(acquired.status).toBe(503);
      expect(acquired.headers['content-type']).toContain('application/problem+json');
      expect(acquired.body).toMatchObject({ code: 'service_unavailable', status: 503 });
      expect(acquired.headers['retry-after']).toBe('5');

      // A deletion is committed before Redis is told: it answers 204, not a 503 inviting a retry of what happened.
      const path = `/api/v1/licenses/${created.body.id}`;
      expect((await call(app.app, 'DELETE', path, undefined, { tenant: owner })).status).toBe(204);
      expect((await call(app.app, 'GET', path, undefined, { tenant: owner })).status).toBe(404);
      expect((await call(app.app, 'DELETE', path, undefined, { tenant: owner })).status).toBe(404);
    } finally {
      await app.close();
      away.disconnect();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { newUuid } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';
import { type RedisCluster, startRedisCluster } from '../../../test/redis-servers.ts';
import { findOpenSessions, insertJournalEntries } from '../src/licensing/journal.repository.ts';
import { heartbeatStatement, PostgresSeatStore, releaseStatement } from '../src/licensing/seat-store.postgres.ts';
import { RedisSeatStore } from '../src/licensing/seat-store.redis.ts';
import type { LeaseMetadata, SeatStore } from '../src/licensing/seat-store.ts';

/**
 * One suite, both seat stores (DESIGN.md §2): whatever holds the leases, seats are never over-allocated,
 * free themselves after their lifetime, and a heartbeat never resurrects a lease.
 */

let db: TestDatabase;
let redis: Redis;
/** A real three-node Redis Cluster (test/redis-servers.ts): the seat scripts must keep to one slot each. */
let cluster: RedisCluster;
let clusterClient: Cluster;
const tenantId = newUuid();
const redisPrefix = `test:${randomBytes(4).toString('hex')}:`;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.owner.query(`insert into organizations (id, slug, name) values ($1, $2, 'Seats')`, [
    tenantId,
    `seats-${randomBytes(3).toString('hex')}`,
  ]);
  redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  cluster = await startRedisCluster();
  clusterClient = new Cluster(
    cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    { enableAutoPipelining: false },
  );
});
afterAll(async () => {
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  clusterClient.disconnect();
  await cluster.stop();
  await db.drop();
});

async function newLicense(maxSeats: number): Promise<string> {
  const id = newUuid();
  await db.owner.query(
    `insert into licenses (tenant_id, id, key_hash, key_prefix, max_seats, mode, session_ttl_seconds,
       heartbeat_interval_seconds, grace_seconds, token_ttl_seconds)
     values ($1, $2, $3, 'lk_test', $4, 'floating', 1, 1, 0, 3600)`,
    [tenantId, id, randomBytes(32), maxSeats],
  );
  return id;
}

function redisStore(client: Redis | Cluster): RedisSeatStore {
  return new RedisSeatStore(client, {
    keyPrefix: redisPrefix,
    loadOpenLeases: async (license) => {
      const rows = await withTenant(db.app, license.tenantId, (tx) =>
        findOpenSessions(tx, license.tenantId, license.licenseId),
      );
      return {
        lifetimeMs: 60_000,
        leases: rows.map((r) => ({
          sessionId: r.session_id,
          fingerprint: r.fingerprint,
          acquiredAtMs: r.acquired_at.getTime(),
          metadata: r.metadata ?? {},
        })),
      };
    },
  });
}

const stores: Array<[string, () => SeatStore]> = [
  ['postgres', () => new PostgresSeatStore(db.app)],
  ['redis', () => redisStore(redis)],
  ['redis cluster', () => redisStore(clusterClient)],
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(stores)('%s seat store', (_name, make) => {
  let store: SeatStore;
  beforeAll(() => {
    store = make();
  });

  const request = (
    licenseId: string,
    fingerprint: string,
    maxSeats: number,
    lifetimeMs = 60_000,
    metadata: LeaseMetadata = {},
  ) => ({
    tenantId,
    licenseId,
    sessionId: newUuid(),
    fingerprint,
    metadata,
    maxSeats,
    lifetimeMs,
  });

  it('gives out max_seats seats and refuses the next', async () => {
    const licenseId = await newLicense(3);
    const outcomes = [];
    for (const fp of ['a', 'b', 'c', 'd']) outcomes.push(await store.acquire(request(licenseId, fp, 3)));
    expect(outcomes.map((o) => o.kind)).toEqual(['acquired', 'acquired', 'acquired', 'exhausted']);
    expect(outcomes.map((o) => o.used)).toEqual([1, 2, 3, 3]);
  });

  it('returns the live lease of a fingerprint instead of a second seat', async () => {
    const licenseId = await newLicense(2);
    const first = await store.acquire(request(licenseId, 'same', 2));
    const again = await store.acquire(request(licenseId, 'same', 2));
    expect(first.kind).toBe('acquired');
    expect(again.kind).toBe('existing');
    if (first.kind === 'exhausted' || again.kind === 'exhausted') throw new Error('unexpected');
    expect(again.lease.sessionId).toBe(first.lease.sessionId);
    expect(again.used).toBe(1);
  });

  it('never over-allocates under 300 concurrent acquires', async () => {
    const licenseId = await newLicense(7);
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.acquire(request(licenseId, `fp-${i}`, 7))),
    );
    expect(outcomes.filter((o) => o.kind === 'acquired')).toHaveLength(7);
    expect(outcomes.filter((o) => o.kind === 'exhausted')).toHaveLength(293);
    const { live } = await store.sweep({ tenantId, licenseId });
    expect(live).toHaveLength(7);
  });

  it('decides acquires sent at once (one call on either store): a repeated fingerprint, the limit, one expiry report', async () => {
    const licenseId = await newLicense(3);
    const other = await newLicense(3);
    const dying = await store.acquire(request(licenseId, 'dying', 3, 150));
    expect(dying.kind).toBe('acquired');
    await sleep(250);
    const [a1, a2, elsewhere, ...rest] = await Promise.all([
      store.acquire(request(licenseId, 'a', 3, 60_000, { n: 1 })),
      store.acquire(request(licenseId, 'a', 3, 60_000, { n: 2 })),
      store.acquire(request(other, 'a', 3)),
      store.acquire(request(licenseId, 'b', 3)),
      store.acquire(request(licenseId, 'c', 3)),
      store.acquire(request(licenseId, 'd', 3)),
    ]);
    // Both acquires of 'a' hold one lease: one took the seat, the other got it back.
    expect([a1?.kind, a2?.kind].sort()).toEqual(['acquired', 'existing']);
    if (!a1 || !a2 || a1.kind === 'exhausted' || a2.kind === 'exhausted') throw new Error('no seat for a');
    expect(a2.lease.sessionId).toBe(a1.lease.sessionId);
    expect(elsewhere?.kind).toBe('acquired');
    // 'a' plus two of b, c, d fill the three seats; the third is refused.
    expect(rest.map((o) => o.kind).sort()).toEqual(['acquired', 'acquired', 'exhausted']);
    expect(Math.max(...[a1, a2, ...rest].map((o) => o.used))).toBe(3);
    // The expired lease is reported exactly once, whichever acquire swept it.
    const reported = [a1, a2, ...rest].flatMap((o) => o.expired.map((lease) => lease.fingerprint));
    expect(reported).toEqual(['dying']);
    const { live } = await store.sweep({ tenantId, licenseId });
    expect(live).toHaveLength(3);
    // PostgreSQL journals the batch itself: one 'acquired' per lease taken (with its metadata), the expiry once.
    const journal = await db.owner.query<{ session_id: string; fingerprint: string; event: string; metadata: unknown }>(
      `select session_id, fingerprint, event, metadata from license_journal where license_id = $1
       order by event, fingerprint`,
      [licenseId],
    );
    if (store.journalsItself) {
      const acquired = journal.rows.filter((row) => row.event === 'acquired').map((row) => row.fingerprint);
      expect(acquired).toEqual([...live.map((lease) => lease.fingerprint), 'dying'].sort());
      expect(journal.rows.filter((row) => row.event === 'expired').map((row) => row.fingerprint)).toEqual(['dying']);
      const a = journal.rows.find((row) => row.fingerprint === 'a');
      expect([a?.session_id, a?.metadata]).toEqual([a1.lease.sessionId, a1.lease.metadata]);
    }
  });

  it('refuses acquires sent at once to a full license, and still returns the lease a fingerprint holds', async () => {
    const licenseId = await newLicense(2);
    const held = await store.acquire(request(licenseId, 'held', 2));
    await store.acquire(request(licenseId, 'other', 2));
    if (held.kind === 'exhausted') throw new Error('no seat');
    const outcomes = await Promise.all([
      store.acquire(request(licenseId, 'late-1', 2)),
      store.acquire(request(licenseId, 'late-2', 2)),
    ]);
    expect(outcomes.map((o) => [o.kind, o.used])).toEqual([
      ['exhausted', 2],
      ['exhausted', 2],
    ]);
    const mixed = await Promise.all([
      store.acquire(request(licenseId, 'late-3', 2)),
      store.acquire(request(licenseId, 'held', 2)),
    ]);
    expect(mixed.map((o) => o.kind)).toEqual(['exhausted', 'existing']);
    expect(mixed[1]?.kind === 'existing' && mixed[1].lease.sessionId).toBe(held.lease.sessionId);
  });

  it('frees the seat of a lease nobody renews, with no call at all', async () => {
    const licenseId = await newLicense(1);
    const first = await store.acquire(request(licenseId, 'crashed', 1, 300));
    expect(first.kind).toBe('acquired');
    expect((await store.acquire(request(licenseId, 'waiting', 1, 300))).kind).toBe('exhausted');
    await sleep(400);
    const next = await store.acquire(request(licenseId, 'waiting', 1, 300));
    expect(next.kind).toBe('acquired');
    expect(next.expired.map((lease) => lease.fingerprint)).toEqual(['crashed']);
  });

  it('extends only a live lease: not an expired one, not a released one', async () => {
    const licenseId = await newLicense(2);
    const ref = { tenantId, licenseId };
    const live = await store.acquire(request(licenseId, 'live', 2, 60_000));
    const dying = await store.acquire(request(licenseId, 'dying', 2, 200));
    if (live.kind === 'exhausted' || dying.kind === 'exhausted') throw new Error('no seat');
    const renewed = await store.heartbeat(ref, live.lease.sessionId, 120_000);
    expect(renewed).toBeGreaterThan(live.lease.expiresAtMs);
    await sleep(300);
    expect(await store.heartbeat(ref, dying.lease.sessionId, 60_000)).toBeNull();
    expect(await store.release(ref, live.lease.sessionId)).not.toBeNull();
    expect(await store.heartbeat(ref, live.lease.sessionId, 60_000)).toBeNull();
  });

  it('answers each of many heartbeats sent at once (one batch on PostgreSQL), across licenses', async () => {
    const one = await newLicense(3);
    const two = await newLicense(3);
    const a = await store.acquire(request(one, 'a', 3, 60_000));
    const b = await store.acquire(request(two, 'b', 3, 60_000));
    const dying = await store.acquire(request(one, 'dying', 3, 150));
    if (a.kind === 'exhausted' || b.kind === 'exhausted' || dying.kind === 'exhausted') throw new Error('no seat');
    await sleep(250);
    const beats = await Promise.all([
      store.heartbeat({ tenantId, licenseId: one }, a.lease.sessionId, 90_000),
      store.heartbeat({ tenantId, licenseId: two }, b.lease.sessionId, 90_000),
      store.heartbeat({ tenantId, licenseId: one }, dying.lease.sessionId, 90_000),
      store.heartbeat({ tenantId, licenseId: one }, newUuid(), 90_000),
      // b's session under the wrong license is not b's lease.
      store.heartbeat({ tenantId, licenseId: one }, b.lease.sessionId, 90_000),
      store.heartbeat({ tenantId, licenseId: one }, a.lease.sessionId, 90_000),
    ]);
    expect(beats.map((expiry) => (expiry === null ? null : expiry > a.lease.expiresAtMs))).toEqual([
      true,
      true,
      null,
      null,
      null,
      true,
    ]);
  });

  it('releases idempotently and gives the seat back', async () => {
    const licenseId = await newLicense(1);
    const ref = { tenantId, licenseId };
    const held = await store.acquire(request(licenseId, 'x', 1));
    if (held.kind === 'exhausted') throw new Error('no seat');
    expect((await store.release(ref, held.lease.sessionId))?.fingerprint).toBe('x');
    expect(await store.release(ref, held.lease.sessionId)).toBeNull();
    expect((await store.acquire(request(licenseId, 'y', 1))).kind).toBe('acquired');
  });

  it('answers each of many releases sent at once (one script on Redis): twice the same, unknown, expired', async () => {
    const licenseId = await newLicense(3);
    const ref = { tenantId, licenseId };
    const a = await store.acquire(request(licenseId, 'a', 3));
    const b = await store.acquire(request(licenseId, 'b', 3));
    const dying = await store.acquire(request(licenseId, 'dying', 3, 150));
    if (a.kind === 'exhausted' || b.kind === 'exhausted' || dying.kind === 'exhausted') throw new Error('no seat');
    await sleep(250);
    const released = await Promise.all([
      store.release(ref, a.lease.sessionId),
      store.release(ref, a.lease.sessionId),
      store.release(ref, newUuid()),
      store.release(ref, dying.lease.sessionId),
    ]);
    // One of the two releases of a got the lease (which one is up to the store), the other found none.
    expect(
      released
        .slice(0, 2)
        .filter((lease) => lease !== null)
        .map((lease) => lease?.fingerprint),
    ).toEqual(['a']);
    expect(released[2]).toBeNull();
    // A lease released after its expiry but before a sweep comes back with its expiry, so it is journaled as expired.
    expect(released[3]?.fingerprint).toBe('dying');
    expect(released[3]?.expiresAtMs).toBe(dying.lease.expiresAtMs);
    // PostgreSQL journals each release itself, once, in the same statement; with Redis the service does it.
    const journal = await db.owner.query<{ fingerprint: string; event: string; at: Date }>(
      `select fingerprint, event, occurred_at as at from license_journal
       where license_id = $1 and event in ('released', 'expired') order by fingerprint`,
      [licenseId],
    );
    if (store.journalsItself) {
      expect(journal.rows.map((row) => [row.fingerprint, row.event])).toEqual([
        ['a', 'released'],
        ['dying', 'expired'],
      ]);
      expect(journal.rows[1]?.at.getTime()).toBe(dying.lease.expiresAtMs);
    } else {
      expect(journal.rows).toEqual([]);
    }
    const { live } = await store.sweep(ref);
    expect(live.map((lease) => lease.fingerprint)).toEqual(['b']);
    expect((await store.acquire(request(licenseId, 'a', 3))).kind).toBe('acquired');
  });

  it('keeps the acquire metadata with the lease through heartbeat, sweep, a repeated acquire and release', async () => {
    const licenseId = await newLicense(3);
    const ref = { tenantId, licenseId };
    const metadata = { host: 'build-07', cores: 8, ratio: 0.5, note: 'a "quoted"\nline, ünïcode \\ ✓' };
    const held = await store.acquire(request(licenseId, 'meta', 3, 60_000, metadata));
    if (held.kind !== 'acquired') throw new Error('no seat');
    expect(held.lease.metadata).toEqual(metadata);
    expect(await store.heartbeat(ref, held.lease.sessionId, 60_000)).toBeGreaterThan(held.lease.expiresAtMs - 1);
    // The fingerprint's live lease is returned as it was acquired: new metadata does not replace it.
    const again = await store.acquire(request(licenseId, 'meta', 3, 60_000, { host: 'other' }));
    expect(again.kind === 'existing' && again.lease.metadata).toEqual(metadata);
    await store.acquire(request(licenseId, 'plain', 3));
    const { live } = await store.sweep(ref);
    expect(Object.fromEntries(live.map((lease) => [lease.fingerprint, lease.metadata]))).toEqual({
      meta: metadata,
      plain: {},
    });
    expect((await store.release(ref, held.lease.sessionId))?.metadata).toEqual(metadata);
  });

  it('lists live leases and drops expired ones on sweep', async () => {
    const licenseId = await newLicense(5);
    await store.acquire(request(licenseId, 'stays', 5, 60_000));
    await store.acquire(request(licenseId, 'goes', 5, 150));
    await sleep(250);
    const { live, expired } = await store.sweep({ tenantId, licenseId });
    expect(live.map((l) => l.fingerprint)).toEqual(['stays']);
    expect(expired.map((l) => l.fingerprint)).toEqual(['goes']);
  });

  it('expires leases and counts the live ones without listing them (the reaper)', async () => {
    const licenseId = await newLicense(5);
    await store.acquire(request(licenseId, 'a', 5, 60_000));
    await store.acquire(request(licenseId, 'b', 5, 60_000));
    await store.acquire(request(licenseId, 'c', 5, 150));
    await sleep(250);
    const { expired, used } = await store.expire({ tenantId, licenseId });
    expect({ expired: expired.map((l) => l.fingerprint), used }).toEqual({ expired: ['c'], used: 2 });
    expect(await store.expire({ tenantId, licenseId })).toEqual({ expired: [], used: 2 });
    // PostgreSQL journals the expiry itself, once; with Redis the service hands it to the journal writer.
    const journal = await db.owner.query(
      `select count(*)::int as n from license_journal where license_id = $1 and event = 'expired'`,
      [licenseId],
    );
    expect(journal.rows[0].n).toBe(store.journalsItself ? 1 : 0);
  });
});

describe('redis seat store after Redis lost its data', () => {
  it('rebuilds the lease set from the PostgreSQL journal and keeps the seat count', async () => {
    const store = stores[1]?.[1]() as RedisSeatStore;
    const licenseId = await newLicense(2);
    const held = newUuid();
    const released = newUuid();
    const now = Date.now();
    await withTenant(db.app, tenantId, (tx) =>
      insertJournalEntries(tx, tenantId, [
        {
          licenseId,
          sessionId: held,
          fingerprint: 'held',
          event: 'acquired',
          occurredAtMs: now - 5000,
          metadata: { host: 'kept', build: 42 },
        },
        { licenseId, sessionId: released, fingerprint: 'gone', event: 'acquired', occurredAtMs: now - 4000 },
        { licenseId, sessionId: released, fingerprint: 'gone', event: 'released', occurredAtMs: now - 3000 },
      ]),
    );
    // Nothing in Redis for this license: the first operation rebuilds it.
    expect(await redis.exists(...store.keys(licenseId))).toBe(0);
    expect(await store.heartbeat({ tenantId, licenseId }, held, 60_000)).toBeGreaterThan(now);
    const rebuilt = (await store.sweep({ tenantId, licenseId })).live.find((lease) => lease.sessionId === held);
    expect(rebuilt?.fingerprint).toBe('held');
    expect(rebuilt?.metadata).toEqual({ host: 'kept', build: 42 });
    const outcomes = await Promise.all(
      ['n1', 'n2', 'n3'].map((fp) =>
        store.acquire({
          tenantId,
          licenseId,
          sessionId: newUuid(),
          fingerprint: fp,
          metadata: {},
          maxSeats: 2,
          lifetimeMs: 60_000,
        }),
      ),
    );
    expect(outcomes.filter((o) => o.kind === 'acquired')).toHaveLength(1);
  });
});

describe('redis seat store, the licenses it has keys of', () => {
  it('lists the licenses under its own prefix only, glob characters in the prefix included, and drops them', async () => {
    const loadOpenLeases = async () => ({ lifetimeMs: 60_000, leases: [] });
    // `*` in one prefix must not match the other's characters.
    const star = new RedisSeatStore(redis, { keyPrefix: `${redisPrefix}a*[b]:`, loadOpenLeases });
    const plain = new RedisSeatStore(redis, { keyPrefix: `${redisPrefix}ax[b]:`, loadOpenLeases });
    const mine = [newUuid(), newUuid()];
    const theirs = newUuid();
    for (const id of mine) await star.acquire({ ...seat(id), tenantId: newUuid() });
    await plain.acquire({ ...seat(theirs), tenantId: newUuid() });

    expect([...(await star.licenseIdsInRedis())].sort()).toEqual([...mine].sort());
    expect([...(await plain.licenseIdsInRedis())]).toEqual([theirs]);
    await star.dropLeaseSets(mine);
    expect(await star.licenseIdsInRedis()).toEqual(new Set());
    expect(await redis.exists(...plain.keys(theirs))).toBe(4);
  });

  function seat(licenseId: string) {
    return { licenseId, sessionId: newUuid(), fingerprint: 'fp', metadata: {}, maxSeats: 1, lifetimeMs: 60_000 };
  }
});

describe('redis seat store on a Redis Cluster', () => {
  it("keeps each license's keys on one node and spreads licenses over the nodes", async () => {
    const store = redisStore(clusterClient);
    const licenses = await Promise.all(Array.from({ length: 12 }, () => newLicense(2)));
    await Promise.all(licenses.map((licenseId, i) => store.acquire(request(licenseId, `fp-${i}`))));
    // Which primary holds each key, read from the nodes themselves.
    const holders = new Map<string, string>();
    for (const node of clusterClient.nodes('master')) {
      for (const key of await node.keys(`${redisPrefix}*`)) holders.set(key, `${node.options.port}`);
    }
    const nodesOf = licenses.map((id) => new Set(store.keys(id).map((key) => holders.get(key))));
    for (const nodes of nodesOf) {
      expect(nodes.size).toBe(1);
      expect(nodes.has(undefined)).toBe(false);
    }
    expect(new Set(nodesOf.flatMap((nodes) => [...nodes])).size).toBeGreaterThan(1);
  });

  it('rebuilds a license that lost its keys on its node from the journal', async () => {
    const store = redisStore(clusterClient);
    const licenseId = await newLicense(1);
    const first = await store.acquire(request(licenseId, 'first'));
    if (first.kind === 'exhausted') throw new Error('no seat');
    // The node holding the license forgets it (a failover without replication, a FLUSHALL).
    await clusterClient.del(...store.keys(licenseId));
    await withTenant(db.app, tenantId, (tx) =>
      insertJournalEntries(tx, tenantId, [
        {
          licenseId,
          sessionId: first.lease.sessionId,
          fingerprint: 'first',
          event: 'acquired',
          occurredAtMs: Date.now(),
        },
      ]),
    );
    expect((await store.acquire(request(licenseId, 'second'))).kind).toBe('exhausted');
    expect((await store.acquire(request(licenseId, 'first'))).kind).toBe('existing');
  });

  function request(licenseId: string, fingerprint: string) {
    return { tenantId, licenseId, sessionId: newUuid(), fingerprint, metadata: {}, maxSeats: 1, lifetimeMs: 60_000 };
  }
});

describe('postgres seat store on a license with many leases and no statistics yet', () => {
  /** The indexes (or `seq scan`) a JSON plan reads `table` through. */
  function accessPaths(node: Record<string, unknown>, table: string): string[] {
    const own =
      node['Relation Name'] === table && node['Node Type'] !== 'ModifyTable'
        ? [String(node['Index Name'] ?? String(node['Node Type']).toLowerCase())]
        : [];
    const children = (node.Plans as Array<Record<string, unknown>> | undefined) ?? [];
    return [...own, ...children.flatMap((child) => accessPaths(child, table))];
  }

  it('finds each heartbeat and release by the primary key, not by reading the license lease by lease', async () => {
    // As on a new install, or minutes after a burst of acquires: autovacuum has not analyzed the table yet.
    await db.owner.query('alter table license_leases set (autovacuum_enabled = false)');
    const licenseId = await newLicense(1_000_000);
    await db.owner.query(
      `insert into license_leases (tenant_id, session_id, license_id, fingerprint, acquired_at, expires_at)
       select $1, gen_random_uuid(), $2, 'fp-' || i, now(), now() + interval '1 hour'
       from generate_series(1, 20000) i`,
      [tenantId, licenseId],
    );
    const { rows } = await db.owner.query<{ session_id: string }>(
      'select session_id from license_leases where license_id = $1 order by session_id limit 3',
      [licenseId],
    );
    const sessions = rows.map((row) => row.session_id);
    const statements = [
      heartbeatStatement(
        tenantId,
        sessions.map((sessionId) => ({ licenseId, sessionId, lifetimeMs: 60_000 })),
      ),
      releaseStatement(
        tenantId,
        sessions.map((sessionId) => ({ licenseId, sessionId })),
      ),
    ];
    for (const statement of statements) {
      const plan = await withTenant(db.app, tenantId, async (tx) => {
        const result = await tx.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(
          `explain (format json) ${statement}`,
        );
        return result.rows[0]?.['QUERY PLAN'][0]?.Plan ?? {};
      });
      expect(accessPaths(plan, 'license_leases'), statement.slice(0, 60)).toEqual(['license_leases_pkey']);
    }

    // The statements still do their work, and still refuse a session under another license's id.
    const store = new PostgresSeatStore(db.app);
    const [first, second] = sessions as [string, string];
    const other = await newLicense(1);
    expect(await store.heartbeat({ tenantId, licenseId: other }, first, 60_000)).toBeNull();
    expect(await store.release({ tenantId, licenseId: other }, first)).toBeNull();
    expect(await store.heartbeat({ tenantId, licenseId }, first, 60_000)).toBeGreaterThan(Date.now());
    expect((await store.release({ tenantId, licenseId }, second))?.sessionId).toBe(second);
    await db.owner.query('delete from license_leases where license_id = $1', [licenseId]);
  });
});

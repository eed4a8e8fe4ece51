import { randomBytes } from 'node:crypto';
import { fromPublicId, newUuid, toPublicId } from '@atrium/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';
import { runCli } from '../../../test/processes.ts';

/**
 * `atrium licenses reconcile` as an operator runs it, a real process, after Redis lost a license's lease set or
 * came back from an old snapshot. The API runs in-process on the same database and Redis; its reaper is slowed
 * down so that only the command rebuilds what was lost.
 */

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
const prefix = `test:${randomBytes(4).toString('hex')}:`;

let t: TestApp;
let org: string;
let env: Record<string, string>;
beforeAll(async () => {
  t = await createTestApp(
    { journalFlushIntervalMs: 10, redisKeyPrefix: prefix, leaseReapIntervalMs: 600_000 },
    { redis },
  );
  org = await createOrganization(t.app, 'Reconcile');
  env = { DATABASE_APP_URL: t.db.appUrl, REDIS_URL: redisUrl, ATRIUM_REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn' };
});
afterAll(async () => {
  await t.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

async function licenseWithLeases(count: number) {
  const license = (await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 5 }, { tenant: org })).body as {
    id: string;
    license_key: string;
  };
  const sessions: string[] = [];
  for (let i = 1; i <= count; i++) {
    const acquired = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: license.license_key, fingerprint: `machine-${i}`, metadata: { host: `host-${i}`, slot: i } },
      { tenant: org },
    );
    expect(acquired.status).toBe(201);
    sessions.push(acquired.body.session_id);
  }
  await t.app.licensing.journal.flush();
  return { ...license, sessions, keyPattern: `${prefix}{lic:${fromPublicId('license', license.id)}}*` };
}

async function reconcile(args: string[], environment = env) {
  const cli = runCli(['licenses', 'reconcile', ...args], environment);
  const code = await cli.exit();
  return { code, output: cli.output() };
}

const status = (licenseKey: string) =>
  call(t.app, 'GET', `/api/v1/licenses/status?license_key=${licenseKey}`, undefined, { tenant: org });
const heartbeat = (sessionId: string) =>
  call(t.app, 'POST', '/api/v1/licenses/heartbeat', { session_id: sessionId }, { tenant: org });

let rebuilt: Awaited<ReturnType<typeof licenseWithLeases>>;

describe('atrium licenses reconcile', () => {
  it('restores from the journal the leases of a license whose Redis keys were deleted', async () => {
    rebuilt = await licenseWithLeases(3);
    const keys = await redis.keys(rebuilt.keyPattern);
    expect(keys).toHaveLength(4);
    await redis.del(...keys);

    const { code, output } = await reconcile(['--license', rebuilt.id]);
    expect(code, output).toBe(0);
    expect(output).toContain(`${rebuilt.id} restored 3, dropped 0, live 3\n`);
    expect(output).toContain('total: 1 licenses, restored 3, dropped 0, live 3\n');
    // Rebuilt by the command, before any API call could rebuild it on demand.
    const leasesKey = `${prefix}{lic:${fromPublicId('license', rebuilt.id)}}:leases`;
    expect(await redis.zcard(leasesKey)).toBe(3);

    const shown = await status(rebuilt.license_key);
    expect(shown.body.seats).toEqual({ used: 3, max: 5 });
    expect(shown.body.sessions.map((s: { session_id: string }) => s.session_id).sort()).toEqual(
      [...rebuilt.sessions].sort(),
    );
    const machine1 = shown.body.sessions.find((s: { fingerprint: string }) => s.fingerprint === 'machine-1');
    expect(machine1.metadata).toEqual({ host: 'host-1', slot: 1 });
    for (const session of rebuilt.sessions) expect((await heartbeat(session)).status).toBe(200);

    // Nothing left to do: a second run changes nothing.
    const again = await reconcile(['--license', rebuilt.id]);
    expect(again.output).toContain(`${rebuilt.id} restored 0, dropped 0, live 3\n`);
  });

  it('drops the leases the journal says were released when Redis came back from an old snapshot', async () => {
    const stale = await licenseWithLeases(3);
    const keys = await redis.keys(stale.keyPattern);
    const snapshot = await Promise.all(keys.map(async (key) => [key, await redis.dumpBuffer(key)] as const));
    const released = stale.sessions[0] as string;
    const release = await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id: released }, { tenant: org });
    expect(release.status).toBe(204);
    await t.app.licensing.journal.flush();
    for (const [key, dump] of snapshot) await redis.restore(key, 0, dump as Buffer, 'REPLACE');
    expect((await status(stale.license_key)).body.seats.used).toBe(3);

    const { code, output } = await reconcile(['--tenant', org]);
    expect(code, output).toBe(0);
    expect(output).toContain(`${stale.id} restored 0, dropped 1, live 2\n`);
    expect(output).toContain(`${rebuilt.id} restored 0, dropped 0, live 3\n`);
    expect(output).toContain('total: 2 licenses, restored 0, dropped 1, live 5\n');
    expect((await status(stale.license_key)).body.seats.used).toBe(2);
    expect((await heartbeat(released)).body.code).toBe('session_not_found');
    expect((await heartbeat(stale.sessions[1] as string)).status).toBe(200);

    // Without options: every organization's licenses.
    const all = await reconcile([]);
    expect(all.code, all.output).toBe(0);
    expect(all.output).toContain('total: 2 licenses, restored 0, dropped 0, live 5\n');
  });

  it('keeps a lease Redis holds that the journal has not seen yet', async () => {
    const fresh = await licenseWithLeases(1);
    const licenseId = fromPublicId('license', fresh.id) as string;
    // What an acquire looks like in the moment before its batched journal write lands.
    const unseen = newUuid();
    await t.app.licensing.store.acquire({
      tenantId: fromPublicId('organization', org) as string,
      licenseId,
      sessionId: unseen,
      fingerprint: 'not-journaled-yet',
      metadata: {},
      maxSeats: 5,
      lifetimeMs: 60_000,
    });
    const { code, output } = await reconcile(['--license', fresh.id]);
    expect(code, output).toBe(0);
    expect(output).toContain(`${fresh.id} restored 0, dropped 0, live 2 (1 not in the journal yet, kept)\n`);
  });

  it('removes, in a run over every license, the lease set a license deleted while Redis was away left behind', async () => {
    const deleted = await licenseWithLeases(2);
    // What Redis holds if it missed the deletion: the keys as they were.
    const keys = await redis.keys(deleted.keyPattern);
    expect(keys).toHaveLength(4);
    const snapshot = await Promise.all(keys.map(async (key) => [key, await redis.dumpBuffer(key)] as const));
    const removed = await call(t.app, 'DELETE', `/api/v1/licenses/${deleted.id}`, undefined, { tenant: org });
    expect(removed.status).toBe(204);
    expect(await redis.keys(deleted.keyPattern)).toEqual([]);
    for (const [key, dump] of snapshot) await redis.restore(key, 0, dump as Buffer, 'REPLACE');

    // A run over one organization or one license leaves keys it was not asked about alone.
    const scoped = await reconcile(['--tenant', org]);
    expect(scoped.code, scoped.output).toBe(0);
    expect(scoped.output).not.toContain('deleted');
    expect(await redis.keys(deleted.keyPattern)).toHaveLength(4);

    const all = await reconcile([]);
    expect(all.code, all.output).toBe(0);
    expect(all.output).toContain(`${deleted.id} deleted: its lease set was removed\n`);
    expect(all.output).toMatch(/total: 3 licenses, .*; removed the lease sets of 1 deleted\n/);
    expect(await redis.keys(deleted.keyPattern)).toEqual([]);
    // The licenses that exist keep theirs.
    expect((await status(rebuilt.license_key)).body.seats.used).toBe(3);
    expect(await redis.keys(rebuilt.keyPattern)).toHaveLength(4);
  });

  it('exits non-zero with a clear message without REDIS_URL, or with a malformed or unknown id', async () => {
    const { REDIS_URL: _, ...withoutRedis } = env;
    const unknownLicense = toPublicId('license', newUuid());
    const unknownOrg = toPublicId('organization', newUuid());
    // Five processes at once: each spends most of its time starting Node.
    const [noRedis, malformed, wrongKind, unknown, noOrg] = await Promise.all([
      reconcile([], withoutRedis),
      reconcile(['--license', 'lic_nothex']),
      reconcile(['--tenant', rebuilt.id]),
      reconcile(['--license', unknownLicense]),
      reconcile(['--tenant', unknownOrg]),
    ]);
    expect(noRedis.code).toBe(1);
    expect(noRedis.output).toContain('REDIS_URL is required');
    expect(malformed.code).toBe(2);
    expect(malformed.output).toContain('--license lic_nothex is not a license id');
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.output).toContain('is not an organization id');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain(`no license ${unknownLicense} exists`);
    expect(noOrg.code).toBe(1);
    expect(noOrg.output).toContain(`no organization ${unknownOrg} exists`);
  });
});

import { fromPublicId } from '@atrium/contracts';
import { compactVerify, importJWK, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, seatStoreModes, type TestApp } from '../../../test/app.ts';

/** The licensing API end to end, on both seat stores. */

const { modes } = seatStoreModes();

describe.each(modes)('licensing on the %s seat store', (_mode, make) => {
  let t: TestApp;
  let org: string;
  beforeAll(async () => {
    t = await make();
    org = await createOrganization(t.app, 'Licensor');
  });
  afterAll(() => t.close());

  async function newLicense(body: Record<string, unknown> = {}) {
    const res = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 2, ...body }, { tenant: org });
    expect(res.status).toBe(201);
    return res.body as { id: string; license_key: string; policy: Record<string, unknown> };
  }

  it('creates a license whose key is shown once, with TTL 360 s and heartbeat TTL/3 by default', async () => {
    const license = await newLicense({ name: 'Studio', product: 'CAD' });
    expect(license.license_key).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    expect(license.policy).toMatchObject({
      mode: 'floating',
      session_ttl_seconds: 360,
      heartbeat_interval_seconds: 120,
    });
    const fetched = await call(t.app, 'GET', `/api/v1/licenses/${license.id}`, undefined, { tenant: org });
    expect(fetched.status).toBe(200);
    expect(fetched.body.license_key).toBeUndefined();
    expect(fetched.body.key_prefix).toBe(license.license_key.slice(0, 9));
    const { rows } = await t.db.owner.query('select key_hash from licenses where key_prefix = $1', [
      license.license_key.slice(0, 9),
    ]);
    expect(rows[0].key_hash.toString('utf8')).not.toContain(license.license_key);
  });

  it('acquires (201), returns the same lease to the same fingerprint (200), refuses a third machine (409)', async () => {
    const { id, license_key } = await newLicense();
    const first = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'm1' },
      { tenant: org },
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ heartbeat_interval_seconds: 120, seats: { used: 1, max: 2 } });
    const again = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'm1' },
      { tenant: org },
    );
    expect(again.status).toBe(200);
    expect(again.body.session_id).toBe(first.body.session_id);
    expect(again.body.seats.used).toBe(1);
    await call(t.app, 'POST', '/api/v1/licenses/acquire', { license_key, fingerprint: 'm2' }, { tenant: org });
    const third = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'm3' },
      { tenant: org },
    );
    expect(third.status).toBe(409);
    expect(third.body.code).toBe('seats_exhausted');
    expect(third.headers['content-type']).toContain('application/problem+json');
    // The seat gauges are current when Prometheus scrapes.
    const metrics = (await call(t.app, 'GET', '/metrics')).body as string;
    const labels = `tenant_id="${fromPublicId('organization', org)}",license_id="${fromPublicId('license', id)}"`;
    expect(metrics).toContain(`atrium_license_seats_used{${labels}} 2`);
    expect(metrics).toContain(`atrium_license_seats_max{${labels}} 2`);
    // Operations are counted in process and added to the counter at each scrape: once each, never twice.
    const exhausted = (text: string) =>
      Number(
        /^atrium_license_operations_total\{operation="acquire",result="seats_exhausted"\} (\d+)$/m.exec(text)?.[1],
      );
    expect(exhausted(metrics)).toBeGreaterThanOrEqual(1);
    expect(exhausted((await call(t.app, 'GET', '/metrics')).body)).toBe(exhausted(metrics));
    await call(t.app, 'POST', '/api/v1/licenses/acquire', { license_key, fingerprint: 'm4' }, { tenant: org });
    expect(exhausted((await call(t.app, 'GET', '/metrics')).body)).toBe(exhausted(metrics) + 1);
  });

  it('heartbeats a live session, releases it idempotently, then answers session_not_found', async () => {
    const { license_key } = await newLicense();
    const acquired = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'hb' },
      { tenant: org },
    );
    const session_id = acquired.body.session_id;
    const beat = await call(t.app, 'POST', '/api/v1/licenses/heartbeat', { session_id }, { tenant: org });
    expect(beat.status).toBe(200);
    expect(Date.parse(beat.body.expires_at)).toBeGreaterThanOrEqual(Date.parse(acquired.body.expires_at));
    const byToken = await call(
      t.app,
      'POST',
      '/api/v1/licenses/heartbeat',
      { token: acquired.body.token },
      { tenant: org },
    );
    expect(byToken.status).toBe(200);
    expect((await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id }, { tenant: org })).status).toBe(204);
    expect((await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id }, { tenant: org })).status).toBe(204);
    const gone = await call(t.app, 'POST', '/api/v1/licenses/heartbeat', { session_id }, { tenant: org });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('session_not_found');
  });

  it('times seat store calls once per batch, not once per request', async () => {
    const { license_key } = await newLicense({ max_seats: 20 });
    const sessions: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await call(
        t.app,
        'POST',
        '/api/v1/licenses/acquire',
        { license_key, fingerprint: `batch-${i}` },
        { tenant: org },
      );
      sessions.push(res.body.session_id);
    }
    const heartbeatCalls = async () => {
      const metrics = (await call(t.app, 'GET', '/metrics')).body as string;
      const line = metrics
        .split('\n')
        .find((l) => l.startsWith(`atrium_seat_store_duration_seconds_count{store="${_mode}",operation="heartbeat"}`));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    // Twelve heartbeats started in one turn of the event loop reach the store as one batch (TurnBatcher). Through
    // HTTP their arrival would depend on the test runner's timing, so the lease service is called directly.
    const caller = {
      tenantId: fromPublicId('organization', org) as string,
      actor: { type: 'system' as const, id: 'test' },
      requestId: null,
      licenseId: null,
    };
    await t.app.licensing.leases.heartbeat(caller, { session_id: sessions[0] as string }); // the license is cached
    const before = await heartbeatCalls();
    const beats = await Promise.all(
      sessions.map((session_id) => t.app.licensing.leases.heartbeat(caller, { session_id })),
    );
    expect(beats).toHaveLength(sessions.length);
    const calls = (await heartbeatCalls()) - before;
    expect(calls).toBe(1);
  });

  it('keeps acquire metadata with the session: status shows it, the journal records it', async () => {
    const license = await newLicense({ max_seats: 3 });
    const metadata = { host: 'build-07', app_version: '4.2.1', cores: 8 };
    const acquired = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: license.license_key, fingerprint: 'with-meta', metadata },
      { tenant: org },
    );
    expect(acquired.status).toBe(201);
    await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: license.license_key, fingerprint: 'without-meta' },
      { tenant: org },
    );
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${license.license_key}`, undefined, {
      tenant: org,
    });
    expect(status.status).toBe(200);
    const byFingerprint = Object.fromEntries(
      status.body.sessions.map((s: { fingerprint: string; metadata: unknown }) => [s.fingerprint, s.metadata]),
    );
    expect(byFingerprint).toEqual({ 'with-meta': metadata, 'without-meta': {} });
    await t.app.licensing.journal.flush();
    const { rows } = await t.db.owner.query(
      "select fingerprint, metadata from license_journal where license_id = $1 and event = 'acquired' order by 1",
      [fromPublicId('license', license.id)],
    );
    expect(rows).toEqual([
      { fingerprint: 'with-meta', metadata },
      { fingerprint: 'without-meta', metadata: {} },
    ]);
  });

  it('journals an expiry found by the per-organization sweep, with no call on the license at all', async () => {
    const license = await newLicense({ max_seats: 3, policy: { session_ttl_seconds: 1, grace_seconds: 0 } });
    const { license_key } = license;
    const acquired = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'gone' },
      { tenant: org },
    );
    expect(acquired.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const tenantId = fromPublicId('organization', org) as string;
    const swept = await t.app.licensing.leases.sweepTenant(tenantId);
    expect(swept.expired).toBe(1);
    // The Redis store's expiries reach the journal through the batched writer: flush it rather than guess a delay.
    await t.app.licensing.journal.flush();
    const licenseId = fromPublicId('license', license.id) as string;
    const { rows } = await t.db.owner.query(
      "select count(*)::int as n from license_journal where license_id = $1 and event = 'expired'",
      [licenseId],
    );
    expect(rows[0].n).toBe(1);
    expect((await t.app.licensing.leases.sweepTenant(tenantId)).expired).toBe(0);
  });

  it('frees a crashed client seat after TTL + grace, with no call from it', async () => {
    const { license_key } = await newLicense({ max_seats: 1, policy: { session_ttl_seconds: 1, grace_seconds: 0 } });
    const first = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'dead' },
      { tenant: org },
    );
    expect(first.status).toBe(201);
    const blocked = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'new' },
      { tenant: org },
    );
    expect(blocked.status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${license_key}`, undefined, {
      tenant: org,
    });
    expect(status.body.seats).toEqual({ used: 0, max: 1 });
    const next = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'new' },
      { tenant: org },
    );
    expect(next.status).toBe(201);
    const late = await call(
      t.app,
      'POST',
      '/api/v1/licenses/heartbeat',
      { session_id: first.body.session_id },
      { tenant: org },
    );
    expect(late.body.code).toBe('session_not_found');
  });

  it('lets a machine use its license key as its only credential', async () => {
    const { license_key } = await newLicense();
    const auth = { headers: { authorization: `License ${license_key}` } };
    const acquired = await call(t.app, 'POST', '/api/v1/licenses/acquire', { license_key, fingerprint: 'bot' }, auth);
    expect(acquired.status).toBe(201);
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${license_key}`, undefined, auth);
    expect(status.body).toMatchObject({ valid: true, seats: { used: 1, max: 2 } });
    expect(status.body.sessions).toHaveLength(1);
    const beat = await call(
      t.app,
      'POST',
      '/api/v1/licenses/heartbeat',
      { session_id: acquired.body.session_id },
      auth,
    );
    expect(beat.status).toBe(200);
    expect(
      (await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id: acquired.body.session_id }, auth)).status,
    ).toBe(204);
  });

  it('issues a token whose chain verifies offline with only the root public key', async () => {
    const { license_key, id } = await newLicense();
    const acquired = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key, fingerprint: 'off' },
      { tenant: org },
    );
    const jwks = await call(t.app, 'GET', '/.well-known/jwks.json');
    const root = jwks.body.keys.find((k: JWK) => k.alg === 'RS256') as JWK;
    expect(root.n && Buffer.from(root.n, 'base64url').length * 8).toBe(4096);
    const token = acquired.body.token as string;
    const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString());
    expect(header.alg).toBe('EdDSA');
    const cert = await compactVerify(header.cert, await importJWK(root, 'RS256'));
    const certified = JSON.parse(new TextDecoder().decode(cert.payload));
    expect(certified.sub).toBe(header.kid);
    const { payload } = await jwtVerify(token, await importJWK(certified.jwk, certified.alg));
    expect(payload).toMatchObject({ lic: id, sid: acquired.body.session_id, fpr: 'off', seats: { used: 1, max: 2 } });
    expect(
      jwks.body.keys.some(
        (k: JWK & { atrium_certificate?: string }) => k.kid === header.kid && k.atrium_certificate === header.cert,
      ),
    ).toBe(true);
  });

  it('locks a node-locked license to max_fingerprints machines until an admin deactivates one', async () => {
    const license = await newLicense({ max_seats: 5, policy: { mode: 'node_locked', max_fingerprints: 2 } });
    const acquire = (fingerprint: string) =>
      call(
        t.app,
        'POST',
        '/api/v1/licenses/acquire',
        { license_key: license.license_key, fingerprint },
        { tenant: org },
      );
    expect((await acquire('pc-1')).status).toBe(201);
    expect((await acquire('pc-2')).status).toBe(201);
    const third = await acquire('pc-3');
    expect(third.status).toBe(409);
    expect(third.body.code).toBe('fingerprint_limit_reached');
    const list = await call(t.app, 'GET', `/api/v1/licenses/${license.id}/fingerprints`, undefined, { tenant: org });
    expect(list.body.data.map((f: { fingerprint: string }) => f.fingerprint)).toEqual(['pc-1', 'pc-2']);
    const pc1 = list.body.data[0].id;
    const removed = await call(t.app, 'DELETE', `/api/v1/licenses/${license.id}/fingerprints/${pc1}`, undefined, {
      tenant: org,
    });
    expect(removed.status).toBe(204);
    expect((await acquire('pc-3')).status).toBe(201);
  });

  it('refuses suspended (403 license_suspended) and expired (403 license_expired) licenses', async () => {
    const license = await newLicense();
    const patched = await call(t.app, 'PATCH', `/api/v1/licenses/${license.id}`, { suspended: true }, { tenant: org });
    expect(patched.status).toBe(200);
    const suspended = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: license.license_key, fingerprint: 's' },
      { tenant: org },
    );
    expect(suspended.status).toBe(403);
    expect(suspended.body.code).toBe('license_suspended');
    const expiredLicense = await newLicense({ expires_at: new Date(Date.now() - 1000).toISOString() });
    const expired = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: expiredLicense.license_key, fingerprint: 'e' },
      { tenant: org },
    );
    expect(expired.status).toBe(403);
    expect(expired.body.code).toBe('license_expired');
  });

  it('reports usage per license per day from the journal, and audits denials off the hot path', async () => {
    const license = await newLicense({ max_seats: 2 });
    const acquire = (fingerprint: string) =>
      call(
        t.app,
        'POST',
        '/api/v1/licenses/acquire',
        { license_key: license.license_key, fingerprint },
        { tenant: org },
      );
    const a = await acquire('u1');
    await acquire('u2');
    await acquire('u3');
    await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id: a.body.session_id }, { tenant: org });
    await acquire('u4');
    // Journal rows (Redis store) and the denial's audit event are written in batches: flush, do not guess a delay.
    await Promise.all([t.app.licensing.journal.flush(), t.app.licensing.audit.flush()]);
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const usage = await call(
      t.app,
      'GET',
      `/api/v1/analytics/usage?from=${from}&to=${to}&license_id=${license.id}`,
      undefined,
      { tenant: org },
    );
    expect(usage.status).toBe(200);
    const total = usage.body.data.reduce(
      (sum: { acquisitions: number; denials: number; peak: number }, day: Record<string, number>) => ({
        acquisitions: sum.acquisitions + (day.acquisitions ?? 0),
        denials: sum.denials + (day.denials ?? 0),
        peak: Math.max(sum.peak, day.peak_concurrent_seats ?? 0),
      }),
      { acquisitions: 0, denials: 0, peak: 0 },
    );
    expect(total).toEqual({ acquisitions: 3, denials: 1, peak: 2 });
    const audit = await call(t.app, 'GET', '/api/v1/audit-logs?action=license.acquire_denied', undefined, {
      tenant: org,
    });
    expect(audit.body.data.some((e: { resource: { id: string } }) => e.resource.id === license.id)).toBe(true);
  });
});

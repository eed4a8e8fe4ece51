import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';

/** Who may touch a license: its organization's admins, its own key for the machine routes, nobody else. */

let t: TestApp;
let acme: string;
let globex: string;
let license: { id: string; license_key: string };

beforeAll(async () => {
  t = await createTestApp({ journalFlushIntervalMs: 10 });
  acme = await createOrganization(t.app, 'Acme');
  globex = await createOrganization(t.app, 'Globex');
  license = (await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 3 }, { tenant: acme })).body;
});
afterAll(() => t.close());

describe('licensing authorization', () => {
  it("answers another organization's key and license ids with 404, as if unknown", async () => {
    const acquire = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: license.license_key, fingerprint: 'x' },
      { tenant: globex },
    );
    expect(acquire.status).toBe(404);
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${license.license_key}`, undefined, {
      tenant: globex,
    });
    expect(status.status).toBe(404);
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const res = await call(
        t.app,
        method,
        `/api/v1/licenses/${license.id}`,
        method === 'PATCH' ? { max_seats: 9 } : undefined,
        { tenant: globex },
      );
      expect(res.status, method).toBe(404);
    }
    const session = (
      await call(
        t.app,
        'POST',
        '/api/v1/licenses/acquire',
        { license_key: license.license_key, fingerprint: 'y' },
        { tenant: acme },
      )
    ).body.session_id;
    const beat = await call(t.app, 'POST', '/api/v1/licenses/heartbeat', { session_id: session }, { tenant: globex });
    expect(beat.body.code).toBe('session_not_found');
  });

  it('lets a license key call only the machine routes, and only for its own license', async () => {
    const auth = { headers: { authorization: `License ${license.license_key}` } };
    expect((await call(t.app, 'GET', '/api/v1/licenses', undefined, auth)).status).toBe(403);
    expect((await call(t.app, 'GET', `/api/v1/licenses/${license.id}`, undefined, auth)).status).toBe(403);
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, auth)).status).toBe(403);
    const other = (await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 1 }, { tenant: acme })).body;
    const cross = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: other.license_key, fingerprint: 'z' },
      auth,
    );
    expect(cross.status).toBe(404);
  });

  it('refuses an unknown or malformed license key with 401', async () => {
    for (const header of ['License lk_doesnotexist', 'License nonsense', 'License ']) {
      const res = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${license.license_key}`, undefined, {
        headers: { authorization: header },
      });
      expect(res.status, header).toBe(401);
    }
  });

  it('refuses bad input with a clear 4xx that changes nothing', async () => {
    const bad: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/licenses', { max_seats: 0 }],
      ['POST', '/api/v1/licenses', { max_seats: '5' }],
      ['POST', '/api/v1/licenses', { max_seats: 5, unknown: true }],
      [
        'POST',
        '/api/v1/licenses',
        { max_seats: 5, policy: { session_ttl_seconds: 30, heartbeat_interval_seconds: 60 } },
      ],
      ['POST', '/api/v1/licenses', '{"max_seats": 5'],
      ['POST', '/api/v1/licenses/acquire', { license_key: "lk_'; drop table licenses; --", fingerprint: 'a' }],
      ['POST', '/api/v1/licenses/acquire', { license_key: license.license_key, fingerprint: '' }],
      ['POST', '/api/v1/licenses/heartbeat', { session_id: 'ses_nope' }],
      ['POST', '/api/v1/licenses/heartbeat', {}],
      ['DELETE', '/api/v1/licenses/release', { session_id: 42 }],
      ['GET', '/api/v1/licenses/lic_123', undefined],
      ['GET', '/api/v1/analytics/usage?from=yesterday&to=now', undefined],
    ];
    const count = async () => (await t.db.owner.query('select count(*)::int as n from licenses')).rows[0].n;
    const before = await count();
    for (const [method, url, body] of bad) {
      const res = await call(t.app, method, url, body, { tenant: acme });
      expect(res.status, `${method} ${url} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${url}`).toBeLessThan(500);
    }
    expect(await count()).toBe(before);
  });
});

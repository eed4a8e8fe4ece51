import { fromPublicId } from '@atrium/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, seatStoreModes, type TestApp } from '../../../test/app.ts';
import { tenantSnapshot } from '../../../test/snapshot.ts';

/** Bad acquire metadata is a 400 problem document on both seat stores, and no seat, row or Redis key changes. */

const { redis, redisPrefix, modes } = seatStoreModes();

const tooManyKeys = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]));

const badMetadata: Array<[string, unknown]> = [
  ['more than 16 keys', tooManyKeys],
  ['a key longer than 64 characters', { ['k'.repeat(65)]: 'v' }],
  ['an empty key', { '': 'v' }],
  ['a string value longer than 256 characters', { note: 'v'.repeat(257) }],
  ['a nested object', { nested: { a: 1 } }],
  ['an array value', { list: [1, 2] }],
  ['a boolean value', { flag: true }],
  ['a null value', { gone: null }],
  ['a key with a line break and an object value', { 'a\nb': { a: 1 } }],
  ['a NUL character', { note: 'a\u0000b' }],
  ['an array instead of an object', ['a']],
];

describe.each(modes)('acquire metadata on the %s seat store', (_mode, make) => {
  let t: TestApp;
  let org: string;
  let licenseKey: string;
  beforeAll(async () => {
    t = await make();
    org = await createOrganization(t.app, 'Metadata');
    const created = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 2 }, { tenant: org });
    licenseKey = created.body.license_key;
    // One live lease, so the Redis lease set exists and must stay as it is.
    const held = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: licenseKey, fingerprint: 'held', metadata: { host: 'a' } },
      { tenant: org },
    );
    expect(held.status).toBe(201);
    await t.app.licensing.journal.flush();
  });
  afterAll(() => t.close());

  async function redisState() {
    // Seat keys only: the shared rate limiter counts every request under the same prefix.
    const keys = (await redis.keys(`${redisPrefix}{lic:*`)).sort();
    return Promise.all(keys.map(async (key) => [key, await redis.dump(key)]));
  }

  /** Sends an acquire with this metadata, expects a 400 problem, and checks no row or Redis key changed. */
  async function expectRefused(metadata: unknown) {
    const tenantId = fromPublicId('organization', org) as string;
    const before = await tenantSnapshot(t.db.owner, tenantId);
    const redisBefore = await redisState();
    const response = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: licenseKey, fingerprint: 'new', metadata },
      { tenant: org },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    await t.app.licensing.journal.flush();
    expect(await tenantSnapshot(t.db.owner, tenantId)).toEqual(before);
    expect(await redisState()).toEqual(redisBefore);
    return response.body;
  }

  it.each(badMetadata)('refuses %s with 400 and changes nothing', async (_case, metadata) => {
    const problem = await expectRefused(metadata);
    expect(problem).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(problem.errors?.[0]?.path).toMatch(/^\/body\/metadata/);
  });

  // A lone surrogate is valid in a JS string and in JSON, but not in PostgreSQL's jsonb: it would fail the whole
  // batch of acquires (and of journal rows) it travels in. The body parser refuses it for every route (I-JSON);
  // the metadata schema refuses it too (packages/contracts), which the published OpenAPI document shows.
  it.each([
    ['a value', { note: 'a\ud800b' }],
    ['a key', { 'k\udc00': 'v' }],
  ])('refuses a lone surrogate in %s with 400 and changes nothing', async (_case, metadata) => {
    expect(await expectRefused(metadata)).toMatchObject({ status: 400, code: 'malformed_json' });
  });

  it('accepts characters outside the Basic Multilingual Plane (surrogate pairs)', async () => {
    const metadata = { 'host-😀': 'build 🚀 ünïcode ✓' };
    const response = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: licenseKey, fingerprint: 'astral', metadata },
      { tenant: org },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${licenseKey}`, undefined, {
      tenant: org,
    });
    const session = status.body.sessions.find((s: { fingerprint: string }) => s.fingerprint === 'astral');
    expect(session.metadata).toEqual(metadata);
    await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id: response.body.session_id }, { tenant: org });
  });

  it('accepts the largest metadata the contract allows', async () => {
    const largest = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`${i}`.padStart(64, 'k'), i % 2 ? 'v'.repeat(256) : i]),
    );
    const response = await call(
      t.app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: licenseKey, fingerprint: 'largest', metadata: largest },
      { tenant: org },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const status = await call(t.app, 'GET', `/api/v1/licenses/status?license_key=${licenseKey}`, undefined, {
      tenant: org,
    });
    const session = status.body.sessions.find((s: { fingerprint: string }) => s.fingerprint === 'largest');
    expect(session.metadata).toEqual(largest);
  });
});

import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';
import { LicenseClient } from '../src/license-client.ts';
import { TokenVerificationError, verifyLicenseToken } from '../src/verify.ts';

/** The SDK against a real server on a free port: seats held, renewed, lost and regained, verified offline. */

let t: TestApp;
let baseUrl: string;
let org: string;
let root: JWK;

beforeAll(async () => {
  t = await createTestApp({ journalFlushIntervalMs: 10 });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  org = await createOrganization(t.app, 'SDK');
  const jwks = await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json();
  root = (jwks as { keys: JWK[] }).keys.find((k) => k.alg === 'RS256') as JWK;
});
afterAll(() => t.close());

async function licenseKey(policy: Record<string, number> = {}) {
  const res = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 1, policy }, { tenant: org });
  return res.body.license_key as string;
}

const until = (client: LicenseClient, event: 'renewed' | 'lost' | 'acquired') =>
  new Promise((resolve) => client.once(event, resolve));

describe('LicenseClient', () => {
  it('holds a seat, heartbeats on the server cadence, and releases it on stop', async () => {
    const key = await licenseKey({ session_ttl_seconds: 3, heartbeat_interval_seconds: 1 });
    const client = new LicenseClient({ baseUrl, licenseKey: key, fingerprint: 'sdk-1', rootJwk: root });
    const lease = await client.start();
    expect(lease.heartbeat_interval_seconds).toBe(1);
    await until(client, 'renewed');
    expect((await client.status()).seats).toEqual({ used: 1, max: 1 });
    await client.stop();
    expect((await client.status()).seats).toEqual({ used: 0, max: 1 });
  });

  it('acquires again when the server says the session is gone', async () => {
    const key = await licenseKey({ session_ttl_seconds: 3, heartbeat_interval_seconds: 1 });
    const client = new LicenseClient({ baseUrl, licenseKey: key, fingerprint: 'sdk-2' });
    const first = await client.start();
    // Someone (an admin, another process) releases the session behind the client's back.
    await call(t.app, 'DELETE', '/api/v1/licenses/release', { session_id: first.session_id }, { tenant: org });
    const lost = until(client, 'lost');
    const regained = until(client, 'acquired');
    expect(await lost).toEqual({ reason: 'session_not_found' });
    await regained;
    expect(client.current?.session_id).not.toBe(first.session_id);
    await client.stop();
  });

  it('retries a heartbeat that failed on the network, with jittered backoff, and keeps the seat', async () => {
    const key = await licenseKey({ session_ttl_seconds: 3, heartbeat_interval_seconds: 1 });
    let failures = 2;
    const flaky: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/heartbeat') && failures > 0) {
        failures -= 1;
        throw new TypeError('fetch failed'); // what undici throws when the connection is refused
      }
      return fetch(input, init);
    };
    const client = new LicenseClient({ baseUrl, licenseKey: key, fingerprint: 'sdk-4', fetch: flaky });
    const errors: Error[] = [];
    client.on('error', (err) => errors.push(err));
    const lease = await client.start();
    const started = Date.now();
    await until(client, 'renewed');
    // Two failures, each retried after 250-500 ms (half the cadence at most), then the heartbeat goes through.
    expect(errors.map((err) => err.message)).toEqual(['fetch failed', 'fetch failed']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000 + 2 * 250 - 50);
    expect(client.current?.session_id).toBe(lease.session_id);
    expect((await client.status()).seats).toEqual({ used: 1, max: 1 });
    await client.stop();
  });

  it('forgets a lease released while its heartbeat was in flight', async () => {
    const key = await licenseKey({ session_ttl_seconds: 3, heartbeat_interval_seconds: 1 });
    const sent = Promise.withResolvers<void>();
    const answered = Promise.withResolvers<void>();
    const slow: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith('/heartbeat')) {
        sent.resolve();
        await answered.promise;
      }
      return response;
    };
    const client = new LicenseClient({ baseUrl, licenseKey: key, fingerprint: 'sdk-5', fetch: slow });
    const renewed: unknown[] = [];
    client.on('renewed', (r) => renewed.push(r));
    await client.acquire();
    const beat = client.heartbeat();
    await sent.promise;
    await client.stop();
    answered.resolve();
    await beat;
    expect(client.current).toBeNull();
    expect(renewed).toEqual([]);
    expect((await client.status()).seats).toEqual({ used: 0, max: 1 });
  });

  it('verifies its token offline with only the pinned root, and refuses a forged or stale one', async () => {
    const key = await licenseKey();
    const client = new LicenseClient({ baseUrl, licenseKey: key, fingerprint: 'sdk-3', rootJwk: root });
    const lease = await client.acquire();
    const claims = await client.verifyOffline();
    expect(claims).toMatchObject({ sid: lease.session_id, fpr: 'sdk-3', seats: { used: 1, max: 1 } });
    const [header, payload, signature] = lease.token.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString());
    forged.seats.max = 1000;
    const forgedToken = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
    await expect(verifyLicenseToken(forgedToken, { rootJwk: root })).rejects.toThrow(TokenVerificationError);
    const later = new Date(Date.now() + 2 * 3600_000);
    await expect(
      verifyLicenseToken(lease.token, { rootJwk: root, offlinePeriodSeconds: 3600, now: later }),
    ).rejects.toThrow(/offline period/);
    const otherRoot = { ...root, n: Buffer.alloc(512, 7).toString('base64url') };
    await expect(verifyLicenseToken(lease.token, { rootJwk: otherRoot })).rejects.toThrow(/pinned root/);
    await client.release();
  });
});

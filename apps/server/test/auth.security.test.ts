import { SecretBox } from '@atrium/core';
import { decodeJwt, generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestApp, type SignedUp, signUp, type TestApp, testSecretKey } from '../../../test/app.ts';

let t: TestApp;
let person: SignedUp;
beforeAll(async () => {
  t = await createTestApp();
  person = await signUp(t.app);
});
afterAll(() => t.close());

const password = 'correct horse battery staple';

/** Signs a token with the server's real current key (read from the database), with chosen claims. */
async function forge(claims: Record<string, unknown>, expiresAt: number) {
  const { rows } = await t.db.owner.query(
    'select kid, private_jwk_encrypted from auth_signing_keys order by created_at desc limit 1',
  );
  const key = await importJWK(JSON.parse(new SecretBox(testSecretKey).open(rows[0].private_jwk_encrypted)), 'ES256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: rows[0].kid, typ: 'at+jwt' })
    .setIssuer('http://localhost:8080')
    .setAudience('atrium')
    .setIssuedAt(expiresAt - 3600)
    .setExpirationTime(expiresAt)
    .sign(key);
}

describe('sign-in failures', () => {
  it('answers an unknown email and a wrong password with the same 401', async () => {
    const unknown = await call(t.app, 'POST', '/api/v1/auth/login', { email: 'nobody@example.com', password });
    const wrong = await call(t.app, 'POST', '/api/v1/auth/login', { email: person.email, password: 'not the one' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
  });

  it('refuses a second account with the same email, and weak or malformed input', async () => {
    const again = await call(t.app, 'POST', '/api/v1/auth/register', { email: person.email, password });
    expect(again.body.code).toBe('email_taken');
    const weak = await call(t.app, 'POST', '/api/v1/auth/register', { email: 'weak@example.com', password: 'short' });
    expect(weak.status).toBe(400);
    const email = await call(t.app, 'POST', '/api/v1/auth/register', { email: 'not-an-email', password });
    expect(email.status).toBe(400);
    const { rows } = await t.db.owner.query("select count(*)::int as n from users where email like 'weak%'");
    expect(rows[0].n).toBe(0);
  });
});

describe('access tokens', () => {
  it('refuses an expired token', async () => {
    const expired = await forge(
      { sub: person.userId, org: person.organizationId, sid: 'x', amr: ['pwd'] },
      Math.floor(Date.now() / 1000) - 10,
    );
    const response = await call(t.app, 'GET', '/api/v1/workspaces', undefined, { token: expired });
    expect(response.status).toBe(401);
  });

  it('refuses a token whose payload was altered, and one signed by an unknown key', async () => {
    const [header, , signature] = person.accessToken.split('.');
    const payload = Buffer.from(
      JSON.stringify({ ...decodeJwt(person.accessToken), org: 'org_00000000000000000000000000000000' }),
    ).toString('base64url');
    const tampered = await call(t.app, 'GET', '/api/v1/me', undefined, { token: `${header}.${payload}.${signature}` });
    expect(tampered.status).toBe(401);

    const { privateKey } = await generateKeyPair('ES256');
    const stranger = await new SignJWT({ org: person.organizationId, sid: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'at+jwt' })
      .setSubject(person.userId)
      .setIssuer('http://localhost:8080')
      .setAudience('atrium')
      .setExpirationTime('1h')
      .sign(privateKey);
    expect((await call(t.app, 'GET', '/api/v1/me', undefined, { token: stranger })).status).toBe(401);
  });

  it('refuses alg=none', async () => {
    const body = Buffer.from(JSON.stringify(decodeJwt(person.accessToken))).toString('base64url');
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${body}.`;
    expect((await call(t.app, 'GET', '/api/v1/me', undefined, { token: none })).status).toBe(401);
  });
});

describe('X-Tenant-ID', () => {
  it("switches to another of the person's organizations, and refuses one they do not belong to", async () => {
    const second = await call(
      t.app,
      'POST',
      '/api/v1/organizations',
      { name: 'Second' },
      { token: person.accessToken },
    );
    const asSecond = { token: person.accessToken, headers: { 'x-tenant-id': second.body.id } };
    const created = await call(t.app, 'POST', '/api/v1/workspaces', { name: 'In second' }, asSecond);
    expect(created.status).toBe(201);
    const inFirst = await call(t.app, 'GET', '/api/v1/workspaces', undefined, { token: person.accessToken });
    expect(inFirst.body.data.map((w: { name: string }) => w.name)).not.toContain('In second');

    const stranger = await signUp(t.app);
    const foreign = { token: person.accessToken, headers: { 'x-tenant-id': stranger.organizationId } };
    const refused = await call(t.app, 'GET', '/api/v1/workspaces', undefined, foreign);
    expect(refused.status).toBe(403);
    const malformed = { token: person.accessToken, headers: { 'x-tenant-id': "org_1' or '1'='1" } };
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, malformed)).status).toBe(403);
  });
});

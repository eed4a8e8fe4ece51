import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestApp, signUp, type TestApp } from '../../../test/app.ts';
import { startTestIssuer, type TestIssuer } from '../../../test/oidc-issuer.ts';

let issuer: TestIssuer;
let other: TestIssuer;
let t: TestApp;
const existingEmail = `existing-${Date.now()}@example.com`;

beforeAll(async () => {
  const accounts = {
    alice: { sub: 'alice-1', email: 'alice@example.com', email_verified: true, name: 'Alice' },
    existing: { sub: 'existing-1', email: existingEmail, email_verified: true },
    unverified: { sub: 'unverified-1', email: 'mallory@example.com', email_verified: false },
  };
  issuer = await startTestIssuer(accounts);
  other = await startTestIssuer(accounts, 'someone-else');
  t = await createTestApp({
    oidcIssuers: [
      { issuer: issuer.issuer, audience: issuer.clientId },
      { issuer: other.issuer, audience: 'atrium-test' },
    ],
  });
});
afterAll(async () => {
  await t.close();
  await issuer.close();
  await other.close();
});

describe('sign-in with a trusted OpenID Connect issuer', () => {
  it('creates an account and organization for a new person, then signs the same person in again', async () => {
    const first = await call(t.app, 'POST', '/api/v1/auth/oidc', { id_token: await issuer.idTokenFor('alice') });
    expect(first.status).toBe(200);
    expect(decodeJwt(first.body.access_token).amr).toEqual(['oidc']);
    const me = await call(t.app, 'GET', '/api/v1/me', undefined, { token: first.body.access_token });
    expect(me.body.user).toMatchObject({ email: 'alice@example.com', name: 'Alice', email_verified: true });
    expect(me.body.memberships).toHaveLength(1);

    const again = await call(t.app, 'POST', '/api/v1/auth/oidc', { id_token: await issuer.idTokenFor('alice') });
    expect(decodeJwt(again.body.access_token).sub).toBe(me.body.user.id);
  });

  it('links to an existing account by verified email', async () => {
    const person = await signUp(t.app, { email: existingEmail });
    const response = await call(t.app, 'POST', '/api/v1/auth/oidc', { id_token: await issuer.idTokenFor('existing') });
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token).sub).toBe(person.userId);
  });

  it('does not link or create an account from an unverified email', async () => {
    const response = await call(t.app, 'POST', '/api/v1/auth/oidc', {
      id_token: await issuer.idTokenFor('unverified'),
    });
    expect(response.status).toBe(401);
  });

  it('refuses a token for another audience, from an unknown issuer, or with a key it cannot find', async () => {
    const wrongAudience = await call(t.app, 'POST', '/api/v1/auth/oidc', { id_token: await other.idTokenFor('alice') });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.body.detail).toContain('aud');

    const untrusted = await createTestApp();
    try {
      const response = await call(untrusted.app, 'POST', '/api/v1/auth/oidc', {
        id_token: await issuer.idTokenFor('alice'),
      });
      expect(response.status).toBe(401);
      expect(response.body.detail).toContain('does not trust');
    } finally {
      await untrusted.close();
    }

    const token = await issuer.idTokenFor('alice');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const unknownKid = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), kid: 'unknown-kid' }),
    ).toString('base64url');
    const refused = await call(t.app, 'POST', '/api/v1/auth/oidc', {
      id_token: `${unknownKid}.${payload}.${signature}`,
    });
    expect(refused.status).toBe(401);
  });
});

import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestApp, signUp, type TestApp } from '../../../test/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const password = 'correct horse battery staple';

describe('sign-up and sign-in', () => {
  it('registers a person with their organization, as owner, and returns a session', async () => {
    const response = await call(t.app, 'POST', '/api/v1/auth/register', {
      email: 'Ada@Example.com',
      password,
      name: 'Ada',
      organization: { name: 'Analytical Engines', slug: 'analytical' },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      user: { id: expect.stringMatching(/^usr_/), email: 'ada@example.com' },
      organization: { id: expect.stringMatching(/^org_/), slug: 'analytical' },
      token_type: 'Bearer',
      expires_in: 3600,
    });
    const me = await call(t.app, 'GET', '/api/v1/me', undefined, { token: response.body.access_token });
    expect(me.body.memberships).toEqual([
      expect.objectContaining({ role: 'owner', organization: expect.objectContaining({ slug: 'analytical' }) }),
    ]);
    const stored = await t.db.owner.query("select password_hash from users where email = 'ada@example.com'");
    expect(stored.rows[0].password_hash).toMatch(/^\$argon2id\$/);
  });

  it('signs in with email and password, whatever the case of the email', async () => {
    const person = await signUp(t.app);
    const response = await call(t.app, 'POST', '/api/v1/auth/login', { email: person.email.toUpperCase(), password });
    expect(response.status).toBe(200);
    const claims = decodeJwt(response.body.access_token);
    expect(claims).toMatchObject({ sub: person.userId, org: person.organizationId, aud: 'atrium', amr: ['pwd'] });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
  });

  it('publishes the signing keys and OIDC discovery so anyone can verify access tokens', async () => {
    const person = await signUp(t.app);
    const jwks = (await call(t.app, 'GET', '/.well-known/jwks.json')).body;
    const { kid } = decodeProtectedHeader(person.accessToken);
    const jwk = jwks.keys.find((key: { kid: string }) => key.kid === kid);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(jwk.d).toBeUndefined();
    const verified = await jwtVerify(person.accessToken, await importJWK(jwk, 'ES256'));
    expect(verified.payload.sub).toBe(person.userId);
    const discovery = (await call(t.app, 'GET', '/.well-known/openid-configuration')).body;
    expect(discovery.jwks_uri).toMatch(/\/.well-known\/jwks.json$/);
  });
});

describe('refresh tokens', () => {
  it('rotates: each refresh token works once and gives a new pair', async () => {
    const person = await signUp(t.app);
    const first = await call(t.app, 'POST', '/api/v1/auth/refresh', { refresh_token: person.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(person.refreshToken);
    const second = await call(t.app, 'POST', '/api/v1/auth/refresh', { refresh_token: first.body.refresh_token });
    expect(second.status).toBe(200);
    expect((await call(t.app, 'GET', '/api/v1/me', undefined, { token: second.body.access_token })).status).toBe(200);
  });

  it('revokes the whole family when a used refresh token comes back', async () => {
    const person = await signUp(t.app);
    const rotated = await call(t.app, 'POST', '/api/v1/auth/refresh', { refresh_token: person.refreshToken });
    const replay = await call(t.app, 'POST', '/api/v1/auth/refresh', { refresh_token: person.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.detail).toContain('already used');
    // The thief's replay ended the legitimate session too: its newest tokens stop working.
    const legit = await call(t.app, 'POST', '/api/v1/auth/refresh', { refresh_token: rotated.body.refresh_token });
    expect(legit.status).toBe(401);
    const me = await call(t.app, 'GET', '/api/v1/me', undefined, { token: rotated.body.access_token });
    expect(me.status).toBe(401);
  });

  it('logout ends the session: access and refresh tokens stop working at once', async () => {
    const person = await signUp(t.app);
    expect((await call(t.app, 'POST', '/api/v1/auth/logout', undefined, { token: person.accessToken })).status).toBe(
      204,
    );
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, { token: person.accessToken })).status).toBe(401);
    const refreshed = await call(t.app, 'POST', '/api/v1/auth/refresh', { refresh_token: person.refreshToken });
    expect(refreshed.status).toBe(401);
  });

  it('stores refresh tokens only as hashes', async () => {
    const person = await signUp(t.app);
    const { rows } = await t.db.owner.query('select token_hash from refresh_tokens');
    expect(rows.some((row) => row.token_hash === person.refreshToken)).toBe(false);
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.token_hash))).toBe(true);
  });
});

describe('two-factor authentication', () => {
  it('enrols with TOTP, then requires a code at sign-in, accepts recovery codes once, and turns off', async () => {
    const person = await signUp(t.app);
    const auth = { token: person.accessToken };
    const enrol = await call(t.app, 'POST', '/api/v1/me/mfa/totp', undefined, auth);
    expect(enrol.body.otpauth_url).toContain('otpauth://totp/');
    const { secret } = enrol.body;
    const confirmed = await call(
      t.app,
      'POST',
      '/api/v1/me/mfa/totp/confirm',
      { code: await generate({ secret }) },
      auth,
    );
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recovery_codes).toHaveLength(10);

    const withoutCode = await call(t.app, 'POST', '/api/v1/auth/login', { email: person.email, password });
    expect(withoutCode.status).toBe(401);
    expect(withoutCode.body.code).toBe('mfa_required');
    const wrongCode = await call(t.app, 'POST', '/api/v1/auth/login', {
      email: person.email,
      password,
      totp: '000000',
    });
    expect(wrongCode.body.code).toBe('unauthenticated');
    const withCode = await call(t.app, 'POST', '/api/v1/auth/login', {
      email: person.email,
      password,
      totp: await generate({ secret }),
    });
    expect(withCode.status).toBe(200);
    expect(decodeJwt(withCode.body.access_token).amr).toEqual(['pwd', 'otp']);

    const recovery = confirmed.body.recovery_codes[0];
    const once = await call(t.app, 'POST', '/api/v1/auth/login', { email: person.email, password, totp: recovery });
    expect(once.status).toBe(200);
    const twice = await call(t.app, 'POST', '/api/v1/auth/login', { email: person.email, password, totp: recovery });
    expect(twice.status).toBe(401);

    const off = await call(t.app, 'DELETE', '/api/v1/me/mfa/totp', { code: await generate({ secret }) }, auth);
    expect(off.status).toBe(204);
    expect((await call(t.app, 'POST', '/api/v1/auth/login', { email: person.email, password })).status).toBe(200);
    const { rows } = await t.db.owner.query('select totp_secret_encrypted from users where email = $1', [person.email]);
    expect(rows[0].totp_secret_encrypted).toBeNull();
  });

  it('stores the TOTP secret sealed, never in clear', async () => {
    const person = await signUp(t.app);
    const enrol = await call(t.app, 'POST', '/api/v1/me/mfa/totp', undefined, { token: person.accessToken });
    const { rows } = await t.db.owner.query('select totp_secret_encrypted from users where email = $1', [person.email]);
    expect(rows[0].totp_secret_encrypted).toMatch(/^v1\./);
    expect(rows[0].totp_secret_encrypted).not.toContain(enrol.body.secret);
  });
});

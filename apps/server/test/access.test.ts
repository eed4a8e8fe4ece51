import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestApp, type SignedUp, signUp, type TestApp } from '../../../test/app.ts';

let t: TestApp;
let owner: SignedUp;
beforeAll(async () => {
  t = await createTestApp();
  owner = await signUp(t.app, { organization: 'Access Org' });
});
afterAll(() => t.close());

const asOwner = (method: string, url: string, body?: unknown) =>
  call(t.app, method, url, body, { token: owner.accessToken });

/** Invites a new person with `role` and has them accept; returns their session in the organization. */
async function join(role: string) {
  const person = await signUp(t.app);
  const invitation = await asOwner('POST', `/api/v1/organizations/${owner.organizationId}/invitations`, {
    email: person.email,
    role,
  });
  expect(invitation.status).toBe(201);
  const accepted = await call(
    t.app,
    'POST',
    '/api/v1/invitations/accept',
    { token: invitation.body.token },
    { token: person.accessToken },
  );
  expect(accepted.body).toEqual({ organization: { id: owner.organizationId }, role });
  return { ...person, as: { token: person.accessToken, headers: { 'x-tenant-id': owner.organizationId } } };
}

describe('roles', () => {
  it('lets readonly members read but not write', async () => {
    const reader = await join('readonly');
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, reader.as)).status).toBe(200);
    const write = await call(t.app, 'POST', '/api/v1/workspaces', { name: 'Nope' }, reader.as);
    expect(write.status).toBe(403);
    expect(write.body.code).toBe('forbidden');
  });

  it('lets members write but not manage keys or people', async () => {
    const member = await join('member');
    expect((await call(t.app, 'POST', '/api/v1/workspaces', { name: 'By member' }, member.as)).status).toBe(201);
    expect((await call(t.app, 'POST', '/api/v1/api-keys', { name: 'k', role: 'member' }, member.as)).status).toBe(403);
    const invite = await call(
      t.app,
      'POST',
      `/api/v1/organizations/${owner.organizationId}/invitations`,
      { email: 'x@example.com', role: 'member' },
      member.as,
    );
    expect(invite.status).toBe(403);
  });

  it('lets admins manage members but not owners', async () => {
    const admin = await join('admin');
    const target = await join('member');
    const members = (
      await call(t.app, 'GET', `/api/v1/organizations/${owner.organizationId}/members`, undefined, admin.as)
    ).body;
    const targetMembership = members.find((m: { user: { email: string } }) => m.user.email === target.email);
    const ownerMembership = members.find((m: { role: string }) => m.role === 'owner');
    const url = (id: string) => `/api/v1/organizations/${owner.organizationId}/members/${id}`;
    expect((await call(t.app, 'PATCH', url(targetMembership.id), { role: 'readonly' }, admin.as)).body.role).toBe(
      'readonly',
    );
    expect((await call(t.app, 'PATCH', url(targetMembership.id), { role: 'owner' }, admin.as)).status).toBe(403);
    expect((await call(t.app, 'DELETE', url(ownerMembership.id), undefined, admin.as)).status).toBe(403);
  });

  it('never leaves an organization without an owner', async () => {
    const solo = await signUp(t.app);
    const members = (
      await call(t.app, 'GET', `/api/v1/organizations/${solo.organizationId}/members`, undefined, {
        token: solo.accessToken,
      })
    ).body;
    const response = await call(
      t.app,
      'PATCH',
      `/api/v1/organizations/${solo.organizationId}/members/${members[0].id}`,
      { role: 'admin' },
      { token: solo.accessToken },
    );
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('last_owner');
  });
});

describe('members and invitations', () => {
  it('removing a member ends their sessions in that organization at once', async () => {
    const member = await join('member');
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, member.as)).status).toBe(200);
    const members = (await asOwner('GET', `/api/v1/organizations/${owner.organizationId}/members`)).body;
    const membership = members.find((m: { user: { email: string } }) => m.user.email === member.email);
    expect(
      (await asOwner('DELETE', `/api/v1/organizations/${owner.organizationId}/members/${membership.id}`)).status,
    ).toBe(204);
    const after = await call(t.app, 'GET', '/api/v1/workspaces', undefined, member.as);
    expect(after.status).toBe(403);
    // Their own organization still works.
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, { token: member.accessToken })).status).toBe(200);
  });

  it('refuses an invitation used by another email, twice, or after revocation', async () => {
    const invited = await signUp(t.app);
    const intruder = await signUp(t.app);
    const invitation = await asOwner('POST', `/api/v1/organizations/${owner.organizationId}/invitations`, {
      email: invited.email,
      role: 'member',
    });
    const wrong = await call(
      t.app,
      'POST',
      '/api/v1/invitations/accept',
      { token: invitation.body.token },
      { token: intruder.accessToken },
    );
    expect(wrong.status).toBe(403);
    const ok = await call(
      t.app,
      'POST',
      '/api/v1/invitations/accept',
      { token: invitation.body.token },
      { token: invited.accessToken },
    );
    expect(ok.status).toBe(200);
    const twice = await call(
      t.app,
      'POST',
      '/api/v1/invitations/accept',
      { token: invitation.body.token },
      { token: invited.accessToken },
    );
    expect(twice.status).toBe(404);

    const revoked = await asOwner('POST', `/api/v1/organizations/${owner.organizationId}/invitations`, {
      email: intruder.email,
      role: 'member',
    });
    await asOwner('DELETE', `/api/v1/organizations/${owner.organizationId}/invitations/${revoked.body.id}`);
    const late = await call(
      t.app,
      'POST',
      '/api/v1/invitations/accept',
      { token: revoked.body.token },
      { token: intruder.accessToken },
    );
    expect(late.status).toBe(404);
  });

  it('refuses an expired invitation', async () => {
    const invited = await signUp(t.app);
    const invitation = await asOwner('POST', `/api/v1/organizations/${owner.organizationId}/invitations`, {
      email: invited.email,
      role: 'member',
    });
    await t.db.owner.query("update invitations set expires_at = now() - interval '1 second' where email = $1", [
      invited.email,
    ]);
    const late = await call(
      t.app,
      'POST',
      '/api/v1/invitations/accept',
      { token: invitation.body.token },
      { token: invited.accessToken },
    );
    expect(late.status).toBe(404);
  });
});

describe('API keys', () => {
  it('is shown once, stored hashed, acts with its role in its organization only, and can be revoked', async () => {
    const created = await asOwner('POST', '/api/v1/api-keys', { name: 'CI', role: 'member' });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^atr_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    const listed = (await asOwner('GET', '/api/v1/api-keys')).body;
    expect(JSON.stringify(listed)).not.toContain(key);
    const { rows } = await t.db.owner.query('select key_hash from api_keys');
    expect(rows.some((row) => row.key_hash === key)).toBe(false);

    const machine = { token: key };
    expect((await call(t.app, 'POST', '/api/v1/workspaces', { name: 'By machine' }, machine)).status).toBe(201);
    expect((await call(t.app, 'GET', '/api/v1/api-keys', undefined, machine)).status).toBe(403);
    const stranger = await signUp(t.app);
    const elsewhere = await call(t.app, 'GET', '/api/v1/workspaces', undefined, {
      token: key,
      headers: { 'x-tenant-id': stranger.organizationId },
    });
    expect(elsewhere.status).toBe(403);
    expect((await call(t.app, 'POST', '/api/v1/organizations', { name: 'x' }, machine)).status).toBe(403);

    // last_used_at is written after the response, off the request path: poll for it rather than guess a delay.
    const lastUsed = async () =>
      (await asOwner('GET', '/api/v1/api-keys')).body.find((k: { id: string }) => k.id === created.body.id)
        .last_used_at;
    await expect.poll(lastUsed, { timeout: 5000 }).not.toBeNull();

    expect((await asOwner('DELETE', `/api/v1/api-keys/${created.body.id}`)).status).toBe(204);
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, machine)).status).toBe(401);
  });

  it('cannot be given more rights than its creator has', async () => {
    const admin = await join('admin');
    const response = await call(t.app, 'POST', '/api/v1/api-keys', { name: 'too strong', role: 'owner' }, admin.as);
    expect(response.status).toBe(403);
  });

  it('refuses keys that are malformed, unknown or for another organization', async () => {
    const forged = `atr_${owner.organizationId.slice(4)}_${'A'.repeat(43)}`;
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, { token: forged })).status).toBe(401);
    expect((await call(t.app, 'GET', '/api/v1/workspaces', undefined, { token: 'atr_nonsense' })).status).toBe(401);
  });
});

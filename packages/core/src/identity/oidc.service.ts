import { newUuid, toPublicId } from '@atrium/contracts';
import { withoutTenant, withUser } from '@atrium/db';
import { createRemoteJWKSet, decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { createOrganization } from '../platform/organizations.service.ts';
import { AtriumError } from '../shared/errors.ts';
import type { IdentityDeps } from './identity.ts';
import { issueTokens, normalizeEmail, type TokenPair } from './sessions.service.ts';
import * as users from './users.repository.ts';

export interface TrustedIssuer {
  issuer: string;
  /** The client id Atrium is registered as at that issuer: ID tokens must be addressed to it. */
  audience: string;
}

/**
 * Sign-in with an ID token from a trusted OpenID Connect provider (Google, Keycloak, Identity Platform, Hydra,
 * GitHub through an OIDC bridge…). Keys are discovered from the issuer and cached by jose (with rotation).
 */
export class OidcSignIn {
  private readonly issuers: Map<string, TrustedIssuer>;
  private readonly keySets = new Map<string, Promise<JWTVerifyGetKey>>();

  constructor(issuers: TrustedIssuer[]) {
    this.issuers = new Map(issuers.map((entry) => [entry.issuer, entry]));
  }

  async signIn(deps: IdentityDeps, idToken: string, organization?: { name: string; slug?: string | undefined }) {
    const claims = await this.verify(idToken);
    const subject = String(claims.sub);
    const issuer = String(claims.iss);
    const email = typeof claims.email === 'string' ? normalizeEmail(claims.email) : null;
    const emailVerified = claims.email_verified === true;
    const linked = await withoutTenant(deps.pool, async (tx) => {
      const { rows } = await tx.query<{ user_id: string }>(
        'select user_id from oidc_identities where issuer = $1 and subject = $2',
        [issuer, subject],
      );
      if (rows[0]) return rows[0].user_id;
      // Linking to an existing account needs an address the issuer vouches for; otherwise anyone could claim it.
      if (!email || !emailVerified) return null;
      const user = await users.findUserByEmail(tx, email);
      if (!user) return null;
      await tx.query('insert into oidc_identities (issuer, subject, user_id) values ($1, $2, $3)', [
        issuer,
        subject,
        user.id,
      ]);
      return user.id;
    });
    if (linked) {
      return withUser(deps.pool, linked, async (tx) => {
        const [first] = await users.membershipsOf(tx, linked);
        return issueTokens(deps, tx, { userId: linked, organizationId: first?.tenant_id ?? null, amr: ['oidc'] });
      });
    }
    if (!email || !emailVerified) {
      throw new AtriumError('unauthenticated', 'the identity provider did not vouch for an email address');
    }
    return this.createAccount(deps, { issuer, subject, email, name: claims.name, organization });
  }

  private async createAccount(
    deps: IdentityDeps,
    account: {
      issuer: string;
      subject: string;
      email: string;
      name: unknown;
      organization?: { name: string; slug?: string | undefined } | undefined;
    },
  ): Promise<TokenPair> {
    const userId = newUuid();
    const name = typeof account.name === 'string' ? account.name.slice(0, 200) : null;
    const actor = { type: 'user' as const, id: toPublicId('user', userId) };
    const created = await createOrganization(
      { pool: deps.pool, actor, requestId: null },
      {
        name: account.organization?.name ?? `${name ?? account.email.split('@')[0]}'s organization`,
        slug: account.organization?.slug,
      },
      undefined,
      async (tx, tenantId) => {
        await users.insertUser(tx, { id: userId, email: account.email, name, passwordHash: null, emailVerified: true });
        await tx.query('insert into oidc_identities (issuer, subject, user_id) values ($1, $2, $3)', [
          account.issuer,
          account.subject,
          userId,
        ]);
        await users.insertMembership(tx, tenantId, newUuid(), userId, 'owner');
        await deps.enqueueEmail?.(tx, { template: 'welcome', to: account.email, tenantId, data: { name } });
        return issueTokens(deps, tx, { userId, organizationId: tenantId, amr: ['oidc'] });
      },
    );
    return created.extra as TokenPair;
  }

  private async verify(idToken: string) {
    let issuer: TrustedIssuer | undefined;
    try {
      issuer = this.issuers.get(String(decodeJwt(idToken).iss));
    } catch {
      throw new AtriumError('unauthenticated', 'the ID token is not a JWT');
    }
    if (!issuer)
      throw new AtriumError('unauthenticated', 'the ID token comes from an issuer this server does not trust');
    try {
      const { payload } = await jwtVerify(idToken, await this.keySet(issuer.issuer), {
        issuer: issuer.issuer,
        audience: issuer.audience,
      });
      return payload;
    } catch (err) {
      this.keySets.delete(issuer.issuer);
      const reason = err instanceof Error ? err.message : 'invalid';
      throw new AtriumError('unauthenticated', `the ID token was refused: ${reason}`);
    }
  }

  private keySet(issuer: string): Promise<JWTVerifyGetKey> {
    let keySet = this.keySets.get(issuer);
    if (!keySet) {
      keySet = (async () => {
        const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
        if (!response.ok) throw new Error(`discovery answered ${response.status}`);
        const discovery = (await response.json()) as { issuer?: string; jwks_uri?: string };
        if (discovery.issuer !== issuer || !discovery.jwks_uri) throw new Error('discovery does not match the issuer');
        return createRemoteJWKSet(new URL(discovery.jwks_uri));
      })();
      this.keySets.set(issuer, keySet);
    }
    return keySet;
  }
}

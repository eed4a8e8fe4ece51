import { withoutTenant } from '@atrium/db';
import { createRemoteJWKSet, decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { AtriumError } from '../shared/errors.ts';
import type { IdentityDeps } from './identity.ts';
import { createAccount, normalizeEmail, startSession } from './sessions.service.ts';
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
      const known = await users.findLinkedUser(tx, issuer, subject);
      if (known) return known;
      // Linking to an existing account needs an address the issuer vouches for; otherwise anyone could claim it.
      if (!email || !emailVerified) return null;
      const user = await users.findUserByEmail(tx, email);
      if (!user) return null;
      await users.linkIdentity(tx, issuer, subject, user.id);
      return user.id;
    });
    if (linked) return startSession(deps, linked, ['oidc']);
    if (!email || !emailVerified) {
      throw new AtriumError('unauthenticated', 'the identity provider did not vouch for an email address');
    }
    const { tokens } = await createAccount(deps, {
      email,
      name: typeof claims.name === 'string' ? claims.name.slice(0, 200) : null,
      passwordHash: null,
      emailVerified: true,
      organization,
      amr: ['oidc'],
      requestId: null,
      within: (tx, userId) => users.linkIdentity(tx, issuer, subject, userId),
    });
    return tokens;
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

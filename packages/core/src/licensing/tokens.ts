import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { LicenseTokenClaims } from '@atrium/contracts';
import type { SigningKeyRing } from './signing-keys.ts';

/**
 * Acquire tokens: JWTs signed in-process by the current short-lived key (Ed25519 by default), the key's
 * root-signed certificate in the `cert` header, so a client holding only the root public key verifies the
 * whole chain offline (ADR 0101). Signing uses node:crypto directly with the header encoded once per key:
 * jose's SignJWT costs about twice as much per token (research/ceilings.md); the output is a standard JWS, and
 * the SDK and the tests verify it with jose.
 */
export class TokenIssuer {
  private readonly ring: SigningKeyRing;
  private readonly headers = new Map<string, string>();
  private readonly publicKeys = new Map<string, KeyObject>();

  constructor(ring: SigningKeyRing) {
    this.ring = ring;
  }

  issue(claims: LicenseTokenClaims): string {
    const key = this.ring.current();
    let header = this.headers.get(key.kid);
    if (!header) {
      header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'JWT', cert: key.certificate })).toString(
        'base64url',
      );
      this.headers.set(key.kid, header);
    }
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature =
      key.alg === 'EdDSA'
        ? sign(null, Buffer.from(input), key.privateKey as KeyObject)
        : sign('sha256', Buffer.from(input), { key: key.privateKey as KeyObject, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /**
   * Checks a token this server (or a sibling process) issued: a known kid, a valid signature, not expired.
   * Returns its claims, or null. The server trusts its own key ring, so the certificate is not re-checked here.
   */
  verify(token: string): LicenseTokenClaims | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header, payload, signature] = parts as [string, string, string];
    let kid: string;
    let claims: LicenseTokenClaims;
    try {
      kid = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')).kid;
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const key = typeof kid === 'string' ? this.ring.byKid(kid) : undefined;
    if (!key) return null;
    let publicKey = this.publicKeys.get(kid);
    if (!publicKey) {
      publicKey = createPublicKey({ key: key.publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      this.publicKeys.set(kid, publicKey);
    }
    const data = Buffer.from(`${header}.${payload}`);
    const bytes = Buffer.from(signature, 'base64url');
    const valid =
      key.alg === 'EdDSA'
        ? verify(null, data, publicKey, bytes)
        : verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, bytes);
    if (!valid || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return null;
    return claims;
  }
}

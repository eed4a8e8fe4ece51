import { compactVerify, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import type { LicenseTokenClaims } from './types.ts';

export interface VerifyOptions {
  /** Only the root's public key is pinned: the signing key comes with the token, certified by the root. */
  rootJwk: JWK;
  /** Accept a token at most this long after it was issued, even if `exp` is later (Default: the token's exp). */
  offlinePeriodSeconds?: number;
  /** For tests and clock-skewed machines (Default: now). */
  now?: Date;
}

export class TokenVerificationError extends Error {}

/**
 * Verifies an acquire token fully offline: the root signature on the signing key's certificate (RS256), the
 * certificate's validity and binding (kid, algorithm), then the token's own signature and expiry.
 */
export async function verifyLicenseToken(token: string, options: VerifyOptions): Promise<LicenseTokenClaims> {
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenVerificationError('not a JWT');
  }
  const certificate = header.cert;
  if (typeof certificate !== 'string' || typeof header.kid !== 'string') {
    throw new TokenVerificationError('the token carries no signing key certificate');
  }
  const root = await importJWK(options.rootJwk, 'RS256');
  let certified: { sub?: string; alg?: string; jwk?: JWK; nbf?: number; exp?: number };
  try {
    const { payload, protectedHeader } = await compactVerify(certificate, root, { algorithms: ['RS256'] });
    if (protectedHeader.kid !== options.rootJwk.kid) throw new Error('certificate names another root');
    certified = JSON.parse(new TextDecoder().decode(payload));
  } catch (err) {
    throw new TokenVerificationError(`the signing key certificate is not signed by the pinned root: ${String(err)}`);
  }
  if (certified.sub !== header.kid || certified.alg !== header.alg || !certified.jwk) {
    throw new TokenVerificationError('the certificate does not certify the key that signed the token');
  }
  if ((certified.nbf ?? 0) > nowSeconds || (certified.exp ?? 0) < nowSeconds) {
    throw new TokenVerificationError('the signing key certificate is not valid now');
  }
  const key = await importJWK(certified.jwk, certified.alg);
  let claims: LicenseTokenClaims;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [certified.alg as string],
      currentDate: options.now ?? new Date(),
    });
    claims = payload as unknown as LicenseTokenClaims;
  } catch (err) {
    throw new TokenVerificationError(`the token does not verify: ${String(err)}`);
  }
  if (options.offlinePeriodSeconds !== undefined && claims.iat + options.offlinePeriodSeconds < nowSeconds) {
    throw new TokenVerificationError('the token is older than the allowed offline period; go online to renew it');
  }
  return claims;
}

import { randomUUID } from 'node:crypto';
import { type Pool, withoutTenant } from '@atrium/db';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AtriumError } from '../shared/errors.ts';
import type { SecretBox } from './secrets.ts';

export interface AccessClaims {
  /** usr_… */
  sub: string;
  /** The organization the session acts in by default (org_…), if any. */
  org: string | null;
  /** The session (refresh token family) this token belongs to; logout revokes it. */
  sid: string;
  /** Authentication methods: pwd, otp, oidc. */
  amr: string[];
  exp: number;
}

interface SigningKey {
  kid: string;
  publicJwk: JWK;
  privateKey: SigningMaterial | null;
  publicKey: SigningMaterial;
  retireAt: Date;
}

export interface AccessTokenOptions {
  pool: Pool;
  secrets: SecretBox;
  issuer: string;
  /** Access token lifetime (Default: 3600 s, as document 001 says). */
  ttlSeconds?: number;
  /** How long one key signs before the next takes over (Default: 30 days). */
  keyRotationSeconds?: number;
}

type SigningMaterial = Awaited<ReturnType<typeof importJWK>>;

const audience = 'atrium';
const algorithm = 'ES256';

/**
 * Issues and verifies access tokens (ES256 JWTs; ES256 signs ~150× faster than the RSA-4096 the document names,
 * see docs/adr/0007-identity.md). Keys live in auth_signing_keys, private halves sealed with the server secret,
 * so every API process signs with the same key and publishes the same JWKS. A verified token is cached until it
 * expires: a request costs a map lookup, not a signature check.
 */
export class AccessTokens {
  readonly ttlSeconds: number;
  private readonly options: AccessTokenOptions;
  private keys = new Map<string, SigningKey>();
  private current: SigningKey | null = null;
  private readonly verified = new Map<string, AccessClaims>();
  private lastReload = 0;

  constructor(options: AccessTokenOptions) {
    this.options = options;
    this.ttlSeconds = options.ttlSeconds ?? 3600;
  }

  get issuer(): string {
    return this.options.issuer;
  }

  /** Loads the published keys, creating (or rotating to) a signing key when none is current. */
  async load(): Promise<void> {
    const rotation = this.options.keyRotationSeconds ?? 30 * 86_400;
    await withoutTenant(this.options.pool, async (tx) => {
      // One process creates the next key; the others wait here and then read it.
      await tx.query(`select pg_advisory_xact_lock(hashtext('atrium_auth_signing_keys'))`);
      const fresh = await tx.query(
        `select 1 from auth_signing_keys where retire_at > now() + make_interval(secs => $1)`,
        [this.ttlSeconds],
      );
      if (fresh.rowCount === 0) {
        const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
        const kid = randomUUID();
        const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' };
        const sealed = this.options.secrets.seal(JSON.stringify(await exportJWK(privateKey)));
        await tx.query(
          `insert into auth_signing_keys (kid, alg, public_jwk, private_jwk_encrypted, retire_at)
           values ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
          [kid, algorithm, publicJwk, sealed, rotation],
        );
      }
      const { rows } = await tx.query<{ kid: string; public_jwk: JWK; private_jwk_encrypted: string; retire_at: Date }>(
        `select kid, public_jwk, private_jwk_encrypted, retire_at from auth_signing_keys
         where retire_at + make_interval(secs => $1) > now() order by created_at`,
        [this.ttlSeconds],
      );
      const keys = new Map<string, SigningKey>();
      for (const row of rows) {
        const known = this.keys.get(row.kid);
        keys.set(
          row.kid,
          known ?? {
            kid: row.kid,
            publicJwk: row.public_jwk,
            publicKey: await importJWK(row.public_jwk, algorithm),
            privateKey: await importJWK(JSON.parse(this.options.secrets.open(row.private_jwk_encrypted)), algorithm),
            retireAt: row.retire_at,
          },
        );
      }
      this.keys = keys;
      const signing = [...keys.values()].filter((key) => key.retireAt.getTime() > Date.now() + this.ttlSeconds * 1000);
      this.current = signing.at(-1) ?? null;
    });
    this.lastReload = Date.now();
  }

  async sign(claims: Omit<AccessClaims, 'exp'>): Promise<{ token: string; expiresIn: number }> {
    // Loaded on first use, not at start: a process must come up (and report not-ready) before migrations ran.
    if (!this.current || this.current.retireAt.getTime() < Date.now() + this.ttlSeconds * 1000) await this.load();
    const key = this.current;
    if (!key?.privateKey) throw new Error('no signing key');
    const token = await new SignJWT({ org: claims.org, sid: claims.sid, amr: claims.amr })
      .setProtectedHeader({ alg: algorithm, kid: key.kid, typ: 'at+jwt' })
      .setSubject(claims.sub)
      .setIssuer(this.options.issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresIn: this.ttlSeconds };
  }

  async verify(token: string): Promise<AccessClaims> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp * 1000 > Date.now()) return cached;
      this.verified.delete(token);
    }
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, (header) => this.publicKey(header.kid), {
        issuer: this.options.issuer,
        audience,
        algorithms: [algorithm],
        typ: 'at+jwt',
      });
      payload = result.payload;
    } catch {
      throw new AtriumError('unauthenticated', 'the access token is not valid or has expired');
    }
    const claims: AccessClaims = {
      sub: String(payload.sub),
      org: typeof payload.org === 'string' ? payload.org : null,
      sid: String(payload.sid),
      amr: Array.isArray(payload.amr) ? payload.amr.map(String) : [],
      exp: Number(payload.exp),
    };
    if (this.verified.size >= 50_000) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, claims);
    return claims;
  }

  /** The JWKS document: every key whose tokens may still be alive. */
  async jwks(): Promise<{ keys: JWK[] }> {
    if (!this.current) await this.load();
    return { keys: [...this.keys.values()].map((key) => key.publicJwk) };
  }

  private async publicKey(kid: string | undefined) {
    let key = kid ? this.keys.get(kid) : undefined;
    // Another process may have rotated (or nothing is loaded yet): reload, at most once a second.
    if (!key && kid && Date.now() - this.lastReload > 1000) {
      await this.load();
      key = this.keys.get(kid);
    }
    if (!key) throw new Error('unknown key id');
    return key.publicKey;
  }
}

import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { type Pool, withoutTenant } from '@atrium/db';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { AtriumError } from '../shared/errors.ts';
import type { RootSigner } from './root-signer.ts';

export type SigningAlgorithm = 'EdDSA' | 'ES256';

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  /** Root-signed compact JWS binding kid, public key and validity (ADR 0101). */
  certificate: string;
  signFromMs: number;
  signUntilMs: number;
  publishUntilMs: number;
  /** Present for keys this process may still sign with. */
  privateKey: KeyObject | null;
}

export interface KeyRingOptions {
  pool: Pool;
  root: RootSigner;
  /** Algorithm of new signing keys (Default: EdDSA, i.e. Ed25519). */
  algorithm?: SigningAlgorithm;
  /** How long one signing key signs before the next takes over (Default: 86400 s). */
  rotationSeconds?: number;
  /** The longest token lifetime any license may ask for: keys stay published that long after they stop signing. */
  maxTokenTtlSeconds: number;
  issuer: string;
  onError?(err: unknown): void;
}

const wrapLabel = Buffer.from('atrium signing-key wrap v1');

function b64url(value: string | Buffer) {
  return Buffer.from(value).toString('base64url');
}

/**
 * The token signing keys every API process shares, kept in the global table `signing_keys` (ADR 0101).
 * A new key is made when the current one is near the end of its signing window, under an advisory lock so
 * that concurrent processes make one; its private part is AES-256-GCM-encrypted under a key derived from a
 * deterministic root signature (RSASSA-PKCS1-v1_5 is deterministic), so only a holder of the root can read it.
 */
export class SigningKeyRing {
  private readonly options: Required<KeyRingOptions>;
  private keys: SigningKey[] = [];
  private wrapKey: Buffer | null = null;
  rootJwk: JWK | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(options: KeyRingOptions) {
    this.options = { algorithm: 'EdDSA', rotationSeconds: 86_400, onError: () => {}, ...options };
  }

  /** Loads the root's public key and the keys; makes a signing key if none can sign. */
  async start(): Promise<void> {
    const rootKey = createPublicKey(await this.options.root.publicKeyPem());
    const jwk = await exportJWK(rootKey);
    this.rootJwk = {
      ...jwk,
      kid: await calculateJwkThumbprint(jwk),
      alg: 'RS256',
      use: 'sig',
      atrium_use: 'license-root',
    } as JWK;
    const secret = await this.options.root.sign(wrapLabel);
    this.wrapKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'atrium-signing-keys', 32));
    // A database that is not migrated yet must not stop the process from starting (/ready reports it): the
    // timer below retries, and acquire answers 503 until a key exists.
    await this.refresh().catch((err: unknown) => this.options.onError?.(err));
    // Rotation is checked often enough that a key is replaced well before its window ends.
    const everyMs = Math.min(60_000, (this.options.rotationSeconds * 1000) / 10);
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.options.onError?.(err)), everyMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The key to sign with now. */
  current(): SigningKey {
    const now = Date.now();
    const key = this.keys.find((k) => k.privateKey && k.signFromMs <= now && now < k.signUntilMs);
    if (!key) throw new AtriumError('service_unavailable', 'no token signing key is available yet; retry shortly');
    return key;
  }

  byKid(kid: string): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /** What /.well-known/jwks.json serves: the root and every still-published signing key with its certificate. */
  jwks(): { keys: JWK[] } {
    const now = Date.now();
    const signing = this.keys
      .filter((k) => k.publishUntilMs > now)
      .map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig', atrium_certificate: k.certificate }));
    return { keys: [this.rootJwk as JWK, ...signing] };
  }

  /** Re-reads the shared table; makes the next key when the current one has under a tenth of its window left. */
  async refresh(): Promise<void> {
    await this.load();
    const margin = (this.options.rotationSeconds * 1000) / 10;
    const now = Date.now();
    const fresh = this.keys.some((k) => k.privateKey && k.signFromMs <= now && k.signUntilMs - margin > now);
    if (!fresh) {
      await this.createKey(margin);
      await this.load();
    }
  }

  private async load() {
    const { rows } = await this.options.pool.query<{
      kid: string;
      alg: SigningAlgorithm;
      public_jwk: JWK;
      private_key_encrypted: Buffer;
      certificate: string;
      sign_from: Date;
      sign_until: Date;
      publish_until: Date;
    }>(
      `select kid, alg, public_jwk, private_key_encrypted, certificate, sign_from, sign_until, publish_until
       from signing_keys where publish_until > now() and root_kid = $1 order by sign_from`,
      [this.rootJwk?.kid],
    );
    const known = new Map(this.keys.map((k) => [k.kid, k]));
    this.keys = rows.map((row) => {
      const signUntilMs = row.sign_until.getTime();
      const cached = known.get(row.kid);
      return {
        kid: row.kid,
        alg: row.alg,
        publicJwk: row.public_jwk,
        certificate: row.certificate,
        signFromMs: row.sign_from.getTime(),
        signUntilMs,
        publishUntilMs: row.publish_until.getTime(),
        privateKey:
          signUntilMs > Date.now() ? (cached?.privateKey ?? this.decrypt(row.kid, row.private_key_encrypted)) : null,
      };
    });
  }

  private async createKey(marginMs: number) {
    await withoutTenant(this.options.pool, async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('atrium_signing_keys'))`);
      // Another process may have made it while this one waited for the lock.
      const { rows } = await tx.query<{ count: number }>(
        `select count(*)::int as count from signing_keys
         where root_kid = $1 and sign_from <= now() and sign_until > now() + $2 * interval '1 millisecond'`,
        [this.rootJwk?.kid, marginMs],
      );
      if ((rows[0]?.count ?? 0) > 0) return;
      const alg = this.options.algorithm;
      const pair =
        alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicJwk = await exportJWK(pair.publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      const now = Date.now();
      const signUntil = now + this.options.rotationSeconds * 1000;
      const publishUntil = signUntil + this.options.maxTokenTtlSeconds * 1000;
      const certificate = await this.certify(kid, alg, publicJwk, now, publishUntil);
      const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
      await tx.query(
        `insert into signing_keys (kid, alg, public_jwk, private_key_encrypted, certificate, root_kid, sign_from,
           sign_until, publish_until) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          kid,
          alg,
          publicJwk,
          this.encrypt(kid, pkcs8),
          certificate,
          this.rootJwk?.kid,
          new Date(now),
          new Date(signUntil),
          new Date(publishUntil),
        ],
      );
    });
  }

  /** The certificate: a compact JWS (RS256, by the root) whose payload binds kid, key and validity. */
  private async certify(kid: string, alg: SigningAlgorithm, jwk: JWK, fromMs: number, untilMs: number) {
    const header = { alg: 'RS256', kid: this.rootJwk?.kid, typ: 'atrium-key-cert+jwt' };
    const payload = {
      iss: this.options.issuer,
      sub: kid,
      alg,
      jwk,
      iat: Math.floor(fromMs / 1000),
      nbf: Math.floor(fromMs / 1000) - 60,
      exp: Math.ceil(untilMs / 1000),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = await this.options.root.sign(Buffer.from(input));
    return `${input}.${signature.toString('base64url')}`;
  }

  private encrypt(kid: string, plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.wrapKey as Buffer, iv);
    cipher.setAAD(Buffer.from(kid));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  private decrypt(kid: string, sealed: Buffer): KeyObject {
    const decipher = createDecipheriv('aes-256-gcm', this.wrapKey as Buffer, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(sealed.subarray(12, 28));
    const plain = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
    return createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
  }
}

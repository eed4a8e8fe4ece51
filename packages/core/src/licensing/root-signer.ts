import { createPublicKey, generateKeyPair, sign } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The long-lived root of trust: an RSA-4096 key that signs (RSASSA-PKCS1-v1_5, SHA-256) only the certificates
 * of short-lived token signing keys, never a token (DESIGN.md §1: about 260 RSA-4096 signatures per second per
 * core, far too slow for acquire). Three holders: a local key file, Google Cloud KMS, AWS KMS.
 */
export interface RootSigner {
  readonly kind: 'local' | 'gcp-kms' | 'aws-kms';
  /** The RSA public key, SPKI PEM. */
  publicKeyPem(): Promise<string>;
  /** RS256 signature of `data` (the signer hashes it; the KMS variants send the SHA-256 digest). */
  sign(data: Buffer): Promise<Buffer>;
}

/**
 * A root key in a file (the embedded default): generated on first start, PEM with mode 0600. Several processes
 * starting at once on one data directory each generate a key, but only the first `link` wins: the others read
 * the winner's file, so they all share one root.
 */
export class LocalRootSigner implements RootSigner {
  readonly kind = 'local';
  private readonly path: string;
  private privatePem: string | null = null;

  constructor(path: string) {
    this.path = path;
  }

  static inDataDir(dataDir: string): LocalRootSigner {
    return new LocalRootSigner(join(dataDir, 'license-root-key.pem'));
  }

  private async load(): Promise<string> {
    if (this.privatePem) return this.privatePem;
    try {
      this.privatePem = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.privatePem = await this.create();
    }
    return this.privatePem;
  }

  private async create(): Promise<string> {
    const pem = await new Promise<string>((resolve, reject) =>
      // Asynchronous: the 1–5 s of RSA-4096 generation run on libuv's thread pool, not the event loop.
      generateKeyPair(
        'rsa',
        {
          modulusLength: 4096,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        },
        (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey)),
      ),
    );
    await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, pem, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, this.path);
      return pem;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return readFile(this.path, 'utf8');
    } finally {
      await rm(temporary, { force: true });
    }
  }

  async publicKeyPem(): Promise<string> {
    return createPublicKey(await this.load())
      .export({ type: 'spki', format: 'pem' })
      .toString();
  }

  async sign(data: Buffer): Promise<Buffer> {
    return sign('sha256', data, await this.load());
  }
}

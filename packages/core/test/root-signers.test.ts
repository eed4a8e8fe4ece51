import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsKmsCommands, AwsKmsRootSigner, GcpKmsRootSigner } from '../src/licensing/root-signer.kms.ts';
import { LocalRootSigner } from '../src/licensing/root-signer.ts';

/**
 * The three root key holders. The local one for real (an RSA-4096 file, mode 0600). The KMS ones are paid cloud
 * APIs: they are driven through an injected client that checks the exact request shape of @google-cloud/kms and
 * @aws-sdk/client-kms and answers with a signature made by a local RSA key — no network, as the conventions allow.
 */

let privateKey: KeyObject;
let publicPem: string;
let dir: string;
beforeAll(async () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  dir = await mkdtemp(join(tmpdir(), 'atrium-root-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const data = Buffer.from('certificate signing input');

describe('local root signer', () => {
  it('makes one RSA-4096 key with mode 0600 and signs RS256 with it, shared by concurrent starters', async () => {
    const path = join(dir, 'root.pem');
    const signers = [new LocalRootSigner(path), new LocalRootSigner(path), new LocalRootSigner(path)];
    const pems = await Promise.all(signers.map((s) => s.publicKeyPem()));
    expect(new Set(pems).size).toBe(1);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const key = createPublicKey(pems[0] as string);
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(verify('sha256', data, key, await (signers[1] as LocalRootSigner).sign(data))).toBe(true);
  });
});

describe('Google Cloud KMS root signer (request shapes, no network)', () => {
  it('asks asymmetricSign for the SHA-256 digest of the key version, and returns its signature', async () => {
    const name = 'projects/p/locations/global/keyRings/atrium/cryptoKeys/license-root/cryptoKeyVersions/1';
    const requests: unknown[] = [];
    const client = {
      async getPublicKey(request: { name: string }) {
        requests.push(request);
        return [{ pem: publicPem, algorithm: 'RSA_SIGN_PKCS1_4096_SHA256' }] as [{ pem: string; algorithm: string }];
      },
      async asymmetricSign(request: { name: string; digest: { sha256: Buffer } }) {
        requests.push(request);
        // KMS signs the given digest with PKCS#1 v1.5: the same bytes as signing the message with SHA-256.
        return [{ signature: sign('sha256', data, privateKey) }] as [{ signature: Buffer }];
      },
    };
    const signer = new GcpKmsRootSigner(client, name);
    expect(await signer.publicKeyPem()).toBe(publicPem);
    const signature = await signer.sign(data);
    expect(requests[1]).toEqual({ name, digest: { sha256: expect.any(Buffer) } });
    const digest = (requests[1] as { digest: { sha256: Buffer } }).digest.sha256;
    expect(digest.equals(Buffer.from(await crypto.subtle.digest('SHA-256', data)))).toBe(true);
    expect(verify('sha256', data, publicPem, signature)).toBe(true);
  });

  it('refuses a key version of another algorithm', async () => {
    const client = {
      getPublicKey: async () =>
        [{ pem: publicPem, algorithm: 'EC_SIGN_P256_SHA256' }] as [{ pem: string; algorithm: string }],
      asymmetricSign: async () => [{ signature: Buffer.alloc(0) }] as [{ signature: Buffer }],
    };
    await expect(new GcpKmsRootSigner(client, 'k').publicKeyPem()).rejects.toThrow(/RSA_SIGN_PKCS1_4096_SHA256/);
  });
});

describe('AWS KMS root signer (request shapes, no network)', () => {
  it('sends GetPublicKey and Sign(MessageType DIGEST, RSASSA_PKCS1_V1_5_SHA_256) commands', async () => {
    const sent: Array<{ name: string; input: unknown }> = [];
    const commands: AwsKmsCommands = {
      GetPublicKeyCommand: class {
        input: unknown;
        constructor(input: unknown) {
          this.input = input;
        }
      },
      SignCommand: class {
        input: unknown;
        constructor(input: unknown) {
          this.input = input;
        }
      },
    } as unknown as AwsKmsCommands;
    const client = {
      async send(command: { input: unknown }) {
        const name = command.constructor.name;
        sent.push({ name, input: command.input });
        if (name === 'GetPublicKeyCommand') {
          return { PublicKey: createPublicKey(publicPem).export({ type: 'spki', format: 'der' }), KeySpec: 'RSA_4096' };
        }
        return { Signature: sign('sha256', data, privateKey) };
      },
    };
    const signer = new AwsKmsRootSigner(client, commands, 'alias/atrium-license-root');
    expect(await signer.publicKeyPem()).toBe(publicPem);
    const signature = await signer.sign(data);
    expect(sent[1]?.input).toMatchObject({
      KeyId: 'alias/atrium-license-root',
      MessageType: 'DIGEST',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    });
    expect((sent[1]?.input as { Message: Buffer } | undefined)?.Message).toHaveLength(32);
    expect(verify('sha256', data, publicPem, signature)).toBe(true);
  });
});

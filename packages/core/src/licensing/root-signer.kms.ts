import { createHash, createPublicKey } from 'node:crypto';
import type { RootSigner } from './root-signer.ts';

/**
 * The two cloud KMS roots. They are written against each library's request and response shapes; the tests drive
 * them with an injected client that checks the request it is given and answers with a signature made by a local
 * RSA key (no network, no paid API), as the team's conventions allow for paid cloud APIs only.
 */

/** The part of `KeyManagementServiceClient` (@google-cloud/kms) this signer uses. */
export interface GcpKmsClient {
  getPublicKey(request: { name: string }): Promise<[{ pem?: string | null; algorithm?: unknown }, ...unknown[]]>;
  asymmetricSign(request: {
    name: string;
    digest: { sha256: Buffer };
  }): Promise<[{ signature?: Uint8Array | string | null }, ...unknown[]]>;
}

/**
 * Cloud KMS key version of algorithm RSA_SIGN_PKCS1_4096_SHA256 (seed 001 §7), named
 * `projects/…/locations/…/keyRings/…/cryptoKeys/…/cryptoKeyVersions/N`.
 */
export class GcpKmsRootSigner implements RootSigner {
  readonly kind = 'gcp-kms';
  private readonly client: GcpKmsClient;
  private readonly keyVersion: string;
  private pem: string | null = null;

  constructor(client: GcpKmsClient, keyVersion: string) {
    this.client = client;
    this.keyVersion = keyVersion;
  }

  static async connect(keyVersion: string): Promise<GcpKmsRootSigner> {
    const { KeyManagementServiceClient } = await import('@google-cloud/kms');
    return new GcpKmsRootSigner(new KeyManagementServiceClient() as unknown as GcpKmsClient, keyVersion);
  }

  async publicKeyPem(): Promise<string> {
    if (this.pem) return this.pem;
    const [response] = await this.client.getPublicKey({ name: this.keyVersion });
    if (!response.pem) throw new Error(`Cloud KMS returned no public key for ${this.keyVersion}`);
    if (response.algorithm !== undefined && response.algorithm !== 'RSA_SIGN_PKCS1_4096_SHA256') {
      throw new Error(
        `Cloud KMS key ${this.keyVersion} is ${String(response.algorithm)}, not RSA_SIGN_PKCS1_4096_SHA256`,
      );
    }
    this.pem = response.pem;
    return this.pem;
  }

  async sign(data: Buffer): Promise<Buffer> {
    const digest = createHash('sha256').update(data).digest();
    const [response] = await this.client.asymmetricSign({ name: this.keyVersion, digest: { sha256: digest } });
    if (!response.signature) throw new Error('Cloud KMS returned no signature');
    return Buffer.from(response.signature as Uint8Array);
  }
}

/** The part of `KMSClient` (@aws-sdk/client-kms) this signer uses: `send` of a command object. */
export interface AwsKmsClient {
  send(command: { input: unknown }): Promise<{ PublicKey?: Uint8Array; Signature?: Uint8Array; KeySpec?: string }>;
}

export interface AwsKmsCommands {
  GetPublicKeyCommand: new (input: { KeyId: string }) => { input: unknown };
  SignCommand: new (input: {
    KeyId: string;
    Message: Uint8Array;
    MessageType: 'DIGEST';
    SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256';
  }) => { input: unknown };
}

/** AWS KMS asymmetric key of spec RSA_4096, usage SIGN_VERIFY, signing RSASSA_PKCS1_V1_5_SHA_256. */
export class AwsKmsRootSigner implements RootSigner {
  readonly kind = 'aws-kms';
  private readonly client: AwsKmsClient;
  private readonly commands: AwsKmsCommands;
  private readonly keyId: string;
  private pem: string | null = null;

  constructor(client: AwsKmsClient, commands: AwsKmsCommands, keyId: string) {
    this.client = client;
    this.commands = commands;
    this.keyId = keyId;
  }

  static async connect(keyId: string): Promise<AwsKmsRootSigner> {
    const sdk = await import('@aws-sdk/client-kms');
    return new AwsKmsRootSigner(new sdk.KMSClient({}) as unknown as AwsKmsClient, sdk, keyId);
  }

  async publicKeyPem(): Promise<string> {
    if (this.pem) return this.pem;
    const response = await this.client.send(new this.commands.GetPublicKeyCommand({ KeyId: this.keyId }));
    if (!response.PublicKey) throw new Error(`AWS KMS returned no public key for ${this.keyId}`);
    if (response.KeySpec !== undefined && response.KeySpec !== 'RSA_4096') {
      throw new Error(`AWS KMS key ${this.keyId} is ${response.KeySpec}, not RSA_4096`);
    }
    const key = createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' });
    this.pem = key.export({ type: 'spki', format: 'pem' }).toString();
    return this.pem;
  }

  async sign(data: Buffer): Promise<Buffer> {
    const digest = createHash('sha256').update(data).digest();
    const response = await this.client.send(
      new this.commands.SignCommand({
        KeyId: this.keyId,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
      }),
    );
    if (!response.Signature) throw new Error('AWS KMS returned no signature');
    return Buffer.from(response.Signature);
  }
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Which sealed field of which run: bound into the ciphertext, so a sealed value cannot be moved elsewhere. */
export interface SealContext {
  tenantId: string;
  flowId: string;
  field: string;
}

/**
 * Secrets a flow needs in its input (an invitation token) are sealed before the run is stored and opened by the
 * flow when it runs, so flow_runs.input never holds them in clear (ADR 0203). AES-256-GCM with a key derived by
 * HKDF-SHA256 from the server secret (ATRIUM_SECRET_KEY) for this purpose only; the tenant, flow and field are
 * the additional authenticated data. Format: v1.<iv>.<tag>.<ciphertext>, base64url parts.
 */
export class FlowInputSecrets {
  private readonly key: Buffer;

  constructor(serverSecret: string) {
    if (serverSecret.length < 32) throw new Error('the server secret must be at least 32 characters');
    this.key = Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), 'atrium-flow-input-secrets', 32));
  }

  seal(plaintext: string, context: SealContext): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(additionalData(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Throws when the value was not sealed for this context or with this server secret. */
  open(sealed: string, context: SealContext): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed flow input');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(additionalData(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}

function additionalData({ tenantId, flowId, field }: SealContext) {
  return Buffer.from(`${tenantId}\n${flowId}\n${field}`, 'utf8');
}

import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { defaultFingerprint } from './fingerprint.ts';
import type { AcquireResponse, HeartbeatResponse, LicenseStatus, LicenseTokenClaims } from './types.ts';
import { verifyLicenseToken } from './verify.ts';

export interface LicenseClientOptions {
  /** The server, e.g. https://licenses.example.com (no trailing /api/v1). */
  baseUrl: string;
  licenseKey: string;
  /** Default: SHA-256 of /etc/machine-id (see defaultFingerprint). */
  fingerprint?: string;
  /** Pinned root public key for offline verification (from /.well-known/jwks.json, the RS256 entry). */
  rootJwk?: JWK;
  /** Where the last token is kept for offline use (Default: not stored). */
  tokenPath?: string;
  /** How long a stored token is accepted with no server (Default: 86400 s, never beyond the token's exp). */
  offlinePeriodSeconds?: number;
  metadata?: Record<string, string | number>;
  /** Injected for tests or custom transports (Default: global fetch). */
  fetch?: typeof fetch;
}

export class LicenseApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, detail: string) {
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
  }
}

export interface LicenseClientEvents {
  acquired: [AcquireResponse];
  renewed: [HeartbeatResponse];
  /** The seat is gone (expired or released elsewhere); the client tries to acquire again. */
  lost: [{ reason: string }];
  error: [Error];
}

/**
 * Holds one seat: acquires it, heartbeats on the cadence the server asks for (with jittered retries on
 * network errors), acquires again when the server says the session is gone, and releases it on stop().
 * Authenticates with the license key itself (`Authorization: License …`), so a machine needs no user.
 */
export class LicenseClient extends EventEmitter<LicenseClientEvents> {
  private readonly options: LicenseClientOptions & { fingerprint: string; fetch: typeof fetch };
  private lease: AcquireResponse | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(options: LicenseClientOptions) {
    super();
    this.options = {
      ...options,
      fingerprint: options.fingerprint ?? defaultFingerprint(),
      fetch: options.fetch ?? fetch,
    };
  }

  get current(): AcquireResponse | null {
    return this.lease;
  }

  /** Acquires a seat and keeps it until stop(). Rejects when the server refuses (e.g. seats_exhausted). */
  async start(): Promise<AcquireResponse> {
    this.stopped = false;
    const lease = await this.acquire();
    this.schedule(lease.heartbeat_interval_seconds * 1000);
    return lease;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.release();
  }

  async acquire(): Promise<AcquireResponse> {
    const body: Record<string, unknown> = {
      license_key: this.options.licenseKey,
      fingerprint: this.options.fingerprint,
    };
    if (this.options.metadata) body.metadata = this.options.metadata;
    const lease = (await this.request('POST', '/api/v1/licenses/acquire', body)) as AcquireResponse;
    this.lease = lease;
    if (this.options.tokenPath) await writeFile(this.options.tokenPath, lease.token, { mode: 0o600 });
    this.emit('acquired', lease);
    return lease;
  }

  async heartbeat(): Promise<HeartbeatResponse> {
    const lease = this.lease;
    if (!lease) throw new Error('no seat is held; call acquire() first');
    const renewed = (await this.request('POST', '/api/v1/licenses/heartbeat', {
      session_id: lease.session_id,
    })) as HeartbeatResponse;
    // A stop() or a new acquire while the heartbeat was in flight: that lease is no longer the one held.
    if (this.lease?.session_id !== lease.session_id) return renewed;
    this.lease = { ...lease, expires_at: renewed.expires_at };
    this.emit('renewed', renewed);
    return renewed;
  }

  /** Gives back the seat held, or the session named (e.g. one a crashed run left behind). Idempotent. */
  async release(sessionId?: string): Promise<void> {
    const session_id = sessionId ?? this.lease?.session_id;
    if (!session_id) return;
    if (this.lease?.session_id === session_id) this.lease = null;
    await this.request('DELETE', '/api/v1/licenses/release', { session_id });
  }

  async status(): Promise<LicenseStatus> {
    const query = new URLSearchParams({ license_key: this.options.licenseKey });
    return (await this.request('GET', `/api/v1/licenses/status?${query}`)) as LicenseStatus;
  }

  /** The stored token, verified against the pinned root with no network: for running offline. */
  async verifyOffline(token?: string): Promise<LicenseTokenClaims> {
    if (!this.options.rootJwk) throw new Error('offline verification needs rootJwk (the pinned root public key)');
    const stored =
      token ?? this.lease?.token ?? (this.options.tokenPath ? await readFile(this.options.tokenPath, 'utf8') : null);
    if (!stored) throw new Error('no token is stored');
    return verifyLicenseToken(stored.trim(), {
      rootJwk: this.options.rootJwk,
      offlinePeriodSeconds: this.options.offlinePeriodSeconds ?? 86_400,
    });
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(0), delayMs);
    this.timer.unref();
  }

  /**
   * One heartbeat. A network error or 5xx is retried with jittered backoff well inside the TTL (the server's
   * cadence is TTL/3, so two misses still keep the seat); session_not_found means the seat is gone: acquire again.
   */
  private async beat(attempt: number): Promise<void> {
    if (this.stopped || !this.lease) return;
    const interval = this.lease.heartbeat_interval_seconds * 1000;
    try {
      await this.heartbeat();
      this.schedule(interval);
    } catch (err) {
      if (err instanceof LicenseApiError && err.status === 404) {
        this.emit('lost', { reason: err.code });
        try {
          const lease = await this.acquire();
          this.schedule(lease.heartbeat_interval_seconds * 1000);
        } catch (acquireError) {
          this.emit('error', acquireError as Error);
          this.schedule(jitter(interval));
        }
        return;
      }
      this.emit('error', err as Error);
      const backoff = Math.min(interval / 2, 500 * 2 ** attempt);
      this.timer = setTimeout(() => void this.beat(attempt + 1), jitter(backoff));
      this.timer.unref();
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `License ${this.options.licenseKey}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.options.fetch(new URL(path, this.options.baseUrl), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 204) return undefined;
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      throw new LicenseApiError(response.status, parsed?.code ?? 'unknown', parsed?.detail ?? response.statusText);
    }
    return parsed;
  }
}

/** A delay between half and the full amount, so that clients restarted together do not beat together. */
function jitter(ms: number): number {
  return ms / 2 + Math.random() * (ms / 2);
}

import { isConnectionError, type Pool } from '@atrium/db';
import { completeSucceeded, type Success } from './attempts.repository.ts';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * Retries a write while the database is unreachable (a restart, a failover), with capped backoff, for at most
 * `forMs`. Other errors are not retried: they are bugs or refusals, and retrying would hide them.
 */
export async function persist<T>(work: () => Promise<T>, forMs: number, isStopping: () => boolean): Promise<T> {
  const giveUpAt = Date.now() + forMs;
  for (let failures = 1; ; failures++) {
    try {
      return await work();
    } catch (err) {
      if (!isConnectionError(err) || Date.now() > giveUpAt || isStopping()) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** failures) * (0.5 + Math.random())));
    }
  }
}

/**
 * Successful completions are written in batches, one statement per flush whatever the tenants: at high throughput most
 * of the cost of a trivial job is these round trips (graphile-worker's batched mode does the same).
 */
export class CompletionBatcher {
  private pending: Array<Success & { resolve: (accepted: boolean) => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;
  private readonly pool: Pool;
  private readonly maxBatch: number;

  constructor(pool: Pool, maxBatch = 200) {
    this.pool = pool;
    this.maxBatch = maxBatch;
  }

  /** Resolves true when the completion was accepted, false when the lease had been lost. */
  add(success: Success): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ...success, resolve, reject });
      if (this.pending.length >= this.maxBatch) void this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush() {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      const accepted = await completeSucceeded(this.pool, batch);
      for (const item of batch) item.resolve(accepted.has(item.claim.runId));
    } catch (err) {
      for (const item of batch) item.reject(err);
    }
  }
}

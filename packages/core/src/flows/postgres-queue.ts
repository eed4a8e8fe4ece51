import type { Pool } from '@atrium/db';
import { claimAndStart, type Started } from './attempts.repository.ts';
import type { ClaimOptions, QueueBackend } from './queue.ts';
import { ReadyListener } from './ready-listener.ts';

export interface PostgresQueueOptions {
  pool: Pool;
  /** Connection string for the LISTEN connection (the runtime role's URL). */
  connectionString: string;
  onError?: (err: Error) => void;
}

/**
 * The embedded backend: workers claim batches with FOR UPDATE SKIP LOCKED and sleep on LISTEN until an enqueue
 * commits (NOTIFY) or the wait ends (delayed runs and retries become ready by time, not by notification).
 */
export class PostgresQueue implements QueueBackend {
  readonly name = 'postgres' as const;
  private readonly pool: Pool;
  private readonly listener: ReadyListener;

  constructor(options: PostgresQueueOptions) {
    this.pool = options.pool;
    this.listener = new ReadyListener(options.connectionString, options.onError);
  }

  start() {
    return this.listener.start();
  }

  async claim(options: ClaimOptions, waitMs: number): Promise<Started[]> {
    const claims = await claimAndStart(
      this.pool,
      options.workerId,
      options.max,
      options.tenantConcurrency,
      options.leaseMs,
    );
    if (claims.length === 0 && waitMs > 0) await this.listener.sleep(waitMs);
    return claims;
  }

  settled() {}
  extended() {}

  wake() {
    this.listener.wake();
  }

  stop() {
    return this.listener.stop();
  }
}

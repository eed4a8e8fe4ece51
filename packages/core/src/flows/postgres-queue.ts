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
  /** The last claim got fewer runs than it asked for: nothing more was ready when it ran. */
  private drained = false;

  constructor(options: PostgresQueueOptions) {
    this.pool = options.pool;
    this.listener = new ReadyListener(options.connectionString, options.onError);
  }

  start() {
    return this.listener.start();
  }

  async claim(options: ClaimOptions, waitMs: number): Promise<Started[]> {
    // After a claim that emptied the queue, another claim would find nothing (about one empty claim statement
    // per run when runs arrive one at a time): wait for the next announcement first. One that came during the
    // claim ends this wait at once; runs that become ready by time are found by the poll, as before.
    if (this.drained && waitMs > 0) await this.listener.sleep(waitMs);
    const claims = await claimAndStart(
      this.pool,
      options.workerId,
      options.max,
      options.tenantConcurrency,
      options.leaseMs,
    );
    this.drained = claims.length > 0 && claims.length < options.max;
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

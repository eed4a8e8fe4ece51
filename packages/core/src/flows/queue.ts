import type { Started } from './attempts.repository.ts';
import type { Claim } from './queue.repository.ts';

export type { Claim } from './queue.repository.ts';

export interface ClaimOptions {
  workerId: string;
  max: number;
  tenantConcurrency: number;
  leaseMs: number;
}

/**
 * How a worker learns which runs to take. PostgreSQL is the record in both backends (runs, leases, retries);
 * the backend only decides how ready work reaches a worker: by a SKIP LOCKED claim woken by NOTIFY, or by a
 * JetStream work-queue message published from the flow_queue outbox (ADR 0200).
 */
export interface QueueBackend {
  readonly name: 'postgres' | 'nats';
  start(): Promise<void>;
  /** Claims and starts ready runs; resolves with none after `waitMs` (or earlier, when woken) if nothing is ready. */
  claim(options: ClaimOptions, waitMs: number): Promise<Started[]>;
  /** The run's completion has committed (JetStream: ack the message now). */
  settled(claim: Claim): void;
  /** A long step is still running (JetStream: `working()`, so the broker does not redeliver). */
  extended(claim: Claim): void;
  /** Wakes a `claim` waiting for work (a retry became due, shutdown). */
  wake(): void;
  stop(): Promise<void>;
}

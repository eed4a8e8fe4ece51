import type { Tx } from '@atrium/db';
import { finishUnsuccessfully, scheduleRetry } from './attempts.repository.ts';
import { type FlowDefinition, retryDelayMs } from './definition.ts';
import type { Outcome, RunControl } from './execute.ts';
import { handedBackAttempts } from './handback.repository.ts';

/**
 * Records a failed attempt under its lease token: cancelled and timed-out runs end; other failures are retried
 * after Atrium's backoff while attempts remain (attempts handed back by a drain do not count), then the run is
 * dead (redrive brings it back). Returns the run's new status, or null when the lease had been lost (the
 * completion is refused).
 */
export async function recordOutcome(
  tx: Tx,
  control: RunControl,
  outcome: Exclude<Outcome, { kind: 'succeeded' } | { kind: 'abandoned' }>,
  definition: FlowDefinition | undefined,
): Promise<string | null> {
  const { claim, run } = control;
  const finish = async (attempt: 'failed' | 'timed_out' | 'cancelled', status: 'dead' | 'cancelled' | 'timed_out') =>
    (await finishUnsuccessfully(tx, claim.tenantId, claim, run.attemptId, attempt, status, outcome.error))
      ? status
      : null;
  const reason = outcome.reason?.kind;
  if (reason === 'cancelled') return finish('cancelled', 'cancelled');
  if (reason === 'run_timeout') return finish('timed_out', 'timed_out');
  const attemptStatus = reason === 'attempt_timeout' ? 'timed_out' : 'failed';
  const maxAttempts = definition?.retry.maxAttempts ?? 5;
  // Attempts a draining worker handed back were not failures: they count neither here nor in the backoff.
  const counted = run.attempt - (await handedBackAttempts(tx, claim.tenantId, claim.runId));
  if (!outcome.retryable || counted >= maxAttempts) return finish(attemptStatus, 'dead');
  const policy = definition?.retry ?? { maxAttempts, initialDelayMs: 1000, maxDelayMs: 300_000 };
  const retryAt = new Date(Date.now() + retryDelayMs(policy, counted));
  const accepted = await scheduleRetry(tx, claim.tenantId, claim, run.attemptId, attemptStatus, outcome.error, retryAt);
  return accepted ? 'queued' : null;
}

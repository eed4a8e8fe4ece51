import { type Pool, type Tx, withTenant } from '@atrium/db';
import type { Tracer } from '@opentelemetry/api';
import { inChildSpan } from '../shared/tracing.ts';
import { type StartedRun, saveStep } from './attempts.repository.ts';
import { type FlowContext, type FlowDefinition, NonRetryableError } from './definition.ts';
import type { Claim } from './queue.repository.ts';
import { type FlowObserver, StopReason } from './signals.ts';

export interface RunControl {
  claim: Claim;
  run: StartedRun;
  controller: AbortController;
}

export type Outcome =
  | { kind: 'succeeded'; output: unknown }
  | { kind: 'failed'; error: unknown; reason: StopReason | null; retryable: boolean }
  /** The lease was lost or the worker is draining: someone else owns the run now; record nothing. */
  | { kind: 'abandoned' };

interface ExecuteDeps {
  pool: Pool;
  observer: FlowObserver;
  /** Makes a span of each step that runs (a memoized step replays without one); absent: no tracing. */
  tracer?: Tracer | null;
}

/** Runs one attempt to its outcome; never throws. */
export async function executeRun(
  control: RunControl,
  definition: FlowDefinition | undefined,
  deps: ExecuteDeps,
): Promise<Outcome> {
  const { run, controller } = control;
  if (!definition) {
    const error = { message: `no worker here defines flow ${run.flowId}` };
    return { kind: 'failed', error, reason: null, retryable: true };
  }
  if (run.cancelRequested) controller.abort(new StopReason('cancelled', 'the run was cancelled'));
  const timers = [
    setTimeout(
      () =>
        controller.abort(new StopReason('attempt_timeout', `the attempt ran over ${definition.attemptTimeoutMs} ms`)),
      definition.attemptTimeoutMs,
    ),
  ];
  if (definition.runTimeoutMs !== undefined) {
    const remaining = run.startedAt.getTime() + definition.runTimeoutMs - Date.now();
    timers.push(
      setTimeout(
        () => controller.abort(new StopReason('run_timeout', `the run ran over ${definition.runTimeoutMs} ms`)),
        Math.max(0, remaining),
      ),
    );
  }
  try {
    const output = await untilAborted(definition.run(createContext(control, deps)), controller.signal);
    return { kind: 'succeeded', output };
  } catch (err) {
    const reason = controller.signal.aborted ? (controller.signal.reason as StopReason) : null;
    if (reason?.kind === 'lease_lost' || reason?.kind === 'drain') return { kind: 'abandoned' };
    const error = reason ? { message: reason.message } : describe(err);
    return { kind: 'failed', error, reason, retryable: !(err instanceof NonRetryableError) };
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

function createContext(control: RunControl, deps: ExecuteDeps): FlowContext {
  const { run, claim, controller } = control;
  const { signal } = controller;
  const memo = new Map(Object.entries(run.steps));
  const tenantTx = <T>(work: (tx: Tx) => Promise<T>) => withTenant(deps.pool, claim.tenantId, work);

  async function remember<T>(name: string, started: number, result: T, tx?: Tx): Promise<T> {
    const stored = JSON.parse(JSON.stringify(result ?? null)) as T;
    const step = { name, result: stored, attempt: run.attempt, durationMs: Math.round(performance.now() - started) };
    const saved = tx
      ? await saveStep(tx, claim.tenantId, claim, step)
      : await tenantTx((inner) => saveStep(inner, claim.tenantId, claim, step));
    if (!saved) {
      controller.abort(new StopReason('lease_lost', 'another worker took over this run'));
      throw signal.reason;
    }
    memo.set(name, stored);
    deps.observer.stepFinished?.(run.flowId, step.durationMs / 1000);
    return stored;
  }

  return {
    runId: run.runId,
    tenantId: claim.tenantId,
    flowId: run.flowId,
    input: run.input,
    attempt: run.attempt,
    signal,
    pool: deps.pool,
    withTenant: tenantTx,
    async step(name, work) {
      if (memo.has(name)) return memo.get(name) as never;
      signal.throwIfAborted();
      return inChildSpan(deps.tracer, `step ${name}`, { 'atrium.flow.step': name }, async () => {
        const started = performance.now();
        const result = await untilAborted(
          work(signal, { idempotencyKey: `${run.runId}:${name}`, attempt: run.attempt }),
          signal,
        );
        return remember(name, started, result);
      });
    },
    async transactionalStep(name, work) {
      if (memo.has(name)) return memo.get(name) as never;
      signal.throwIfAborted();
      return inChildSpan(deps.tracer, `step ${name}`, { 'atrium.flow.step': name }, () => {
        const started = performance.now();
        return tenantTx(async (tx) => {
          const result = await untilAborted(work(tx, signal), signal);
          signal.throwIfAborted();
          return remember(name, started, result, tx);
        });
      });
    },
  };
}

/** The work's result, or the signal's reason as soon as it fires (work that ignores the signal is left behind). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function describe(err: unknown) {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { message: String(err) };
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { toPublicId } from '@atrium/contracts';
import { type Pool, withTenant } from '@atrium/db';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Started, StartedRun } from './attempts.repository.ts';
import { CompletionBatcher, type Logger, persist, silentLogger } from './completions.ts';
import type { FlowRegistry } from './definition.ts';
import { registerDefinitions } from './definitions.repository.ts';
import { executeRun, type Outcome, type RunControl } from './execute.ts';
import { handBackRuns } from './handback.repository.ts';
import { recordOutcome } from './outcome.ts';
import { type Claim, extendLeases } from './queue.repository.ts';
import type { QueueBackend } from './queue.ts';
import { type FlowObserver, StopReason } from './signals.ts';

export interface FlowWorkerOptions {
  pool: Pool;
  registry: FlowRegistry;
  queue: QueueBackend;
  /** Runs in flight in this process at most (Default: 16). */
  concurrency?: number;
  /** Runs of one tenant leased at once across all workers (Default: 1000). */
  tenantConcurrency?: number;
  /** How long a lease lasts without renewal: a dead worker's runs restart after about this (Default: 15000 ms). */
  leaseMs?: number;
  /** Lease renewal period (Default: leaseMs / 3). */
  heartbeatMs?: number;
  /** Longest sleep when no work is announced: delayed runs and retries are found by this poll (Default: 1000 ms). */
  pollMs?: number;
  workerId?: string;
  log?: Logger;
  observer?: FlowObserver;
  /**
   * Makes a CONSUMER span of each attempt (`run <flow>`, in the trace of the work that enqueued the run, or a trace
   * of its own), with its steps and their SQL statements as children. Absent: no tracing.
   */
  tracer?: Tracer | null;
}

/**
 * Takes ready runs from the queue backend and executes them: lease, start (attempt row + memoized steps),
 * run with an AbortSignal, complete with the lease token, heartbeat to keep leases and notice cancellations.
 */
export class FlowWorker {
  readonly workerId: string;
  private readonly options: Required<Omit<FlowWorkerOptions, 'observer' | 'workerId' | 'tracer'>> & {
    observer: FlowObserver;
    tracer: Tracer | null;
  };
  /** Runs this worker holds the lease of: executing, or recording their outcome. */
  private readonly active = new Map<string, RunControl>();
  /** Runs whose code returned and whose outcome is being written: a drain never hands these back. */
  private readonly recording = new Set<string>();
  private readonly completions: CompletionBatcher;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private slotWaiter: (() => void) | null = null;
  /** Ends the loop's back-off early: a write just succeeded, so the database is reachable again. */
  private backoffWaiter: (() => void) | null = null;
  private readonly idleWaiters = new Set<() => void>();

  constructor(options: FlowWorkerOptions) {
    const leaseMs = options.leaseMs ?? 15_000;
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.options = {
      concurrency: 16,
      tenantConcurrency: 1000,
      leaseMs,
      heartbeatMs: Math.max(100, Math.floor(leaseMs / 3)),
      pollMs: 1000,
      log: silentLogger,
      ...options,
      observer: options.observer ?? {},
      tracer: options.tracer ?? null,
    };
    this.completions = new CompletionBatcher(options.pool);
  }

  get inFlight() {
    return this.active.size;
  }

  async start() {
    await registerDefinitions(this.options.pool, this.options.registry.all());
    await this.options.queue.start();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    this.loopDone = this.loop();
  }

  /**
   * Graceful drain: stop taking work, let in-flight runs finish for up to `drainTimeoutMs`, then abort the rest
   * and hand them back (attempt `handed_back`, not counted, no backoff) so another worker starts them at once.
   */
  async stop(drainTimeoutMs = 10_000) {
    this.stopping = true;
    this.options.queue.wake();
    this.slotWaiter?.();
    this.backoffWaiter?.();
    await this.loopDone;
    if (this.active.size > 0) await this.whenIdle(drainTimeoutMs);
    // Only runs still executing are handed back. A run whose outcome is being written (the database is slow or
    // away) keeps its lease: its completion commits, or the lease lapses and the run's memoized steps resume elsewhere.
    const leftover = [...this.active.values()].filter((run) => !this.recording.has(run.run.runId));
    for (const run of leftover) run.controller.abort(new StopReason('drain', 'the worker is shutting down'));
    await handBackRuns(
      this.options.pool,
      leftover.map((run) => ({ claim: run.claim, attemptId: run.run.attemptId })),
    ).catch((err) => this.options.log.warn({ err }, 'could not hand back runs; their leases will expire (lost)'));
    for (const run of leftover) this.options.queue.settled(run.claim);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.options.queue.stop();
  }

  private async loop() {
    const { queue, concurrency, tenantConcurrency, leaseMs, pollMs, log } = this.options;
    let failures = 0;
    while (!this.stopping) {
      // A slot is free as soon as a run's code has returned: its completion is written (batched) while the next
      // claim is already on its way, instead of claim and completion round trips taking turns. Runs still
      // recording their outcome keep their lease (and heartbeat) and are bounded to another `concurrency`.
      const free = Math.min(concurrency - this.executing, 2 * concurrency - this.active.size);
      // Claim in batches: while runs are in flight, wait until a quarter of the slots are free (one claim
      // statement per batch instead of one per finished run).
      if (free <= 0 || (this.executing > 0 && free < Math.ceil(concurrency / 4))) {
        await new Promise<void>((resolve) => {
          this.slotWaiter = resolve;
        });
        continue;
      }
      try {
        const started = await queue.claim(
          { workerId: this.workerId, max: free, tenantConcurrency, leaseMs },
          this.stopping ? 0 : pollMs,
        );
        failures = 0;
        this.begin(started);
      } catch (err) {
        failures += 1;
        const delayMs = Math.min(5000, 100 * 2 ** failures) * (0.5 + Math.random());
        log.warn({ err, delayMs }, 'flow worker could not reach its queue; backing off');
        await new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          const done = () => {
            clearTimeout(timer);
            if (this.backoffWaiter === done) this.backoffWaiter = null;
            resolve();
          };
          timer = setTimeout(done, delayMs);
          this.backoffWaiter = done;
        });
      }
    }
  }

  private begin(started: Started[]) {
    for (const { claim, run } of started) {
      this.options.observer.attemptStarted?.(
        this.options.queue.name,
        Math.max(0, (Date.now() - claim.readyAt.getTime()) / 1000),
      );
      this.launch(run, claim);
    }
  }

  /** Runs whose code is executing: what `concurrency` limits. */
  private get executing() {
    return this.active.size - this.recording.size;
  }

  private launch(run: StartedRun, claim: Claim) {
    const control: RunControl = { claim, run, controller: new AbortController() };
    this.active.set(run.runId, control);
    const slotFree = () => {
      this.slotWaiter?.();
      this.slotWaiter = null;
    };
    const definition = this.options.registry.get(run.flowId);
    const { pool, observer, tracer } = this.options;
    const execute = () => executeRun(control, definition, { pool, observer, tracer });
    // The attempt joins the trace of the work that enqueued the run, when that was traced.
    const parent = tracer && run.traceContext ? propagation.extract(ROOT_CONTEXT, run.traceContext) : ROOT_CONTEXT;
    const span = tracer?.startSpan(
      `run ${run.flowId}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'atrium.tenant_id': claim.tenantId,
          'atrium.flow.id': run.flowId,
          'atrium.flow.run_id': toPublicId('flowRun', run.runId),
          'atrium.flow.attempt': run.attempt,
          'atrium.flow.backend': this.options.queue.name,
        },
      },
      parent,
    );
    const attempt = span
      ? context.with(trace.setSpan(parent, span), execute).then((outcome) => endRunSpan(span, outcome))
      : execute();
    attempt
      .then((outcome) => {
        this.recording.add(run.runId);
        slotFree();
        return this.finish(control, outcome);
      })
      .catch((err: unknown) => this.options.log.error({ err, runId: run.runId }, 'could not record a run outcome'))
      .finally(() => {
        this.active.delete(run.runId);
        this.recording.delete(run.runId);
        slotFree();
        if (this.active.size === 0) for (const resolve of this.idleWaiters) resolve();
      });
  }

  private async finish(control: RunControl, outcome: Outcome) {
    const { claim } = control;
    if (outcome.kind === 'abandoned') return;
    if (outcome.kind === 'succeeded') {
      const accepted = await persist(
        () => this.completions.add({ claim, attemptId: control.run.attemptId, output: outcome.output }),
        60_000,
        () => false,
      );
      this.backoffWaiter?.();
      if (accepted) this.options.observer.runFinished?.(control.run.flowId, 'succeeded');
      this.options.queue.settled(claim);
      return;
    }
    const definition = this.options.registry.get(control.run.flowId);
    const status = await persist(
      () => withTenant(this.options.pool, claim.tenantId, (tx) => recordOutcome(tx, control, outcome, definition)),
      60_000,
      () => false,
    );
    this.backoffWaiter?.();
    if (status && status !== 'queued') this.options.observer.runFinished?.(control.run.flowId, status);
    this.options.queue.settled(claim);
    if (status === 'queued') this.options.queue.wake();
  }

  /** Renews this worker's leases; a lease that is gone or a run whose cancellation was asked stops its run. */
  private async heartbeat() {
    const controls = [...this.active.values()];
    if (controls.length === 0) return;
    try {
      const states = await extendLeases(
        this.options.pool,
        controls.map((control) => control.claim),
        this.options.leaseMs,
      );
      const byRun = new Map(states.map((state) => [state.runId, state]));
      for (const control of controls) {
        const state = byRun.get(control.claim.runId);
        if (!state) {
          control.controller.abort(new StopReason('lease_lost', 'another worker took over this run'));
        } else if (state.cancelRequested) {
          control.controller.abort(new StopReason('cancelled', 'the run was cancelled'));
        } else {
          this.options.queue.extended(control.claim);
        }
      }
    } catch (err) {
      this.options.log.warn({ err }, 'could not renew flow leases');
    }
  }

  private whenIdle(timeoutMs: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.idleWaiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }
}

/** The attempt's span ends with its outcome: a failure is an error with its reason; an abandoned run is not. */
function endRunSpan(span: Span, outcome: Outcome): Outcome {
  span.setAttribute('atrium.flow.outcome', outcome.kind);
  if (outcome.kind === 'failed') {
    const message = (outcome.error as { message?: unknown } | null)?.message;
    span.setAttribute('error.type', outcome.reason?.kind ?? 'error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof message === 'string' ? message : 'the run failed' });
  }
  span.end();
  return outcome;
}

import type { Pool, Tx } from '@atrium/db';

/** What a flow sees while it runs. */
export interface FlowContext<Input = unknown> {
  runId: string;
  tenantId: string;
  flowId: string;
  input: Input;
  /** 1 for the first attempt. */
  attempt: number;
  /** Fires on cancellation, attempt or run timeout, lease loss and worker drain. */
  signal: AbortSignal;
  pool: Pool;
  /**
   * A memoized step: its result is stored once it returns, and a later attempt of the same run gets the stored
   * result without calling `run` again. External effects should use `idempotencyKey` (stable per run and step).
   */
  step<T>(name: string, run: (signal: AbortSignal, info: StepInfo) => Promise<T>): Promise<T>;
  /**
   * A step whose database effects commit in the same transaction as its stored result (and only if this attempt
   * still holds the lease), so they happen exactly once.
   */
  transactionalStep<T>(name: string, run: (tx: Tx, signal: AbortSignal) => Promise<T>): Promise<T>;
  /** A transaction scoped to the run's tenant. */
  withTenant<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

export interface StepInfo {
  idempotencyKey: string;
  attempt: number;
}

export interface RetryPolicy {
  /** Attempts in all, the first included (Default: 5). */
  maxAttempts: number;
  /** Delay before the second attempt; doubles each time, with jitter (Default: 1000 ms). */
  initialDelayMs: number;
  /** Ceiling of the delay (Default: 300000 ms). */
  maxDelayMs: number;
}

export interface FlowSchedule {
  /** Five- or six-field cron expression. */
  cron: string;
  /** IANA time zone the expression is read in (Default: UTC). */
  timezone?: string;
}

interface FlowOptions {
  id: string;
  version: number;
  retry?: Partial<RetryPolicy>;
  /** One attempt may run this long before its signal fires and it counts as failed (Default: 300000 ms). */
  attemptTimeoutMs?: number;
  /** The whole run, from its first start, may take this long; then it ends as timed_out (Default: none). */
  runTimeoutMs?: number;
  /** Events that start a run of this flow (see emitEvent). */
  events?: string[];
  /** A platform schedule: every organization gets one (pausable) schedule of this flow. */
  schedule?: FlowSchedule;
}

export interface FlowStep<Input> {
  name: string;
  run(input: Input, previous: unknown, signal: AbortSignal, info: StepInfo): Promise<unknown>;
}

export type FlowDefinitionInput<Input> = FlowOptions &
  ({ run(ctx: FlowContext<Input>): Promise<unknown>; steps?: never } | { steps: FlowStep<Input>[]; run?: never });

export interface FlowDefinition<Input = unknown> extends FlowOptions {
  retry: RetryPolicy;
  attemptTimeoutMs: number;
  run(ctx: FlowContext<Input>): Promise<unknown>;
}

const flowIdPattern = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

/** A flow: either one `run(ctx)` calling `ctx.step(...)`, or a list of steps run in order (each memoized). */
export function defineFlow<Input = unknown>(input: FlowDefinitionInput<Input>): FlowDefinition<Input> {
  if (!flowIdPattern.test(input.id) || input.id.length > 100) throw new Error(`invalid flow id "${input.id}"`);
  const steps = input.steps;
  const run = steps
    ? async (ctx: FlowContext<Input>) => {
        let previous: unknown = null;
        for (const step of steps) {
          previous = await ctx.step(step.name, (signal, info) => step.run(ctx.input, previous, signal, info));
        }
        return previous;
      }
    : (input.run as (ctx: FlowContext<Input>) => Promise<unknown>);
  return {
    ...input,
    retry: { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 300_000, ...input.retry },
    attemptTimeoutMs: input.attemptTimeoutMs ?? 300_000,
    run,
  };
}

/** Thrown by a flow to end the run as dead at once, without retries (bad input, a permanent refusal). */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

export class FlowRegistry {
  private readonly flows = new Map<string, FlowDefinition>();

  constructor(flows: Array<FlowDefinition<never>> = []) {
    for (const flow of flows) this.add(flow);
  }

  add(flow: FlowDefinition<never>): this {
    if (this.flows.has(flow.id)) throw new Error(`flow ${flow.id} is defined twice`);
    this.flows.set(flow.id, flow as unknown as FlowDefinition);
    return this;
  }

  get(id: string): FlowDefinition | undefined {
    return this.flows.get(id);
  }

  all(): FlowDefinition[] {
    return [...this.flows.values()];
  }
}

/** Exponential backoff with jitter: attempt n waits between half and all of initial × 2^(n-1), capped. */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

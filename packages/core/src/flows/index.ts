export { type Logger, silentLogger } from './completions.ts';
export {
  defineFlow,
  type FlowContext,
  type FlowDefinition,
  FlowRegistry,
  type FlowStep,
  NonRetryableError,
  type RetryPolicy,
  retryDelayMs,
  type StepInfo,
} from './definition.ts';
export { type Enqueued, type EnqueueOptions, enqueue, enqueueMany, enqueueNow } from './enqueue.ts';
export { FlowInputSecrets, type SealContext } from './input-secrets.ts';
export { NatsQueue, type NatsQueueOptions } from './nats-queue.ts';
export * from './platform/index.ts';
export { PostgresQueue, type PostgresQueueOptions } from './postgres-queue.ts';
export { type Claim, type QueueDepth, queueDepth } from './queue.repository.ts';
export type { ClaimOptions, QueueBackend } from './queue.ts';
export * as flowRuns from './runs.service.ts';
export { FlowScheduler, type SchedulerOptions } from './scheduler.ts';
export { nextFire } from './schedules.repository.ts';
export * as flowSchedules from './schedules.service.ts';
export { type FlowObserver, StopReason } from './signals.ts';
export { FlowWorker, type FlowWorkerOptions } from './worker.ts';

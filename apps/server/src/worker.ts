import {
  auditOutboxPending,
  type FlowDefinition,
  FlowInputSecrets,
  FlowRegistry,
  FlowScheduler,
  FlowWorker,
  type Licensing,
  type Mailer,
  NatsQueue,
  outboxMailer,
  PostgresQueue,
  platformFlows,
  type QueueBackend,
  queueDepth,
  smtpMailer,
} from '@atrium/core';
import { appliedVersion, createPool, loadMigrations, type Pool } from '@atrium/db';
import type { Tracer } from '@opentelemetry/api';
import Fastify from 'fastify';
import type { Config } from './config.ts';
import { buildLicensing } from './licensing.ts';
import { Metrics } from './plugins/metrics.ts';
import { openRedis } from './redis.ts';
import type { Logger } from './runtime.ts';

export interface WorkerDeps {
  pool: Pool;
  appUrl: string;
  log: Logger;
  metrics: Metrics;
  /** Extra flows beside the platform's (tests, embedding applications). */
  flows?: Array<FlowDefinition<never>>;
  /** Licensing, when this process has it: the `licensing.sweep` flow then runs every minute per organization. */
  licensing?: Licensing;
  /** Spans of each attempt and its steps (startTracing); absent: no tracing. */
  tracer?: Tracer | null;
}

export function createMailer(config: Config, log: Logger): Mailer {
  if (config.smtpUrl) return smtpMailer(config.smtpUrl, config.mailFrom);
  log.warn('SMTP_URL is not set: emails are written to the email_outbox table and the log, not sent');
  return outboxMailer(log);
}

/** The worker opens sealed flow inputs (invitation tokens) with the API's ATRIUM_SECRET_KEY (ADR 0203). */
export function createInputSecrets(config: Config, log: Logger): FlowInputSecrets | null {
  if (config.secretKey) return new FlowInputSecrets(config.secretKey);
  log.warn('ATRIUM_SECRET_KEY is not set: this worker cannot send invitation emails (their token is sealed)');
  return null;
}

export function createQueue(config: Config, pool: Pool, appUrl: string, log: Logger): QueueBackend {
  const onError = (err: Error) => log.warn({ err }, 'flow queue connection problem');
  if (config.flowBackend === 'nats') {
    if (!config.natsUrl) throw new Error('ATRIUM_FLOW_BACKEND=nats needs NATS_URL');
    return new NatsQueue({
      pool,
      connectionString: appUrl,
      servers: config.natsUrl.split(','),
      stream: config.flowStream,
      replicas: config.natsReplicas,
      ackWaitMs: config.flowLeaseMs,
      onError,
    });
  }
  return new PostgresQueue({ pool, connectionString: appUrl, onError });
}

/** The flow worker and the scheduler, with metrics wired to the catalog. */
export async function startFlowWorker(config: Config, deps: WorkerDeps) {
  const { pool, log, metrics } = deps;
  const registry = new FlowRegistry([
    ...platformFlows({
      mailer: createMailer(config, log),
      inputSecrets: createInputSecrets(config, log),
      auditWebhook:
        config.auditWebhookUrl && config.auditWebhookSecret
          ? { url: config.auditWebhookUrl, secret: config.auditWebhookSecret }
          : null,
      retentionDays: config.flowRetentionDays,
      licensingSweep: deps.licensing ? (ctx) => (deps.licensing as Licensing).leases.sweepTenant(ctx.tenantId) : null,
      tracer: deps.tracer ?? null,
    }),
    ...(deps.flows ?? []),
  ]);
  const queue = createQueue(config, pool, deps.appUrl, log);
  const runs = metrics.counter('atrium_flow_runs_total');
  const steps = metrics.histogram('atrium_flow_step_duration_seconds');
  const startDelay = metrics.histogram('atrium_flow_enqueue_to_start_seconds');
  const worker = new FlowWorker({
    pool,
    registry,
    queue,
    concurrency: config.workerConcurrency,
    tenantConcurrency: config.flowTenantConcurrency,
    leaseMs: config.flowLeaseMs,
    log,
    tracer: deps.tracer ?? null,
    observer: {
      runFinished: (flow, status) => runs.inc({ flow, status }),
      stepFinished: (flow, seconds) => steps.observe({ flow }, seconds),
      attemptStarted: (backend, seconds) => startDelay.observe({ backend }, seconds),
    },
  });
  const scheduler = new FlowScheduler({ pool, registry, log });
  metrics.onScrape(() => refreshFlowGauges(metrics, pool, queue.name));
  await worker.start();
  scheduler.start();
  log.info({ workerId: worker.workerId, backend: queue.name, flows: registry.all().length }, 'flow worker started');
  return {
    worker,
    queue,
    async stop(drainMs: number) {
      await scheduler.stop();
      await worker.stop(drainMs);
    },
  };
}

/** Gauges read at scrape time: queue depth by state and the audit relay's backlog. */
export async function refreshFlowGauges(metrics: Metrics, pool: Pool, backend: string) {
  const depth = await queueDepth(pool);
  const gauge = metrics.gauge('atrium_flow_queue_depth');
  for (const [state, value] of Object.entries(depth)) gauge.set({ backend, state }, value);
  metrics.gauge('atrium_audit_outbox_pending').set(await auditOutboxPending(pool));
}

/** `atrium worker`: workers only, with /health, /ready and /metrics on WORKER_PORT. */
export async function runWorkerProcess(config: Config, appUrl: string, log: Logger, tracer: Tracer | null = null) {
  const pool = createPool({
    connectionString: appUrl,
    max: config.databasePoolMax,
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
    tracer,
  });
  const metrics = new Metrics();
  const redis = await openRedis(config);
  redis?.on('error', (err) => log.warn({ err }, 'redis error'));
  const licensing = await buildLicensing(config, { pool, redis, metrics, log });
  const flows = await startFlowWorker(config, { pool, appUrl, log, metrics, licensing, tracer });
  const expectedMigration = (await loadMigrations()).length;
  const http = Fastify({ loggerInstance: log });
  http.get('/health', async () => ({ status: 'ok' }));
  http.get('/ready', async (_request, reply) => {
    const version = await appliedVersion((sql) => pool.query(sql)).catch(() => null);
    if (version !== expectedMigration) return reply.code(503).send({ status: 'not_ready', migration: version });
    return { status: 'ready', migration: version, in_flight: flows.worker.inFlight };
  });
  http.get('/metrics', async (_request, reply) => {
    await metrics.beforeScrape((err) => log.warn({ err }, 'metrics scrape hook failed'));
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await http.listen({ host: config.host, port: config.workerPort });
  log.info({ port: config.workerPort }, 'worker health endpoints are listening');
  return {
    async close() {
      await flows.stop(config.workerDrainMs);
      await http.close();
      await licensing.close();
      await pool.end();
      redis?.disconnect();
    },
  };
}

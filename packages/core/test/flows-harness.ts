import { randomUUID } from 'node:crypto';
import { type Pool, withTenant } from '@atrium/db';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';
import {
  type EnqueueOptions,
  enqueue,
  type FlowDefinition,
  FlowRegistry,
  FlowWorker,
  type FlowWorkerOptions,
  NatsQueue,
  PostgresQueue,
  type QueueBackend,
} from '../src/index.ts';

export type BackendName = 'postgres' | 'nats';

export interface FlowHarness {
  db: TestDatabase;
  /** A new organization (tenant) id. */
  organization(): Promise<string>;
  worker(flows: Array<FlowDefinition<never>>, options?: Partial<FlowWorkerOptions>): Promise<FlowWorker>;
  enqueue(tenantId: string, flowId: string, input?: unknown, options?: Partial<EnqueueOptions>): Promise<string>;
  run(tenantId: string, runId: string): Promise<{ status: string; attempts: number; output: unknown; error: unknown }>;
  waitFor(
    tenantId: string,
    runId: string,
    statuses: string[],
    timeoutMs?: number,
  ): Promise<{ status: string; attempts: number; output: unknown; error: unknown }>;
  close(): Promise<void>;
}

export function makeQueue(backend: BackendName, pool: Pool, appUrl: string, stream: string): QueueBackend {
  if (backend === 'postgres') return new PostgresQueue({ pool, connectionString: appUrl });
  return new NatsQueue({
    pool,
    connectionString: appUrl,
    servers: process.env.TEST_NATS_URL ?? '127.0.0.1:4222',
    stream,
    ackWaitMs: 2000,
    redispatchAfterMs: 3000,
  });
}

/** A database of its own, and workers on the chosen backend (a stream name of its own for JetStream). */
export async function createFlowHarness(backend: BackendName): Promise<FlowHarness> {
  const db = await createTestDatabase();
  const workers: FlowWorker[] = [];
  const stream = `ATRIUM_TEST_${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`;
  const harness: FlowHarness = {
    db,
    async organization() {
      const id = randomUUID();
      await db.owner.query('insert into organizations (id, slug, name) values ($1, $2, $3)', [id, `o-${id}`, 'Org']);
      return id;
    },
    async worker(flows, options = {}) {
      const worker = new FlowWorker({
        pool: db.app,
        registry: new FlowRegistry(flows),
        queue: makeQueue(backend, db.app, db.appUrl, stream),
        leaseMs: 2000,
        pollMs: 200,
        ...options,
      });
      await worker.start();
      workers.push(worker);
      return worker;
    },
    async enqueue(tenantId, flowId, input = {}, options = {}) {
      const result = await withTenant(db.app, tenantId, (tx) => enqueue(tx, flowId, input, { tenantId, ...options }));
      return result.runId;
    },
    async run(tenantId, runId) {
      const { rows } = await db.owner.query(
        'select status, attempts, output, error from flow_runs where tenant_id = $1 and id = $2',
        [tenantId, runId],
      );
      return rows[0];
    },
    async waitFor(tenantId, runId, statuses, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const run = await harness.run(tenantId, runId);
        if (run && statuses.includes(run.status)) return run;
        if (Date.now() > until) throw new Error(`run ${runId} is ${run?.status}, not ${statuses.join('/')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.stop(1000)));
      if (backend === 'nats') await deleteStream(stream);
      await db.drop();
    },
  };
  return harness;
}

async function deleteStream(stream: string) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: process.env.TEST_NATS_URL ?? '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => {});
  await nc.close();
}

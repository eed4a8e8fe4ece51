import { defineFlow, enqueueMany, enqueueNow, FlowRegistry, FlowWorker } from '@atrium/core';
import { createPool, migrate, withCredentials, withTenant } from '@atrium/db';
import { Logger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { adminUrl, benchQueue, createBenchOrganization } from './atrium.ts';

const jobs = Number(process.argv[2] ?? 20_000);
const latencyJobs = Number(process.argv[3] ?? 2000);
const concurrency = Number(process.argv[4] ?? 16);
const latencyRatePerSecond = 500;
const phaseTimeoutMs = 180_000;

interface Result {
  system: string;
  jobsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Counts finished jobs and start delays; `done` resolves when `expected` jobs finished (or the time is up). */
class Tally {
  finished = 0;
  delays: number[] = [];
  private expected = 0;
  private resolve: (() => void) | null = null;

  expect(count: number) {
    this.finished = 0;
    this.delays = [];
    this.expected = count;
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      setTimeout(() => reject(new Error(`timed out with ${this.finished}/${count} jobs done`)), phaseTimeoutMs).unref();
    });
  }

  record(enqueuedAt?: number) {
    if (enqueuedAt !== undefined) this.delays.push(Date.now() - enqueuedAt);
    this.finished += 1;
    if (this.finished === this.expected) this.resolve?.();
  }
}

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Enqueues `count` jobs one by one at a steady rate, each carrying its enqueue time. */
async function trickle(count: number, add: (enqueuedAt: number) => Promise<unknown>) {
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / latencyRatePerSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await add(Date.now());
  }
}

async function measure(
  system: string,
  tally: Tally,
  fill: () => Promise<void>,
  start: () => Promise<void>,
  addOne: (t: number) => Promise<unknown>,
) {
  await fill();
  const drained = tally.expect(jobs);
  const began = performance.now();
  await start();
  await drained;
  const seconds = (performance.now() - began) / 1000;
  const latency = tally.expect(latencyJobs);
  await trickle(latencyJobs, addOne);
  await latency;
  const result = {
    system,
    jobsPerSecond: Math.round(jobs / seconds),
    p50Ms: percentile(tally.delays, 50),
    p99Ms: percentile(tally.delays, 99),
  };
  console.log(JSON.stringify(result));
  return result;
}

async function atrium(backend: 'postgres' | 'nats', ownerUrl: string, appUrl: string): Promise<Result> {
  const pool = createPool({ connectionString: appUrl, max: 20 });
  const tenantId = await createBenchOrganization(ownerUrl);
  const tally = new Tally();
  const flow = defineFlow<{ t?: number }>({
    id: 'bench.noop',
    version: 1,
    run: async (ctx) => {
      tally.record(ctx.input.t);
    },
  });
  const { queue, close } = benchQueue(backend, pool, appUrl, concurrency);
  const worker = new FlowWorker({
    pool,
    registry: new FlowRegistry([flow]),
    queue,
    concurrency,
    tenantConcurrency: 100_000,
  });
  const result = await measure(
    `atrium-${backend}`,
    tally,
    async () => {
      for (let offset = 0; offset < jobs; offset += 5000) {
        const batch = Array.from({ length: Math.min(5000, jobs - offset) }, () => ({ input: {} }));
        await withTenant(pool, tenantId, (tx) => enqueueMany(tx, 'bench.noop', batch, { tenantId }));
      }
    },
    () => worker.start(),
    // A standalone enqueue, like graphile-worker's addJob: one round trip (enqueueNow).
    (t) => enqueueNow(pool, 'bench.noop', [{ input: { t } }], { tenantId }),
  );
  await worker.stop(1000);
  await pool.end();
  await close();
  return result;
}

async function graphile(url: string): Promise<Result> {
  const tally = new Tally();
  const utils = await makeWorkerUtils({ connectionString: url });
  await utils.migrate();
  let runner: Awaited<ReturnType<typeof runGraphile>> | null = null;
  const result = await measure(
    'graphile-worker',
    tally,
    async () => {
      for (let offset = 0; offset < jobs; offset += 5000) {
        const specs = Array.from({ length: Math.min(5000, jobs - offset) }, () => ({
          identifier: 'noop',
          payload: {},
        }));
        await utils.addJobs(specs);
      }
    },
    async () => {
      runner = await runGraphile({
        connectionString: url,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        logger: quietGraphileLogger(),
        taskList: {
          noop: async (payload) => {
            tally.record((payload as { t?: number }).t);
          },
        },
      });
    },
    (t) => utils.addJob('noop', { t }),
  );
  await (runner as unknown as { stop(): Promise<void> } | null)?.stop();
  await utils.release();
  return result;
}

async function pgBoss(url: string): Promise<Result> {
  const tally = new Tally();
  const boss = new PgBoss({ connectionString: url, max: 20, useListenNotify: true });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('noop', { notify: true });
  const result = await measure(
    'pg-boss',
    tally,
    async () => {
      for (let offset = 0; offset < jobs; offset += 5000) {
        await boss.insert(
          'noop',
          Array.from({ length: Math.min(5000, jobs - offset) }, () => ({ data: {} })),
        );
      }
    },
    async () => {
      // One poller fetching `concurrency` jobs at a time, re-fetching at once after a full batch, woken by NOTIFY.
      // (With batchSize 1, each of 16 local workers waits a polling interval between jobs: about 32 jobs/s.)
      await boss.work<{ t?: number }>(
        'noop',
        { batchSize: concurrency, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true },
        async (batch) => {
          await Promise.all(batch.map(async (job) => tally.record(job.data.t)));
        },
      );
    },
    (t) => boss.send('noop', { t }),
  );
  await boss.stop({ graceful: false });
  return result;
}

/** graphile-worker logs every job at info level; the benchmark keeps its errors only. */
function quietGraphileLogger() {
  return new Logger(() => (level, message) => {
    if (level === 'error') console.error(message);
  });
}

const databases: string[] = [];

/** A database of its own per system; all are dropped at the end, once every client has stopped. */
async function withDatabase<T>(name: string, work: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  databases.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return work(url.toString());
}

async function dropDatabases() {
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => {});
  await admin.connect();
  for (const name of databases) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}

/**
 * Each system runs once per round, rounds interleaved, on a fresh database each time; a system's best round is
 * reported (the machine is shared: the best round is the least disturbed one).
 */
async function main() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  console.log(JSON.stringify({ jobs, latencyJobs, concurrency, latencyRatePerSecond, rounds, node: process.version }));
  const best = new Map<string, Result>();
  const keep = (result: Result) => {
    const previous = best.get(result.system);
    if (!previous || result.jobsPerSecond > previous.jobsPerSecond) best.set(result.system, result);
  };
  // BENCH_SYSTEMS=atrium-postgres,graphile-worker runs only those (Default: all four).
  const only = process.env.BENCH_SYSTEMS?.split(',');
  const wanted = (system: string) => !only || only.includes(system);
  for (let round = 0; round < rounds; round++) {
    const stamp = `${Date.now().toString(36)}_${round}`;
    for (const backend of ['postgres', 'nats'] as const) {
      if (!wanted(`atrium-${backend}`)) continue;
      keep(
        await withDatabase(`atrium_bench_${backend}_${stamp}`, async (ownerUrl) => {
          await migrate(ownerUrl);
          return atrium(backend, ownerUrl, withCredentials(ownerUrl, 'atrium_app'));
        }),
      );
    }
    if (wanted('graphile-worker')) keep(await withDatabase(`atrium_bench_graphile_${stamp}`, graphile));
    if (wanted('pg-boss')) keep(await withDatabase(`atrium_bench_pgboss_${stamp}`, pgBoss));
  }
  const results = [...best.values()];
  const reference = best.get('graphile-worker')?.jobsPerSecond ?? Number.NaN;
  console.log('\n| system | jobs/s | × graphile-worker | enqueue→start p50 | p99 |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.system} | ${r.jobsPerSecond} | ${(r.jobsPerSecond / reference).toFixed(2)} | ${r.p50Ms} ms | ${r.p99Ms} ms |`,
    );
  }
}

// Connections of the libraries under test are cut when their databases are dropped; that is expected here.
process.on('uncaughtException', (err) => {
  if (!/terminating connection|Connection terminated/.test(String(err))) throw err;
});
try {
  await main();
} finally {
  await dropDatabases();
}
process.exit(0);

import { defineFlow, enqueueMany, enqueueNow, FlowRegistry, FlowWorker } from '@atrium/core';
import { createPool, migrate, withCredentials, withTenant } from '@atrium/db';
import pg from 'pg';
import { adminUrl, benchQueue, createBenchOrganization } from './atrium.ts';

const jobs = Number(process.argv[2] ?? 2000);
const latencyJobs = Number(process.argv[3] ?? 200);
const concurrency = Number(process.argv[4] ?? 16);
const backend = (process.argv[5] ?? 'postgres') as 'postgres' | 'nats';

let roundTrips = 0;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  roundTrips += 1;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

interface Counters {
  roundTrips: number;
  commits: number;
  tables: Record<string, { ins: number; upd: number; hot: number; del: number }>;
}

async function counters(admin: pg.Client, db: string, local: pg.Client): Promise<Counters> {
  const trips = roundTrips;
  // An idle backend reports its table statistics up to 10 s later (PostgreSQL 15: PGSTAT_IDLE_INTERVAL).
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  await admin.query('select pg_stat_clear_snapshot()');
  const { rows: dbRows } = await admin.query<{ xact_commit: string }>(
    'select xact_commit from pg_stat_database where datname = $1',
    [db],
  );
  await local.query('select pg_stat_clear_snapshot()');
  const { rows } = await local.query<{ relname: string; ins: string; upd: string; hot: string; del: string }>(
    `select relname, n_tup_ins as ins, n_tup_upd as upd, n_tup_hot_upd as hot, n_tup_del as del
     from pg_stat_user_tables where relname like 'flow_%'`,
  );
  return {
    roundTrips: trips,
    commits: Number(dbRows[0]?.xact_commit ?? 0),
    tables: Object.fromEntries(
      rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), hot: Number(r.hot), del: Number(r.del) }]),
    ),
  };
}

function perJob(label: string, before: Counters, after: Counters, count: number, admin: Counters) {
  const round = (n: number) => Math.round((n / count) * 100) / 100;
  const tables: Record<string, string> = {};
  for (const [name, t] of Object.entries(after.tables)) {
    const b = before.tables[name] ?? { ins: 0, upd: 0, hot: 0, del: 0 };
    const d = { ins: t.ins - b.ins, upd: t.upd - b.upd, hot: t.hot - b.hot, del: t.del - b.del };
    if (d.ins + d.upd + d.del > 0)
      tables[name] = `ins ${round(d.ins)} upd ${round(d.upd)} (hot ${round(d.hot)}) del ${round(d.del)}`;
  }
  console.log(
    JSON.stringify({
      phase: label,
      jobs: count,
      roundTripsPerJob: round(after.roundTrips - before.roundTrips),
      // The probe's own statistics queries commit too.
      commitsPerJob: round(after.commits - before.commits - admin.commits),
      tables,
    }),
  );
}

async function main() {
  const db = `atrium_count_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${db}`);
  const url = new URL(adminUrl);
  url.pathname = `/${db}`;
  const ownerUrl = url.toString();
  let closeQueue = async () => {};
  try {
    await migrate(ownerUrl);
    const appUrl = withCredentials(ownerUrl, 'atrium_app');
    const tenantId = await createBenchOrganization(ownerUrl);
    const local = new pg.Client({ connectionString: ownerUrl });
    await local.connect();
    const pool = createPool({ connectionString: appUrl, max: 20 });
    let finished = 0;
    let target = 0;
    let onTarget: (() => void) | null = null;
    const flow = defineFlow({
      id: 'bench.noop',
      version: 1,
      run: async () => {
        finished += 1;
        if (finished === target) onTarget?.();
      },
    });
    const until = (count: number) =>
      new Promise<void>((resolve, reject) => {
        target = count;
        onTarget = resolve;
        if (finished >= count) resolve();
        setTimeout(() => reject(new Error(`timed out at ${finished}/${count}`)), 120_000).unref();
      });
    const bench = benchQueue(backend, pool, appUrl, concurrency);
    closeQueue = bench.close;
    const queue = bench.queue;
    const worker = new FlowWorker({
      pool,
      registry: new FlowRegistry([flow]),
      queue,
      concurrency,
      tenantConcurrency: 100_000,
      // Heartbeats are periodic, not per job: keep them out of the counts.
      leaseMs: 600_000,
    });
    // Snapshots commit: measure the probe itself once.
    const a0 = await counters(admin, db, local);
    const a1 = await counters(admin, db, local);
    const probe = { roundTrips: 0, commits: a1.commits - a0.commits, tables: {} };

    let before = await counters(admin, db, local);
    for (let offset = 0; offset < jobs; offset += 1000) {
      const batch = Array.from({ length: Math.min(1000, jobs - offset) }, () => ({ input: {} }));
      await withTenant(pool, tenantId, (tx) => enqueueMany(tx, 'bench.noop', batch, { tenantId }));
    }
    let after = await counters(admin, db, local);
    perJob('fill: enqueue (batches of 1000)', before, after, jobs, probe);

    before = after;
    const drained = until(jobs);
    await worker.start();
    await drained;
    after = await counters(admin, db, local);
    perJob('fill: worker', before, after, jobs, probe);

    before = after;
    const latencyDone = until(jobs + latencyJobs);
    let enqueueTrips = 0;
    for (let i = 0; i < latencyJobs; i++) {
      const t = roundTrips;
      await enqueueNow(pool, 'bench.noop', [{ input: {} }], { tenantId });
      enqueueTrips += roundTrips - t;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await latencyDone;
    after = await counters(admin, db, local);
    perJob('one by one: enqueue + worker', before, after, latencyJobs, probe);
    console.log(JSON.stringify({ phase: 'one by one: enqueue alone', roundTripsPerJob: enqueueTrips / latencyJobs }));
    await worker.stop(1000);
    await pool.end();
    await local.end();
  } finally {
    await admin.query(`drop database if exists ${db} with (force)`);
    await admin.end();
    await closeQueue();
  }
}

await main();
process.exit(0);

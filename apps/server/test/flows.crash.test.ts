import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enqueueMany, FlowRegistry, FlowWorker, NatsQueue, PostgresQueue, type QueueBackend } from '@atrium/core';
import { createPool, migrate, type Pool, withTenant } from '@atrium/db';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/database.ts';
import { freePort } from '../../../test/processes.ts';
import { startEmbeddedPostgres } from '../src/embedded-postgres.ts';
import { crashFlows, effectsTableSql } from './fixtures/crash-flows.ts';

/**
 * Crash tests against real servers. Killing a worker uses the machine's PostgreSQL (nothing shared is stopped);
 * restarting NATS and stopping PostgreSQL use instances this file starts on free ports.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

const machineNats = process.env.TEST_NATS_URL ?? '127.0.0.1:4222';

async function deleteStream(servers: string, stream: string) {
  const nc = await connect({ servers });
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
  await nc.close();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function organization(owner: Pool) {
  const id = randomUUID();
  await owner.query('insert into organizations (id, slug, name) values ($1, $2, $3)', [id, `o-${id}`, 'Crash']);
  return id;
}

async function enqueueEffects(pool: Pool, tenantId: string, count: number, input: object) {
  const runs = await withTenant(pool, tenantId, (tx) =>
    enqueueMany(
      tx,
      'crash.effects',
      Array.from({ length: count }, () => ({ input })),
      { tenantId },
    ),
  );
  return runs.map((run) => run.runId);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

async function effectCounts(owner: Pool) {
  const { rows } = await owner.query<{ step: string; runs: number; rows: number }>(
    `select step, count(distinct run_id)::int as runs, count(*)::int as rows from effects group by step order by step`,
  );
  return Object.fromEntries(rows.map((row) => [row.step, { runs: row.runs, rows: row.rows }]));
}

const worker = (pool: Pool, queue: QueueBackend) =>
  new FlowWorker({ pool, registry: new FlowRegistry(crashFlows), queue, leaseMs: 1500, pollMs: 100, concurrency: 16 });

describe('flow crashes', () => {
  it.each(['postgres', 'nats'] as const)(
    '%s: retries a step elsewhere within seconds after kill -9 of its worker, with its effects once',
    async (backend) => {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      await db.owner.query(effectsTableSql);
      const tenant = await organization(db.owner);
      // The machine's NATS (never stopped here), with a stream of this test's own.
      const stream = `ATRIUM_CRASH_${randomUUID().slice(0, 8).toUpperCase()}`;
      if (backend === 'nats') cleanups.push(() => deleteStream(machineNats, stream));
      const child: ChildProcess = spawn(
        process.execPath,
        [
          fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url)),
          db.appUrl,
          ...(backend === 'nats' ? [machineNats, stream] : []),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      cleanups.push(async () => child.kill('SIGKILL'));
      await new Promise<void>((resolve) =>
        child.stdout?.on('data', (chunk) => String(chunk).includes('ready') && resolve()),
      );
      const [runId] = await enqueueEffects(db.app, tenant, 1, { hangFirstAttempt: true });
      await waitUntil(async () => (await effectCounts(db.owner)).hang?.rows === 1, 15_000, 'the step to start');

      child.kill('SIGKILL');
      const killedAt = Date.now();
      const survivor = worker(
        db.app,
        backend === 'nats'
          ? new NatsQueue({
              pool: db.app,
              connectionString: db.appUrl,
              servers: machineNats,
              stream,
              ackWaitMs: 1500,
              redispatchAfterMs: 3000,
            })
          : new PostgresQueue({ pool: db.app, connectionString: db.appUrl }),
      );
      await survivor.start();
      cleanups.push(() => survivor.stop(500));
      await waitUntil(
        async () =>
          (await db.owner.query(`select 1 from flow_runs where id = $1 and status = 'succeeded'`, [runId])).rowCount ===
          1,
        15_000,
        'the run to succeed on another worker',
      );
      // Lease 1.5 s: the dead worker's step is noticed and restarted in seconds, not hours.
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect(await effectCounts(db.owner)).toEqual({
        first: { runs: 1, rows: 1 },
        hang: { runs: 1, rows: 1 },
        second: { runs: 1, rows: 1 },
      });
      const { rows } = await db.owner.query(
        'select status, worker_id from flow_attempts where run_id = $1 order by number',
        [runId],
      );
      expect(rows.map((row) => row.status)).toEqual(['lost', 'succeeded']);
      expect(rows[0].worker_id).toBe('doomed-worker');
    },
  );

  it('loses no job when NATS restarts', async () => {
    const port = await freePort();
    const storeDir = await mkdtemp(join(tmpdir(), 'atrium-nats-'));
    cleanups.push(() => rm(storeDir, { recursive: true, force: true }));
    const startNats = () => {
      const nats = spawn('/usr/sbin/nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
        stdio: 'ignore',
      });
      cleanups.push(async () => nats.kill('SIGKILL'));
      return nats;
    };
    let nats = startNats();
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    await db.owner.query(effectsTableSql);
    const tenant = await organization(db.owner);
    const queue = new NatsQueue({
      pool: db.app,
      connectionString: db.appUrl,
      servers: `127.0.0.1:${port}`,
      stream: 'ATRIUM_CRASH',
      ackWaitMs: 1500,
      redispatchAfterMs: 3000,
    });
    await waitUntil(async () => await queue.start().then(() => true), 10_000, 'NATS to accept connections');
    const running = worker(db.app, queue);
    await running.start();
    cleanups.push(() => running.stop(500));
    const runIds = await enqueueEffects(db.app, tenant, 300, { ms: 20 });
    await waitUntil(
      async () => ((await effectCounts(db.owner)).second?.runs ?? 0) >= 30,
      15_000,
      'some runs to finish',
    );

    nats.kill('SIGTERM');
    await new Promise((resolve) => nats.once('exit', resolve));
    await sleep(1000);
    nats = startNats();

    const done = async () =>
      (
        await db.owner.query(`select count(*)::int as n from flow_runs where status = 'succeeded' and id = any($1)`, [
          runIds,
        ])
      ).rows[0].n === runIds.length;
    await waitUntil(done, 40_000, 'every run to succeed after the restart');
    expect(await effectCounts(db.owner)).toEqual({ first: { runs: 300, rows: 300 }, second: { runs: 300, rows: 300 } });
  });

  it('backs off while PostgreSQL is stopped for 10 s, then resumes and finishes every run once', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'atrium-pg-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const log = pino({ level: 'silent' });
    let server = await startEmbeddedPostgres(dataDir, port, log);
    cleanups.push(() => server.stop());
    await migrate(server.ownerUrl, { appPassword: server.appPassword });
    const owner = createPool({ connectionString: server.ownerUrl, max: 2 });
    const app = createPool({ connectionString: server.appUrl, max: 8, connectionTimeoutMs: 1000 });
    cleanups.push(() => Promise.all([owner.end(), app.end()]));
    await owner.query(effectsTableSql);
    const tenant = await organization(owner);
    const running = worker(app, new PostgresQueue({ pool: app, connectionString: server.appUrl }));
    await running.start();
    cleanups.push(() => running.stop(500));
    const runIds = await enqueueEffects(app, tenant, 200, { ms: 50 });
    await waitUntil(async () => ((await effectCounts(owner)).second?.runs ?? 0) >= 20, 15_000, 'some runs to finish');

    expect((await effectCounts(owner)).second?.runs ?? 0).toBeLessThan(150);
    await server.stop();
    await sleep(10_000);
    server = await startEmbeddedPostgres(dataDir, port, log);

    const done = async () =>
      (
        await owner.query(`select count(*)::int as n from flow_runs where status = 'succeeded' and id = any($1)`, [
          runIds,
        ])
      ).rows[0].n === runIds.length;
    await waitUntil(done, 60_000, 'every run to succeed after PostgreSQL came back');
    expect(await effectCounts(owner)).toEqual({ first: { runs: 200, rows: 200 }, second: { runs: 200, rows: 200 } });
  });
});

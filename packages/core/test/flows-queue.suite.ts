import { withTenant } from '@atrium/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineFlow, enqueueMany, flowRuns, NonRetryableError } from '../src/index.ts';
import { type BackendName, createFlowHarness, type FlowHarness } from './flows-harness.ts';

const system = (tenantId: string, pool: FlowHarness['db']['app']) => ({
  pool,
  tenantId,
  actor: { type: 'system' as const, id: null },
  requestId: null,
});

/**
 * The one suite both queue backends pass: delivery, memoized steps, retries, dead runs and redrive,
 * cancellation, timeouts, delayed start, priority, idempotent enqueue, stale completions and tenant fairness.
 */
export function queueBackendSuite(backend: BackendName) {
  describe(`flows on the ${backend} backend`, () => {
    let h: FlowHarness;
    let tenant: string;
    const calls = new Map<string, number>();
    const count = (key: string) => calls.set(key, (calls.get(key) ?? 0) + 1);
    const finished: string[] = [];
    let releaseBlocked: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      releaseBlocked = resolve;
    });
    let releaseLimited: () => void = () => {};
    const limited = new Promise<void>((resolve) => {
      releaseLimited = resolve;
    });

    const flows = [
      defineFlow<{ n: number }>({
        id: 'test.echo',
        version: 1,
        run: async (ctx) => ({ doubled: ctx.input.n * 2 }),
      }),
      defineFlow<{ key: string }>({
        id: 'test.memo',
        version: 1,
        retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 },
        run: async (ctx) => {
          const first = await ctx.step('first', async () => {
            count(`${ctx.input.key}:first`);
            return { at: 'first' };
          });
          const second = await ctx.step('second', async () => {
            count(`${ctx.input.key}:second`);
            if ((calls.get(`${ctx.input.key}:second`) ?? 0) < 2) throw new Error('flaky');
            return 'ok';
          });
          return { first, second, attempt: ctx.attempt };
        },
      }),
      defineFlow({
        id: 'test.always-fails',
        version: 1,
        retry: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
        run: async (ctx) => {
          count(`fails:${ctx.runId}`);
          if ((calls.get(`fails:${ctx.runId}`) ?? 0) <= 2) throw new Error('broken');
          return 'repaired';
        },
      }),
      defineFlow({
        id: 'test.fatal',
        version: 1,
        run: async () => {
          throw new NonRetryableError('bad input');
        },
      }),
      defineFlow({
        id: 'test.waits-for-abort',
        version: 1,
        run: (ctx) =>
          ctx.step('wait', (signal) => {
            count('waiting');
            return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          }),
      }),
      defineFlow({
        id: 'test.slow-attempt',
        version: 1,
        attemptTimeoutMs: 100,
        retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 },
        run: () => new Promise((resolve) => setTimeout(resolve, 5000)),
      }),
      defineFlow({
        id: 'test.slow-run',
        version: 1,
        runTimeoutMs: 150,
        run: () => new Promise((resolve) => setTimeout(resolve, 5000)),
      }),
      defineFlow<{ label: string }>({
        id: 'test.record',
        version: 1,
        run: async (ctx) => {
          finished.push(ctx.input.label);
        },
      }),
      defineFlow({
        id: 'test.drain',
        version: 1,
        // Two attempts allowed, a minute of backoff. The first attempt runs until its worker drains; the second
        // fails; the third succeeds: only possible if the handed-back attempt did not count.
        retry: { maxAttempts: 2, initialDelayMs: 60_000, maxDelayMs: 60_000 },
        run: async (ctx) => {
          if (ctx.attempt === 1) {
            return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
          }
          if (ctx.attempt === 2) throw new Error('flaky after the hand-back');
          return { attempt: ctx.attempt };
        },
      }),
      defineFlow({
        id: 'test.blocked',
        version: 1,
        run: async () => blocked,
      }),
      defineFlow({
        id: 'test.limited',
        version: 1,
        run: async () => limited,
      }),
    ];

    let first: Awaited<ReturnType<FlowHarness['worker']>>;
    beforeAll(async () => {
      h = await createFlowHarness(backend);
      tenant = await h.organization();
      first = await h.worker(flows, { concurrency: 8, tenantConcurrency: 4 });
    });
    afterAll(() => h.close());

    it('runs a flow and stores its output', async () => {
      const runId = await h.enqueue(tenant, 'test.echo', { n: 21 });
      const run = await h.waitFor(tenant, runId, ['succeeded']);
      expect(run).toMatchObject({ status: 'succeeded', output: { doubled: 42 } });
      const { rows } = await h.db.owner.query('select status, number from flow_attempts where run_id = $1', [runId]);
      expect(rows).toEqual([{ status: 'succeeded', number: 1 }]);
      const queue = await h.db.owner.query('select 1 from flow_queue where run_id = $1', [runId]);
      expect(queue.rowCount).toBe(0);
    });

    it('enqueues once per idempotency key', async () => {
      const first = await h.enqueue(tenant, 'test.echo', { n: 1 }, { idempotencyKey: 'same' });
      const second = await h.enqueue(tenant, 'test.echo', { n: 1 }, { idempotencyKey: 'same' });
      expect(second).toBe(first);
      await h.waitFor(tenant, first, ['succeeded']);
    });

    it('retries a failed step and does not repeat the steps that completed', async () => {
      const runId = await h.enqueue(tenant, 'test.memo', { key: 'memo' });
      const run = await h.waitFor(tenant, runId, ['succeeded']);
      expect(run.output).toEqual({ first: { at: 'first' }, second: 'ok', attempt: 2 });
      expect(calls.get('memo:first')).toBe(1);
      expect(calls.get('memo:second')).toBe(2);
      const detail = await flowRuns.getRun(system(tenant, h.db.app), runId);
      expect(detail.attempts_detail.map((a) => a.status)).toEqual(['failed', 'succeeded']);
      expect(detail.steps.map((s) => s.name)).toEqual(['first', 'second']);
    });

    it('marks a run dead when its attempts are used up, and redrive runs it again', async () => {
      const runId = await h.enqueue(tenant, 'test.always-fails');
      const dead = await h.waitFor(tenant, runId, ['dead']);
      expect(dead).toMatchObject({ attempts: 2, error: { message: 'broken' } });
      await flowRuns.redriveRun(system(tenant, h.db.app), runId);
      expect(await h.waitFor(tenant, runId, ['succeeded'])).toMatchObject({ output: 'repaired' });
    });

    it('does not retry a NonRetryableError', async () => {
      const runId = await h.enqueue(tenant, 'test.fatal');
      expect(await h.waitFor(tenant, runId, ['dead'])).toMatchObject({ attempts: 1, error: { message: 'bad input' } });
    });

    it('cancels a running run by firing its step signal', async () => {
      const runId = await h.enqueue(tenant, 'test.waits-for-abort');
      await h.waitFor(tenant, runId, ['running']);
      while ((calls.get('waiting') ?? 0) < 1) await new Promise((resolve) => setTimeout(resolve, 20));
      await flowRuns.cancelRun(system(tenant, h.db.app), runId);
      expect(await h.waitFor(tenant, runId, ['cancelled'])).toMatchObject({ status: 'cancelled' });
    });

    it('cancels a waiting run before it starts', async () => {
      const runId = await h.enqueue(tenant, 'test.echo', { n: 1 }, { runAt: new Date(Date.now() + 60_000) });
      const run = await flowRuns.cancelRun(system(tenant, h.db.app), runId);
      expect(run.status).toBe('cancelled');
      await expect(flowRuns.cancelRun(system(tenant, h.db.app), runId)).rejects.toMatchObject({
        code: 'flow_run_state',
      });
    });

    it('times out an attempt (then retries) and a whole run', async () => {
      const attemptRun = await h.enqueue(tenant, 'test.slow-attempt');
      const wholeRun = await h.enqueue(tenant, 'test.slow-run');
      expect(await h.waitFor(tenant, attemptRun, ['dead'])).toMatchObject({ attempts: 2 });
      expect(await h.waitFor(tenant, wholeRun, ['timed_out'])).toMatchObject({ attempts: 1 });
      const { rows } = await h.db.owner.query('select status from flow_attempts where run_id = $1', [attemptRun]);
      expect(rows.map((row) => row.status)).toEqual(['timed_out', 'timed_out']);
    });

    it('does not start a delayed run before its time', async () => {
      const runAt = new Date(Date.now() + 700);
      const runId = await h.enqueue(tenant, 'test.echo', { n: 2 }, { runAt });
      await h.waitFor(tenant, runId, ['succeeded']);
      const { rows } = await h.db.owner.query('select started_at from flow_runs where id = $1', [runId]);
      expect(rows[0].started_at.getTime()).toBeGreaterThanOrEqual(runAt.getTime() - 5);
    });

    it('refuses a completion whose lease was taken over', async () => {
      const other = await h.organization();
      const runId = await h.enqueue(other, 'test.echo', { n: 3 }, { runAt: new Date(Date.now() + 60_000) });
      await h.db.owner.query(
        `update flow_queue set lease_token = gen_random_uuid(), leased_until = now() + interval '1 minute'
         where run_id = $1`,
        [runId],
      );
      const { completeSucceeded } = await import('../src/flows/attempts.repository.ts');
      const stale = { tenantId: other, runId, leaseToken: crypto.randomUUID(), readyAt: new Date() };
      const accepted = await completeSucceeded(h.db.app, [
        { claim: stale, attemptId: crypto.randomUUID(), output: 'x' },
      ]);
      expect(accepted.size).toBe(0);
      expect(await h.run(other, runId)).toMatchObject({ status: 'queued' });
    });

    it('runs higher priorities first and keeps tenants fair: 10,000 jobs of A do not starve 10 of B', async () => {
      const a = await h.organization();
      const b = await h.organization();
      // Everything waits until the worker below starts, so the order is the dispatcher's, not the arrival's.
      const startAt = new Date(Date.now() + 1500);
      const inputs = Array.from({ length: 10_000 }, (_, i) => ({ input: { label: `a${i}` } }));
      await withTenant(h.db.app, a, (tx) =>
        enqueueMany(tx, 'test.record', inputs, { tenantId: a, runAt: startAt, trigger: 'test' }),
      );
      await withTenant(h.db.app, a, (tx) =>
        enqueueMany(tx, 'test.record', [{ input: { label: 'a-urgent' } }], {
          tenantId: a,
          runAt: startAt,
          priority: 10,
        }),
      );
      const bInputs = Array.from({ length: 10 }, (_, i) => ({ input: { label: `b${i}` } }));
      await withTenant(h.db.app, b, (tx) => enqueueMany(tx, 'test.record', bInputs, { tenantId: b, runAt: startAt }));
      const until = Date.now() + 25_000;
      while (finished.filter((label) => label.startsWith('b')).length < 10 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const bPositions = finished.flatMap((label, i) => (label.startsWith('b') ? [i] : []));
      expect(bPositions).toHaveLength(10);
      // B's ten finish among the first few hundred of 10,011 runs, while most of A's backlog still waits.
      expect(Math.max(...bPositions)).toBeLessThan(1000);
      const { rows } = await h.db.owner.query(
        `select count(*)::int as waiting from flow_runs where tenant_id = $1 and status = 'queued'`,
        [a],
      );
      expect(rows[0].waiting).toBeGreaterThan(5000);
      // The urgent run is in A's first claimed batch (at most 4 run at once), ahead of 10,000 older ones.
      expect(finished.filter((label) => label.startsWith('a')).indexOf('a-urgent')).toBeLessThan(8);
      // The backlog is not this test's business any more.
      await h.db.owner.query('delete from flow_queue where tenant_id = $1', [a]);
    });

    it('holds the per-tenant concurrency limit', async () => {
      const c = await h.organization();
      const ids = await Promise.all(Array.from({ length: 6 }, () => h.enqueue(c, 'test.blocked')));
      const running = async () => {
        const { rows } = await h.db.owner.query(
          `select count(*)::int as n from flow_runs where tenant_id = $1 and status = 'running'`,
          [c],
        );
        return rows[0].n as number;
      };
      const until = Date.now() + 5000;
      while (Date.now() < until && (await running()) < 4) await new Promise((resolve) => setTimeout(resolve, 50));
      // A few more claim rounds: still no more than four of C's six runs at once.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await running()).toBe(4);
      releaseBlocked();
      for (const id of ids) await h.waitFor(c, id, ['succeeded']);
    });

    it("holds an organization's own concurrency limit instead of the workers' default", async () => {
      const narrow = await h.organization();
      const wide = await h.organization();
      await h.db.owner.query('insert into flow_tenant_limits (tenant_id, concurrency) values ($1, 2), ($2, 5)', [
        narrow,
        wide,
      ]);
      const narrowIds = await Promise.all(Array.from({ length: 5 }, () => h.enqueue(narrow, 'test.limited')));
      const wideIds = await Promise.all(Array.from({ length: 7 }, () => h.enqueue(wide, 'test.limited')));
      const running = async (tenantId: string) => {
        const { rows } = await h.db.owner.query(
          `select count(*)::int as n from flow_runs where tenant_id = $1 and status = 'running'`,
          [tenantId],
        );
        return rows[0].n as number;
      };
      const until = Date.now() + 5000;
      while (Date.now() < until && ((await running(narrow)) < 2 || (await running(wide)) < 5)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A few more claim rounds: two of the narrow organization's runs at once, five of the wide one's (above the
      // workers' default of four; seven in all, under the worker's eight).
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await running(narrow)).toBe(2);
      expect(await running(wide)).toBe(5);
      releaseLimited();
      for (const id of narrowIds) await h.waitFor(narrow, id, ['succeeded']);
      for (const id of wideIds) await h.waitFor(wide, id, ['succeeded']);
    });

    it('hands a running run back when its worker drains, at once and uncounted, and another worker finishes it', async () => {
      const runId = await h.enqueue(tenant, 'test.drain');
      await h.waitFor(tenant, runId, ['running']);
      await first.stop(100);
      // Handed back, not lost: waiting again right away (its readiness is not moved into the future), unleased.
      const { rows: queued } = await h.db.owner.query(
        'select ready_at <= now() as ready, lease_token from flow_queue where run_id = $1',
        [runId],
      );
      expect(queued).toEqual([{ ready: true, lease_token: null }]);
      expect(await h.run(tenant, runId)).toMatchObject({ status: 'queued', attempts: 1 });
      const second = await h.worker(flows, { concurrency: 8, workerId: 'second-worker' });
      // Attempt 2 fails; with maxAttempts 2 the run is retried, not dead: the handed-back attempt did not count.
      // Its backoff is a minute: move it to now, as if that minute had passed.
      const until = Date.now() + 15_000;
      while ((await h.run(tenant, runId)).attempts < 2 || (await h.run(tenant, runId)).status !== 'queued') {
        if (Date.now() > until) throw new Error(`run ${runId} did not fail its second attempt`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { rows: retry } = await h.db.owner.query(
        `select ready_at > now() + interval '20 seconds' as backed_off from flow_queue where run_id = $1`,
        [runId],
      );
      // A real failure, unlike the hand-back, is backed off.
      expect(retry).toEqual([{ backed_off: true }]);
      await h.db.owner.query('update flow_queue set ready_at = now() where run_id = $1', [runId]);
      expect(await h.waitFor(tenant, runId, ['succeeded'])).toMatchObject({ output: { attempt: 3 } });
      const detail = await flowRuns.getRun(system(tenant, h.db.app), runId);
      expect(detail.attempts_detail.map((a) => a.status)).toEqual(['handed_back', 'failed', 'succeeded']);
      expect(detail.attempts_detail[0]).toMatchObject({
        worker_id: first.workerId,
        error: { message: 'the worker drained and handed the run back' },
      });
      expect(detail.attempts_detail[0]?.finished_at).not.toBeNull();
      expect(detail.attempts_detail[2]?.worker_id).toBe(second.workerId);
    });
  });
}

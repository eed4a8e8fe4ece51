import { withTenant } from '@atrium/db';
import { context, propagation, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineFlow, enqueueMany, enqueueNow } from '../src/index.ts';
import { createFlowHarness, type FlowHarness } from './flows-harness.ts';

/** enqueueNow sends the tenant transaction as one message: values are inlined, so they must survive intact. */
describe('enqueueNow (a standalone enqueue in one round trip)', () => {
  let h: FlowHarness;
  let tenant: string;
  let other: string;
  const echo = defineFlow<{ text: string }>({
    id: 'test.echo-now',
    version: 1,
    run: async (ctx) => ({ text: ctx.input.text }),
  });

  beforeAll(async () => {
    h = await createFlowHarness('postgres');
    tenant = await h.organization();
    other = await h.organization();
    await h.worker([echo]);
  });
  afterAll(async () => h?.close());

  it('starts runs whose input, key and trigger arrive intact, and a worker runs them', async () => {
    const text = `quote ' backslash \\ dollar $$ $1 unicode é ${'\u{1F600}'} nul-free`;
    const [run] = await enqueueNow(h.db.app, 'test.echo-now', [{ input: { text }, idempotencyKey: "k'1" }], {
      tenantId: tenant,
      trigger: "api'",
    });
    expect(run?.created).toBe(true);
    const done = await h.waitFor(tenant, run?.runId ?? '', ['succeeded']);
    expect(done.output).toEqual({ text });
    const { rows } = await h.db.owner.query(
      'select tenant_id, idempotency_key, trigger, input from flow_runs where id = $1',
      [run?.runId],
    );
    expect(rows[0]).toEqual({ tenant_id: tenant, idempotency_key: "k'1", trigger: "api'", input: { text } });
  });

  it('deduplicates by idempotency key, against runs started either way', async () => {
    const [first] = await enqueueNow(h.db.app, 'test.echo-now', [{ input: { text: 'a' }, idempotencyKey: 'dup' }], {
      tenantId: tenant,
    });
    const [again] = await enqueueNow(h.db.app, 'test.echo-now', [{ input: { text: 'b' }, idempotencyKey: 'dup' }], {
      tenantId: tenant,
    });
    const [viaTx] = await withTenant(h.db.app, tenant, (tx) =>
      enqueueMany(tx, 'test.echo-now', [{ input: { text: 'c' }, idempotencyKey: 'dup' }], { tenantId: tenant }),
    );
    expect(again).toEqual({ runId: first?.runId, created: false });
    expect(viaTx).toEqual({ runId: first?.runId, created: false });
    // Another tenant's key space is its own.
    const [elsewhere] = await enqueueNow(h.db.app, 'test.echo-now', [{ input: { text: 'd' }, idempotencyKey: 'dup' }], {
      tenantId: other,
    });
    expect(elsewhere?.created).toBe(true);
    expect(elsewhere?.runId).not.toBe(first?.runId);
  });

  it('keeps several runs in order and honours priority and a delayed start', async () => {
    const runAt = new Date(Date.now() + 60_000);
    const runs = await enqueueNow(
      h.db.app,
      'test.echo-now',
      [{ input: { text: '1' } }, { input: { text: '2' } }, { input: { text: '3' } }],
      { tenantId: tenant, priority: 7, runAt },
    );
    expect(runs).toHaveLength(3);
    const { rows } = await h.db.owner.query<{ id: string; input: { text: string }; priority: number; ready_at: Date }>(
      `select r.id, r.input, q.priority, q.ready_at from flow_runs r join flow_queue q on q.run_id = r.id
       where r.id = any($1::uuid[])`,
      [runs.map((run) => run.runId)],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(runs.map((run) => byId.get(run.runId)?.input.text)).toEqual(['1', '2', '3']);
    for (const row of rows) {
      expect(row.priority).toBe(7);
      expect(row.ready_at.getTime()).toBe(runAt.getTime());
    }
  });

  it('refuses a tenant id that is not a UUID, and still applies a queue quota', async () => {
    await expect(
      enqueueNow(h.db.app, 'test.echo-now', [{ input: {} }], { tenantId: "x'); drop table flow_runs; --" }),
    ).rejects.toThrow(/UUID/);
    const small = await h.organization();
    await enqueueNow(h.db.app, 'test.echo-now', [{ input: {} }], {
      tenantId: small,
      queueQuota: 1,
      runAt: new Date(Date.now() + 60_000),
    });
    await expect(
      enqueueNow(h.db.app, 'test.echo-now', [{ input: {} }], { tenantId: small, queueQuota: 1 }),
    ).rejects.toMatchObject({ code: 'flow_queue_full' });
  });

  it('keeps the trace context of a traced enqueuer with the run, either way, and none when untraced', async () => {
    // The W3C propagator the server registers when tracing is on (ADR 0009), and a sampled span to enqueue under.
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const traced = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: TraceFlags.SAMPLED,
      });
      const expected = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
      const [now] = await context.with(traced, () =>
        enqueueNow(h.db.app, 'test.echo-now', [{ input: { text: 't1' } }], { tenantId: tenant }),
      );
      const [inTx] = await context.with(traced, () =>
        withTenant(h.db.app, tenant, (tx) =>
          enqueueMany(tx, 'test.echo-now', [{ input: { text: 't2' } }], { tenantId: tenant }),
        ),
      );
      const [untraced] = await enqueueNow(h.db.app, 'test.echo-now', [{ input: { text: 't3' } }], { tenantId: tenant });
      const stored = async (runId: string | undefined) =>
        (await h.db.owner.query('select trace_context from flow_runs where id = $1', [runId])).rows[0]?.trace_context;
      expect(await stored(now?.runId)).toEqual(expected);
      expect(await stored(inTx?.runId)).toEqual(expected);
      expect(await stored(untraced?.runId)).toBeNull();
      // The worker's side (the claim hands it over, the attempt's span joins the trace): tracing.test.ts.
    } finally {
      propagation.disable();
      context.disable();
    }
  });
});

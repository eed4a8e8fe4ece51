import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { newUuid } from '@atrium/contracts';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';
import { relayAuditEvents, signAuditBody } from '../src/index.ts';

interface Received {
  eventId: string;
  idempotencyKey: string;
  signature: string;
  traceparent: string | undefined;
  body: string;
}

/** The audit relay against a real HTTP receiver on 127.0.0.1: what it sends, how it retries, what it holds open. */
let db: TestDatabase;
let server: Server;
let url: string;
const received: Received[] = [];
let answer: (request: IncomingMessage, response: ServerResponse) => void | Promise<void> = (_request, response) => {
  response.end('ok');
};
const secret = 'relay-test-secret';

beforeAll(async () => {
  db = await createTestDatabase();
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({
        eventId: String(request.headers['x-atrium-event-id']),
        idempotencyKey: String(request.headers['idempotency-key']),
        signature: String(request.headers['x-atrium-signature']),
        traceparent: request.headers.traceparent as string | undefined,
        body,
      });
      void answer(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/audit`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await db.drop();
});
beforeEach(() => {
  received.length = 0;
  answer = (_request, response) => {
    response.end('ok');
  };
});

async function organizationWithEvents(count: number) {
  const tenantId = randomUUID();
  await db.owner.query('insert into organizations (id, slug, name) values ($1, $2, $3)', [
    tenantId,
    `r-${tenantId}`,
    'R',
  ]);
  await audit(tenantId, count);
  return tenantId;
}

async function audit(tenantId: string, count: number) {
  for (let i = 0; i < count; i++) {
    await db.owner.query(
      `insert into audit_logs (tenant_id, id, actor_type, action, resource_type) values ($1, $2, 'system', $3, 'test')`,
      [tenantId, newUuid(), `test.event-${i}`],
    );
  }
}

const events = (delivery: Received) => JSON.parse(delivery.body).events as Array<{ id: string; action: string }>;

describe('audit relay', () => {
  it('delivers the events once, signed, with a stable event id, and moves the cursor', async () => {
    const tenant = await organizationWithEvents(3);
    const result = await relayAuditEvents(db.app, tenant, { url, secret });
    expect(result).toEqual({ relayed: 3, pending: null });
    expect(received).toHaveLength(1);
    const [delivery] = received as [Received];
    expect(delivery.signature).toBe(signAuditBody(secret, delivery.body));
    expect(delivery.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(delivery.idempotencyKey).toBe(delivery.eventId);
    expect(JSON.parse(delivery.body)).toMatchObject({ id: delivery.eventId, organization_id: tenant });
    expect(events(delivery).map((e) => e.action)).toEqual(['test.event-0', 'test.event-1', 'test.event-2']);
    // Nothing new: nothing sent; the delivered batch is gone and counted.
    expect(await relayAuditEvents(db.app, tenant, { url, secret })).toEqual({ relayed: 0, pending: null });
    expect(received).toHaveLength(1);
    const { rows } = await db.owner.query(
      `select c.relayed_count::int, (select count(*)::int from audit_deliveries d where d.tenant_id = $1) as pending
       from audit_relay_cursors c where c.tenant_id = $1`,
      [tenant],
    );
    expect(rows).toEqual([{ relayed_count: 3, pending: 0 }]);
  });

  it('retries a batch the receiver refused, after a backoff, with the same event id, and delivers it once', async () => {
    const tenant = await organizationWithEvents(2);
    answer = (_request, response) => {
      response.statusCode = 500;
      response.end('down');
    };
    const options = { retryInitialDelayMs: 300, retryMaxDelayMs: 300 };
    const failed = await relayAuditEvents(db.app, tenant, { url, secret }, options);
    expect(failed).toMatchObject({ relayed: 0, pending: { attempts: 1, error: 'audit webhook answered 500' } });
    // The audit log is written meanwhile, as ever; the refused batch is not sent again before its retry time.
    await audit(tenant, 1);
    answer = (_request, response) => {
      response.end('ok');
    };
    const early = await relayAuditEvents(db.app, tenant, { url, secret }, options);
    expect(early).toMatchObject({ relayed: 0, pending: { attempts: 1 } });
    expect(received).toHaveLength(1);
    expect(await db.app.query('select audit_outbox_pending()::int as n').then((r) => r.rows[0].n)).toBeGreaterThan(0);

    await new Promise((resolve) => setTimeout(resolve, 350));
    // The refused batch of two again (same id), then the event written meanwhile in a batch of its own.
    expect(await relayAuditEvents(db.app, tenant, { url, secret }, options)).toEqual({ relayed: 2, pending: null });
    expect(await relayAuditEvents(db.app, tenant, { url, secret }, options)).toEqual({ relayed: 1, pending: null });
    expect(received).toHaveLength(3);
    const [refused, accepted, next] = received as [Received, Received, Received];
    expect(accepted.eventId).toBe(refused.eventId);
    expect(accepted.body).toBe(refused.body);
    expect(events(accepted)).toHaveLength(2);
    expect(next.eventId).not.toBe(accepted.eventId);
    expect(events(next).map((e) => e.action)).toEqual(['test.event-0']);
    expect(await db.app.query('select audit_outbox_pending()::int as n').then((r) => r.rows[0].n)).toBe(0);
  });

  it('never passes over an event whose transaction commits after a later event was written', async () => {
    const tenant = await organizationWithEvents(0);
    const late = await db.owner.connect();
    try {
      // A takes its id first but commits last; B is written and committed meanwhile.
      await late.query('begin');
      await late.query(
        `insert into audit_logs (tenant_id, id, actor_type, action, resource_type) values ($1, $2, 'system', 'test.a', 'test')`,
        [tenant, newUuid()],
      );
      await audit(tenant, 1);
      // B waits for A's transaction: sending B now would move the cursor past A's id.
      const held = await relayAuditEvents(db.app, tenant, { url, secret }, { horizonWaitMs: 100 });
      expect(held).toEqual({ relayed: 0, pending: null });
      expect(received).toHaveLength(0);
      expect(await db.app.query('select audit_outbox_pending()::int as n').then((r) => r.rows[0].n)).toBe(1);
      await late.query('commit');
    } finally {
      late.release();
    }
    expect(await relayAuditEvents(db.app, tenant, { url, secret })).toEqual({ relayed: 2, pending: null });
    expect(received.flatMap((delivery) => events(delivery).map((e) => e.action))).toEqual(['test.a', 'test.event-0']);
    expect(await db.app.query('select audit_outbox_pending()::int as n').then((r) => r.rows[0].n)).toBe(0);
  });

  it('holds no transaction open while the receiver is slow, and audit writes go on', async () => {
    const tenant = await organizationWithEvents(2);
    let release: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calling: () => void = () => {};
    const called = new Promise<void>((resolve) => {
      calling = resolve;
    });
    answer = async (_request, response) => {
      calling();
      await answered;
      response.end('ok');
    };
    const relay = relayAuditEvents(db.app, tenant, { url, secret });
    await called;
    // The relay is inside its webhook call: no session of this database is idle in a transaction.
    const { rows } = await db.owner.query(
      `select state, query from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
         and state like 'idle in transaction%'`,
    );
    expect(rows).toEqual([]);
    // Another relay of the same tenant does not wait for the first one: it sees the batch in flight and leaves.
    const second = await relayAuditEvents(db.app, tenant, { url, secret });
    expect(second).toMatchObject({ relayed: 0, pending: { attempts: 1 } });
    await audit(tenant, 1);
    release();
    expect(await relay).toEqual({ relayed: 2, pending: null });
    expect(await relayAuditEvents(db.app, tenant, { url, secret })).toEqual({ relayed: 1, pending: null });
  });
  it('calls the receiver in a CLIENT span of the run and hands it that span as traceparent, when traced', async () => {
    // What the server sets up when tracing is on (ADR 0009), with spans kept in memory instead of exported.
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('test');
    try {
      const tenant = await organizationWithEvents(2);
      // The webhook URL's query (a token an operator put there) stays out of the span.
      const webhook = { url: `${url}?token=not-for-traces`, secret };
      const run = tracer.startSpan('run audit.relay');
      const options = { tracer, retryInitialDelayMs: 50, retryMaxDelayMs: 50 };
      const relay = () => relayAuditEvents(db.app, tenant, webhook, options);
      expect(await context.with(trace.setSpan(context.active(), run), relay)).toMatchObject({ relayed: 2 });

      answer = (_request, response) => {
        response.statusCode = 503;
        response.end();
      };
      await audit(tenant, 1);
      const refused = await context.with(trace.setSpan(context.active(), run), relay);
      expect(refused.pending?.error).toBe('audit webhook answered 503');
      run.end();

      const calls = exporter.getFinishedSpans().filter((span) => span.name === 'POST');
      expect(calls).toHaveLength(2);
      for (const [i, call] of calls.entries()) {
        expect(call.kind).toBe(SpanKind.CLIENT);
        expect(call.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
        const { traceId, spanId } = call.spanContext();
        expect(received[i]?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
        expect(call.attributes).toMatchObject({
          'http.request.method': 'POST',
          'server.address': '127.0.0.1',
          'url.full': url,
        });
      }
      expect(calls[0]?.attributes['http.response.status_code']).toBe(200);
      expect(calls[0]?.status.code).toBe(SpanStatusCode.UNSET);
      expect(calls[1]?.attributes['http.response.status_code']).toBe(503);
      expect(calls[1]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'audit webhook answered 503' });
      expect(JSON.stringify(calls.map((call) => call.attributes))).not.toContain('not-for-traces');

      // Outside a traced run (tracing off, or the run not sampled): no span and no traceparent.
      answer = (_request, response) => {
        response.end('ok');
      };
      const before = exporter.getFinishedSpans().length;
      await new Promise((resolve) => setTimeout(resolve, 80)); // the refused batch's retry time
      expect(await relay()).toEqual({ relayed: 1, pending: null });
      expect(exporter.getFinishedSpans()).toHaveLength(before);
      expect(received.at(-1)?.traceparent).toBeUndefined();
    } finally {
      propagation.disable();
      context.disable();
      await provider.shutdown();
    }
  });
});

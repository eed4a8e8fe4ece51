import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, testSecretKey } from '../../../test/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';
import { freePort, runCli } from '../../../test/processes.ts';
import { ConfigError, loadConfig } from '../src/config.ts';

/** An OTLP/HTTP JSON receiver, as a collector listens on :4318: it keeps every export request it is sent. */
interface Receiver {
  url: string;
  exports: Array<{ headers: IncomingMessage['headers']; body: OtlpExport }>;
  close(): Promise<void>;
}

interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  status: { code?: number };
  events?: Array<{ name: string }>;
}

async function startReceiver(): Promise<Receiver> {
  const exports: Receiver['exports'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') {
        exports.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        response.writeHead(404).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    exports,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: { attributes: OtlpAttribute[] }, key: string) => {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  if (value === undefined) return undefined;
  return value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue));
};

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;
const ERROR = 2;

describe('tracing configuration (the OpenTelemetry SDK variables)', () => {
  it('is off unless an OTLP endpoint is set, and off when disabled', () => {
    expect(loadConfig({}).tracing).toBeNull();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeNull();
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing,
    ).toBeNull();
  });

  it('reads the endpoint, headers, service, resource and sampler', () => {
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D,x-team=core',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=licensing',
        OTEL_SERVICE_NAME: 'atrium-eu',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,k8s.pod.name=api-7',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).tracing,
    ).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      headers: { 'x-api-key': 'abc==', 'x-team': 'licensing' },
      serviceName: 'atrium-eu',
      resourceAttributes: { 'deployment.environment.name': 'prod', 'k8s.pod.name': 'api-7' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
    // The per-signal endpoint is used as given.
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t.example/otlp' }).tracing?.endpoint).toBe(
      'https://t.example/otlp',
    );
  });

  it('refuses what it cannot honour, saying which variable is wrong', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' };
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL.*http\/json/],
      [{ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }, /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/],
      [{ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER must be one of/],
      [{ ...endpoint, OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG/],
      [{ ...endpoint, OTEL_TRACES_SAMPLER_ARG: 'half' }, /OTEL_TRACES_SAMPLER_ARG/],
      [{ ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, /OTEL_EXPORTER_OTLP_HEADERS must be key=value/],
      [{ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: '=x' }, /OTEL_RESOURCE_ATTRIBUTES/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, /OTEL_EXPORTER_OTLP_ENDPOINT must be a URL/],
      [{ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER must be one of otlp, none/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
  });

  it('adds nothing to the request path when it is off', async () => {
    const t = await createTestApp();
    try {
      expect(t.app.hasRequestDecorator('traceContext')).toBe(false);
    } finally {
      await t.close();
    }
  });
});

describe('atrium serve and atrium worker with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('reports a collector it cannot reach in the log, and still stops promptly', async () => {
    const db = await createTestDatabase();
    try {
      const port = String(await freePort());
      const serve = runCli(['serve'], {
        DATABASE_URL: db.ownerUrl,
        PORT: port,
        ATRIUM_SECRET_KEY: testSecretKey,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      });
      await serve.waitFor('Atrium is running');
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      await serve.waitFor('"msg":"tracing: ', 20_000);
      expect(serve.output()).toMatch(/"detail":"connect ECONNREFUSED 127\.0\.0\.1:\d+"/);
      const stopping = Date.now();
      serve.child.kill('SIGTERM');
      expect(await serve.exit()).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(8000);
      // One line for the failures so far, not one per failed export.
      expect(serve.output().split('"msg":"tracing: ').length - 1).toBeLessThanOrEqual(2);
    } finally {
      await db.drop();
    }
  }, 60_000);

  let db: TestDatabase;
  let receiver: Receiver;
  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await db.drop();
  });

  it('export a span per request and per flow attempt, their SQL statements as children, and put the ids in the log lines', async () => {
    const port = String(await freePort());
    const serve = runCli(['serve'], {
      DATABASE_URL: db.ownerUrl,
      PORT: port,
      ATRIUM_SECRET_KEY: testSecretKey,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=s3cret',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    });
    await serve.waitFor('Atrium is running');
    const base = `http://127.0.0.1:${port}`;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });

    // The caller's trace: the request joins it as a child of the caller's span.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const email = 'traced@example.com';
    const password = 'correct horse battery staple';
    const registered = await post(
      '/api/v1/auth/register',
      { email, password, organization: { name: 'Traced' } },
      { traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(registered.status).toBe(201);
    const { access_token: token, organization } = (await registered.json()) as {
      access_token: string;
      organization: { id: string };
    };
    const created = await post('/api/v1/licenses', { max_seats: 1 }, { authorization: `Bearer ${token}` });
    const { license_key: key } = (await created.json()) as { license_key: string };
    const license = { authorization: `License ${key}` };
    expect((await post('/api/v1/licenses/acquire', { license_key: key, fingerprint: 'a' }, license)).status).toBe(201);
    expect((await post('/api/v1/licenses/acquire', { license_key: key, fingerprint: 'b' }, license)).status).toBe(409);
    expect((await post('/api/v1/licenses/acquire', '{"license_key":', license)).status).toBe(400);
    expect((await fetch(`${base}/no/such/route`)).status).toBe(404);
    // The key in a query string stays out of the span (url.path only).
    const statusCall = await fetch(`${base}/api/v1/licenses/status?license_key=${key}`, { headers: license });
    expect(statusCall.status).toBe(200);
    // A body that arrives after its headers is read in socket callbacks outside the request's context: the
    // handler's statements must still be the request's children.
    const slowLogin = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ email, password });
      const sent = httpRequest(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      sent.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      sent.on('error', reject);
      sent.flushHeaders();
      setTimeout(() => sent.end(body), 150);
    });
    expect(slowLogin).toBe(200);

    // Shutdown sends what is still queued.
    serve.child.kill('SIGTERM');
    expect(await serve.exit()).toBe(0);

    expect(receiver.exports.length).toBeGreaterThan(0);
    for (const sent of receiver.exports) expect(sent.headers['x-collector-key']).toBe('s3cret');
    const resource = receiver.exports[0]?.body.resourceSpans[0]?.resource as { attributes: OtlpAttribute[] };
    expect(attribute(resource, 'service.name')).toBe('atrium');
    expect(attribute(resource, 'deployment.environment.name')).toBe('test');
    const spans = receiver.exports.flatMap((sent) =>
      sent.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );

    const register = spans.find((span) => span.name === 'POST /api/v1/auth/register') as OtlpSpan;
    expect(register).toMatchObject({ traceId, parentSpanId: callerSpanId, kind: SERVER });
    expect(attribute(register, 'http.route')).toBe('/api/v1/auth/register');
    expect(attribute(register, 'http.response.status_code')).toBe(201);
    expect(register.status.code ?? 0).not.toBe(ERROR);

    // Its statements: children of the request's span, in its trace; parameterized text only, no values.
    const statements = spans.filter((span) => span.parentSpanId === register.spanId);
    expect(statements.length).toBeGreaterThanOrEqual(3);
    for (const span of statements) {
      expect(span).toMatchObject({ traceId, kind: CLIENT });
      expect(attribute(span, 'db.system.name')).toBe('postgresql');
      expect(attribute(span, 'db.namespace')).toBe(new URL(db.ownerUrl).pathname.slice(1));
    }
    expect(statements.map((span) => span.name)).toEqual(expect.arrayContaining(['BEGIN', 'INSERT', 'COMMIT']));
    const texts = statements.map((span) => attribute(span, 'db.query.text')).filter((text) => text !== undefined);
    expect(texts.some((text) => /insert into users/i.test(String(text)) && String(text).includes('$1'))).toBe(true);
    const everything = JSON.stringify(spans);
    expect(everything).not.toContain(email);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(key);

    const login = spans.find((span) => span.name === 'POST /api/v1/auth/login') as OtlpSpan;
    const loginStatements = spans.filter((span) => span.parentSpanId === login.spanId);
    expect(loginStatements.map((span) => span.name)).toEqual(expect.arrayContaining(['BEGIN', 'SELECT', 'COMMIT']));
    for (const span of loginStatements) expect(span.traceId).toBe(login.traceId);

    // The machine routes: a new trace per call without traceparent, the tenant on the span, 4xx not an error.
    const acquires = spans.filter((span) => span.name === 'POST /api/v1/licenses/acquire');
    expect(acquires.map((span) => attribute(span, 'http.response.status_code')).sort()).toEqual([201, 400, 409]);
    const tenantId = (await db.owner.query('select id from organizations')).rows[0]?.id as string;
    expect(organization.id).toMatch(/^org_/);
    for (const span of acquires) {
      expect(span.traceId).not.toBe(traceId);
      expect(span.parentSpanId ?? '').toBe('');
      expect(span.status.code ?? 0).not.toBe(ERROR);
    }
    const granted = acquires.find((span) => attribute(span, 'http.response.status_code') === 201) as OtlpSpan;
    expect(attribute(granted, 'atrium.tenant_id')).toBe(tenantId);
    expect(attribute(granted, 'atrium.actor_type')).toBe('license');
    // The seat store's call is a child of the request, and the PostgreSQL store's statement a child of that call.
    const seats = spans.find((span) => span.parentSpanId === granted.spanId && span.name === 'seats acquire');
    expect(seats).toBeDefined();
    expect(attribute(seats as OtlpSpan, 'atrium.seat_store')).toBe('postgres');
    expect(attribute(seats as OtlpSpan, 'atrium.license_id')).toMatch(/^lic_[0-9a-f]{32}$/);
    expect(spans.filter((span) => span.parentSpanId === seats?.spanId).map((span) => span.name)).toEqual(['BEGIN']);
    const statusSpan = spans.find((span) => span.name === 'GET /api/v1/licenses/status') as OtlpSpan;
    expect(attribute(statusSpan, 'url.path')).toBe('/api/v1/licenses/status');
    const unmatched = spans.find((span) => attribute(span, 'url.path') === '/no/such/route') as OtlpSpan;
    expect(unmatched).toMatchObject({ name: 'GET', kind: SERVER });
    expect(attribute(unmatched, 'http.route')).toBeUndefined();

    // Log lines of a traced request carry its trace and span: a log search finds the trace, and back.
    const lines = serve
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = lines.find(
      (line) => line.msg === 'request completed' && line.request_id === attribute(register, 'atrium.request_id'),
    );
    expect(completed).toMatchObject({ trace_id: traceId, span_id: register.spanId });

    // The welcome email the sign-up enqueued, run by `atrium worker`: the attempt's span, its step, their SQL.
    const stored = await db.owner.query("select trace_context from flow_runs where flow_id = 'email.welcome'");
    expect(stored.rows[0]?.trace_context).toEqual({ traceparent: `00-${traceId}-${register.spanId}-01` });
    const worker = runCli(['worker'], {
      DATABASE_URL: db.ownerUrl,
      WORKER_PORT: String(await freePort()),
      ATRIUM_SECRET_KEY: testSecretKey,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    });
    const deadline = Date.now() + 30_000;
    const status = async () =>
      (await db.owner.query("select status from flow_runs where flow_id = 'email.welcome'")).rows[0]?.status;
    while ((await status()) !== 'succeeded' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await status()).toBe('succeeded');
    worker.child.kill('SIGTERM');
    expect(await worker.exit()).toBe(0);
    const all = receiver.exports.flatMap((sent) =>
      sent.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    // The run joins the sign-up's trace: enqueued inside the request, it is a child of the request's span.
    const run = all.find((span) => span.name === 'run email.welcome') as OtlpSpan;
    expect(run).toMatchObject({ kind: CONSUMER, traceId, parentSpanId: register.spanId });
    expect(attribute(run, 'atrium.tenant_id')).toBe(tenantId);
    expect(attribute(run, 'atrium.flow.outcome')).toBe('succeeded');
    expect(attribute(run, 'atrium.flow.attempt')).toBe(1);
    const runId = (await db.owner.query("select id from flow_runs where flow_id = 'email.welcome'")).rows[0]?.id;
    expect(attribute(run, 'atrium.flow.run_id')).toBe(`frn_${String(runId).replaceAll('-', '')}`);
    const step = all.find((span) => span.parentSpanId === run.spanId && span.name === 'step send') as OtlpSpan;
    expect(step.traceId).toBe(run.traceId);
    const stepStatements = all.filter((span) => span.parentSpanId === step.spanId).map((span) => span.name);
    expect(stepStatements).toEqual(expect.arrayContaining(['BEGIN', 'INSERT', 'COMMIT']));
  }, 90_000);
});

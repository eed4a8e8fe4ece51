import {
  type Context,
  context,
  DiagLogLevel,
  diag,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import packageJson from '../package.json' with { type: 'json' };
import type { TracingConfig } from './config.ts';

/** The process's tracing: the tracer its spans come from, and the shutdown that sends what is still queued. */
export interface Tracing {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

const serviceVersion: string = packageJson.version;
/** How long shutdown waits for the last spans to be sent: a collector that is down must not hold the exit up. */
const flushTimeoutMs = 3000;

/**
 * Starts OpenTelemetry tracing for this process (ADR 0009): spans are batched and posted to the OTLP/HTTP endpoint
 * of the config; the active span follows the request through awaits (AsyncLocalStorage); W3C `traceparent` and
 * `baggage` are read from incoming requests. These are process-wide registrations by OpenTelemetry's design, so
 * there is one Tracing per process, made by the CLI; shutdown flushes and unregisters them.
 */
export function startTracing(config: TracingConfig, log: { warn(fields: object, message: string): void }): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: serviceVersion,
    }),
    sampler: samplerOf(config),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: config.endpoint, headers: config.headers, timeoutMillis: 5000 }),
        // Spans beyond the queue are dropped, never buffered without bound: tracing must not cost the API memory.
        maxQueueSize: 8192,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 1000,
      }),
    ],
  });
  diag.setLogger(diagnostics(log), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('atrium', serviceVersion),
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log.warn({ timeoutMs: flushTimeoutMs }, 'tracing: the last spans were not sent in time; dropped');
          resolve();
        }, flushTimeoutMs);
      });
      await Promise.race([provider.shutdown().catch(() => {}), late]);
      clearTimeout(timer);
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

/**
 * OpenTelemetry's own warnings and errors (a failed export: the collector is down or refuses the spans) as log
 * lines, at most one a minute with the number held back: an unreachable collector must be visible, not flood the log.
 */
function diagnostics(log: { warn(fields: object, message: string): void }) {
  let lastMs = Number.NEGATIVE_INFINITY;
  let held = 0;
  const report = (message: string, ...args: unknown[]) => {
    const now = Date.now();
    if (now - lastMs < 60_000) {
      held += 1;
      return;
    }
    // An export failure arrives as the error serialized to JSON: its message is what a reader needs.
    let detail = [message, ...args.map(String)].join(' ');
    try {
      const parsed = JSON.parse(message) as { message?: unknown };
      if (typeof parsed.message === 'string') detail = parsed.message;
    } catch {}
    log.warn({ detail, held_back: held }, 'tracing: OpenTelemetry reports a problem; spans may be lost');
    lastMs = now;
    held = 0;
  };
  return { error: report, warn: report, info() {}, debug() {}, verbose() {} };
}

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** The trace and span of what is running now, for log lines (pino's mixin); nothing outside a sampled span. */
export function activeTraceIds(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span?.isRecording()) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The context the request's span is active in (installTracing); null without tracing or when not sampled. */
    traceContext: Context | null;
  }
}

/**
 * A SERVER span per request, named by method and route template (`POST /api/v1/licenses/acquire`), the child of
 * the caller's `traceparent` when it sends one. It is active from the first hook on, so authentication's database
 * lookups and the handler's statements are its children (Fastify carries the context across the body's socket
 * callbacks with an AsyncResource; tracing.test.ts sends a body late to check it). The request's log lines carry
 * its trace and span ids. Installed only when tracing is on: without it, no request pays for any of this.
 */
export function installTracing(app: FastifyInstance, tracer: Tracer) {
  app.decorateRequest('traceContext', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    // What a sampler may look at is given at the start; the rest only to a span that is kept.
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: request.url.split('?', 1)[0],
          ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
        },
      },
      parent,
    );
    // A request the sampler dropped goes on as if tracing were off: nothing under it would be recorded either.
    if (!span.isRecording()) return done();
    span.setAttributes({
      [ATTR_URL_SCHEME]: request.protocol,
      [ATTR_CLIENT_ADDRESS]: request.ip,
      'atrium.request_id': request.id,
    });
    const agent = request.headers['user-agent'];
    if (agent) span.setAttribute(ATTR_USER_AGENT_ORIGINAL, agent);
    const { traceId, spanId } = span.spanContext();
    (request.log as FastifyBaseLogger & { setBindings(bindings: object): void }).setBindings({
      trace_id: traceId,
      span_id: spanId,
    });
    request.traceContext = trace.setSpan(parent, span);
    context.with(request.traceContext, done);
  });
  // Runs before the error handler chooses the status: the error is kept for the span's end, which records it
  // only for a 5xx (a 4xx is the caller's mistake, not this server's failure).
  app.addHook('onError', (request, _reply, error, done) => {
    if (request.traceContext) failures.set(request, error);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, null);
    done();
  });
}

const failures = new WeakMap<FastifyRequest, Error>();

function spanOf(request: FastifyRequest): Span | undefined {
  return request.traceContext ? trace.getSpan(request.traceContext) : undefined;
}

/** Ends the request's span once (an aborted request can still reach onResponse). */
function end(request: FastifyRequest, status: number | null) {
  const span = spanOf(request);
  if (!span?.isRecording()) return;
  const caller = request.principal;
  if (caller?.tenantId) span.setAttribute('atrium.tenant_id', caller.tenantId);
  if (caller) span.setAttribute('atrium.actor_type', caller.actor.type);
  if (caller?.actor.id) span.setAttribute('atrium.actor_id', caller.actor.id);
  if (status === null) {
    span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
  } else {
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) {
      const failure = failures.get(request);
      if (failure) span.recordException(failure);
      span.setAttribute(ATTR_ERROR_TYPE, failure?.name ?? String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.end();
}

import { metricsCatalog } from '@atrium/contracts';
import type { Pool } from '@atrium/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { Histogram } from './histogram.ts';

interface CatalogEntry {
  type: 'counter' | 'gauge' | 'histogram';
  labels: string[];
  help: string;
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One registry per application (no global state). Every metric in the shared catalog is registered here, so
 * dashboards and alerts (deploy/monitoring) can only query what the server really exports.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Metric | Histogram>();
  private readonly scrapeHooks: Array<() => Promise<void>> = [];

  /** Work to do before each scrape: gauges read from the database (flow queue depth, audit backlog). */
  onScrape(hook: () => Promise<void>) {
    this.scrapeHooks.push(hook);
  }

  /** Runs the scrape hooks; a failing hook leaves its gauges as they were (the scrape still answers). */
  async beforeScrape(onError: (err: unknown) => void) {
    await Promise.all(this.scrapeHooks.map((hook) => hook().catch(onError)));
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const entries = metricsCatalog.metrics as Record<string, CatalogEntry>;
    for (const [name, entry] of Object.entries(entries)) {
      const options = { name, help: entry.help, labelNames: entry.labels, registers: [this.registry] };
      const metric =
        entry.type === 'counter'
          ? new Counter(options)
          : entry.type === 'gauge'
            ? new Gauge(options)
            : new Histogram({ ...options, buckets: latencyBuckets });
      this.metrics.set(name, metric);
    }
  }

  counter(name: string): Counter {
    return this.get(name, Counter);
  }

  gauge(name: string): Gauge {
    return this.get(name, Gauge);
  }

  histogram(name: string): Histogram {
    return this.get(name, Histogram);
  }

  private get<T extends Metric | Histogram>(name: string, kind: abstract new (...args: never[]) => T): T {
    const metric = this.metrics.get(name);
    if (!(metric instanceof kind)) throw new Error(`metric ${name} is not a ${kind.name} in the catalog`);
    return metric;
  }
}

/**
 * What `make` gives for a pair of values, made once per pair: a label set, or a histogram cell, looked up instead
 * of built on every call on the hot paths. For labels with few values (method, status, operation, result).
 */
export function perPair<A, B, T>(make: (a: A, b: B) => T) {
  const sets = new Map<A, Map<B, T>>();
  return (a: A, b: B): T => {
    let byB = sets.get(a);
    if (!byB) {
      byB = new Map();
      sets.set(a, byB);
    }
    let made = byB.get(b);
    if (made === undefined) {
      made = make(a, b);
      byB.set(b, made);
    }
    return made;
  };
}

/**
 * RED metrics per route template, the pool's state at scrape time, and GET /metrics. Each route gets its own
 * onResponse hook, built when it is registered, with its label sets kept per status code: nothing reads
 * `request.routeOptions` (an object Fastify builds on every access) or builds labels per request. Requests that
 * match no route are counted as `unmatched`. `http_requests_total` is the histogram's count, copied at scrape
 * time, so a request costs one metric update, not two.
 */
export function installMetrics(app: FastifyInstance, metrics: Metrics, pool: Pool) {
  const requests = metrics.counter('http_requests_total');
  const duration = metrics.histogram('http_request_duration_seconds');
  const poolGauge = metrics.gauge('atrium_db_pool_connections');

  const observer = (route: string) => {
    const cells = perPair((method: string, status: number) =>
      duration.cell({ method, route, status_code: String(status) }),
    );
    return (request: FastifyRequest, reply: FastifyReply) => {
      cells(request.method, reply.statusCode).observe(reply.elapsedTime / 1000);
    };
  };
  app.addHook('onRoute', (route) => {
    const observe = observer(route.url);
    const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      observe(request, reply);
      done();
    };
    route.onResponse = [hook, ...[route.onResponse ?? []].flat()];
  });
  const unmatched = observer('unmatched');
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request, reply);
    done();
  });
  metrics.onScrape(async () => {
    const { values } = await duration.get();
    requests.reset();
    for (const value of values) {
      if (value.metricName === 'http_request_duration_seconds_count') requests.inc(value.labels, value.value);
    }
  });

  app.get('/metrics', { schema: { hide: true }, config: { auth: 'public' } }, async (request, reply) => {
    poolGauge.set({ pool: 'app', state: 'total' }, pool.totalCount);
    poolGauge.set({ pool: 'app', state: 'idle' }, pool.idleCount);
    poolGauge.set({ pool: 'app', state: 'waiting' }, pool.waitingCount);
    await metrics.beforeScrape((err) => request.log.warn({ err }, 'metrics scrape hook failed'));
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

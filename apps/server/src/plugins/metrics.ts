import { metricsCatalog } from '@atrium/contracts';
import type { Pool } from '@atrium/db';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';

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
  private readonly metrics = new Map<string, Metric>();
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

  private get<T extends Metric>(name: string, kind: abstract new (...args: never[]) => T): T {
    const metric = this.metrics.get(name);
    if (!(metric instanceof kind)) throw new Error(`metric ${name} is not a ${kind.name} in the catalog`);
    return metric;
  }
}

/** RED metrics per route template, the pool's state at scrape time, and GET /metrics. */
export function installMetrics(app: FastifyInstance, metrics: Metrics, pool: Pool) {
  const requests = metrics.counter('http_requests_total');
  const duration = metrics.histogram('http_request_duration_seconds');
  const poolGauge = metrics.gauge('atrium_db_pool_connections');

  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
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

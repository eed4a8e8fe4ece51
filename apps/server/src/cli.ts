import { parseArgs } from 'node:util';
import { fromPublicId } from '@atrium/contracts';
import { AtriumError, type ReconcileScope } from '@atrium/core';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { type FlowLimitsChange, flowLimits } from './flow-limits.ts';
import { reconcileSeats } from './licensing.ts';
import { createLogger, type Logger, onShutdownSignal, openDatabase, runMigrations, startApi } from './runtime.ts';
import { startTracing } from './tracing.ts';
import { runWorkerProcess, startFlowWorker } from './worker.ts';

const usage = `Usage: atrium <command>

  start     everything in one process: embedded PostgreSQL unless DATABASE_URL is set, migrations, API, one flow worker
  serve     the API only (needs DATABASE_URL or DATABASE_APP_URL; run "atrium migrate" first)
  worker    flow workers only (needs DATABASE_URL or DATABASE_APP_URL); /health /ready /metrics on WORKER_PORT
  migrate   apply pending database migrations as the owner role (needs DATABASE_URL), then exit
  licenses reconcile [--tenant org_…] [--license lic_…]
            make the Redis seat store agree with the PostgreSQL lease journal (needs REDIS_URL and
            DATABASE_URL or DATABASE_APP_URL): restore open leases Redis lost, drop those the journal ended
  flows limits --tenant org_… [--concurrency N|default] [--queue-quota N|default]
            show or set one organization's flow limits, overriding ATRIUM_FLOW_TENANT_CONCURRENCY and
            ATRIUM_FLOW_TENANT_QUEUE_QUOTA (needs DATABASE_URL, the owner role: organizations cannot raise their own)

Configuration comes from the environment; see README.md.`;

/** OpenTelemetry tracing of a long-running command, when the OTEL_* variables ask for it; shut down last, to send its last spans. */
function startTracingIfConfigured(config: Config, log: Logger) {
  if (!config.tracing) return null;
  log.info({ endpoint: config.tracing.endpoint, sampler: config.tracing.sampler }, 'exporting traces over OTLP');
  return startTracing(config.tracing, log);
}

/** A mistake in the command line: the message says what to fix; exit code 2. */
class UsageError extends Error {}

async function main(command: string | undefined) {
  const config = loadConfig();
  const log = createLogger(config);
  switch (command) {
    case 'start': {
      const database = await openDatabase(config, log, true);
      if (database.ownerUrl) await runMigrations(database.ownerUrl, database.appPassword, log);
      const withSecret = { ...config, secretKey: config.secretKey ?? database.secretKey };
      const tracing = startTracingIfConfigured(config, log);
      const server = await startApi(withSecret, database.appUrl, log, tracing?.tracer);
      // Flows can run as soon as the worker starts: the signal is handled from then on, so a SIGTERM that arrives
      // while the rest is still starting drains them too instead of killing the process mid-run.
      const starting = startFlowWorker(withSecret, {
        pool: server.pool,
        appUrl: database.appUrl,
        log,
        metrics: server.metrics,
        licensing: server.app.licensing,
        tracer: tracing?.tracer ?? null,
      });
      onShutdownSignal(log, config.shutdownTimeoutMs + config.workerDrainMs, async () => {
        await (await starting).stop(config.workerDrainMs);
        await server.close();
        await tracing?.shutdown();
        await database.stop();
      });
      await starting;
      announce(config.publicUrl);
      return;
    }
    case 'serve': {
      const database = await openDatabase(config, log, false);
      const tracing = startTracingIfConfigured(config, log);
      const server = await startApi(config, database.appUrl, log, tracing?.tracer);
      announce(config.publicUrl);
      onShutdownSignal(log, config.shutdownTimeoutMs, async () => {
        await server.close();
        await tracing?.shutdown();
      });
      return;
    }
    case 'worker': {
      const database = await openDatabase(config, log, false);
      const tracing = startTracingIfConfigured(config, log);
      // Handled before the worker starts claiming runs (see 'start'): a run can finish before the worker's health
      // endpoints are up, and a SIGTERM then must drain, not kill.
      const starting = runWorkerProcess(config, database.appUrl, log, tracing?.tracer);
      onShutdownSignal(log, config.workerDrainMs + 5000, async () => {
        await (await starting).close();
        await tracing?.shutdown();
      });
      await starting;
      return;
    }
    case 'migrate': {
      if (!config.databaseUrl) throw new ConfigError('DATABASE_URL (the owner role) is required to migrate');
      await runMigrations(config.databaseUrl, config.databaseAppPassword, log);
      return;
    }
    case 'licenses': {
      if (process.argv[3] !== 'reconcile') {
        throw new UsageError('usage: atrium licenses reconcile [--tenant org_…] [--license lic_…]');
      }
      const scope = reconcileScope(process.argv.slice(4));
      const database = await openDatabase(config, log, false);
      await reconcileSeats(config, database.appUrl, scope, (line) => process.stdout.write(`${line}\n`));
      return;
    }
    case 'flows': {
      if (process.argv[3] !== 'limits') throw new UsageError(`usage: atrium ${flowLimitsUsage}`);
      const { tenantId, change } = flowLimitsArgs(process.argv.slice(4));
      if (!config.databaseUrl) throw new ConfigError('DATABASE_URL (the owner role) is required to set flow limits');
      await flowLimits(config, config.databaseUrl, tenantId, change, (line) => process.stdout.write(`${line}\n`));
      return;
    }
    default:
      process.stderr.write(`${usage}\n`);
      process.exitCode = command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

/** `--tenant org_…` and `--license lic_…`, public ids as the API shows them. */
function reconcileScope(args: string[]): ReconcileScope {
  let values: { tenant?: string | undefined; license?: string | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: { tenant: { type: 'string' }, license: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`atrium licenses reconcile: ${(err as Error).message}`);
  }
  const tenantId = values.tenant === undefined ? null : fromPublicId('organization', values.tenant);
  if (tenantId === null && values.tenant !== undefined) {
    throw new UsageError(`--tenant ${values.tenant} is not an organization id (org_ and 32 hex digits)`);
  }
  const licenseId = values.license === undefined ? null : fromPublicId('license', values.license);
  if (licenseId === null && values.license !== undefined) {
    throw new UsageError(`--license ${values.license} is not a license id (lic_ and 32 hex digits)`);
  }
  return { tenantId, licenseId };
}

const flowLimitsUsage = 'flows limits --tenant org_… [--concurrency N|default] [--queue-quota N|default]';

/** `--tenant org_…` and the limits to change: a positive integer, or `default` for the process-wide default. */
function flowLimitsArgs(args: string[]): { tenantId: string; change: FlowLimitsChange } {
  let values: { tenant?: string | undefined; concurrency?: string | undefined; 'queue-quota'?: string | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: { tenant: { type: 'string' }, concurrency: { type: 'string' }, 'queue-quota': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`atrium flows limits: ${(err as Error).message}\nusage: atrium ${flowLimitsUsage}`);
  }
  const tenantId = values.tenant === undefined ? null : fromPublicId('organization', values.tenant);
  if (tenantId === null) {
    throw new UsageError(
      `--tenant must be an organization id (org_ and 32 hex digits)\nusage: atrium ${flowLimitsUsage}`,
    );
  }
  // The same bounds as ATRIUM_FLOW_TENANT_CONCURRENCY and ATRIUM_FLOW_TENANT_QUEUE_QUOTA (a quota of 0 stops new runs).
  const limit = (name: string, raw: string | undefined, least: number, most: number): number | null | undefined => {
    if (raw === undefined || raw === 'default') return raw === undefined ? undefined : null;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < least || value > most) {
      throw new UsageError(`--${name} must be an integer from ${least} to ${most}, or "default"; got "${raw}"`);
    }
    return value;
  };
  const change: FlowLimitsChange = {};
  const concurrency = limit('concurrency', values.concurrency, 1, 100_000);
  const queueQuota = limit('queue-quota', values['queue-quota'], 0, 100_000_000);
  if (concurrency !== undefined) change.concurrency = concurrency;
  if (queueQuota !== undefined) change.queueQuota = queueQuota;
  return { tenantId, change };
}

function announce(publicUrl: string) {
  process.stdout.write(`\nAtrium is running: API ${publicUrl}/api/v1, docs ${publicUrl}/docs\n\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(err.message);
    process.exit(2);
  }
  // A not_found from a command (an unknown organization or license) is the operator's to fix, not a crash.
  const message =
    err instanceof ConfigError
      ? `configuration error: ${err.message}`
      : err instanceof AtriumError
        ? `atrium: ${err.message}`
        : err;
  console.error(message);
  process.exit(1);
});

import { ConfigError, loadConfig } from './config.ts';
import { createLogger, onShutdownSignal, openDatabase, runMigrations, startApi } from './runtime.ts';
import { runWorkerProcess, startFlowWorker } from './worker.ts';

const usage = `Usage: atrium <command>

  start     everything in one process: embedded PostgreSQL unless DATABASE_URL is set, migrations, API, one flow worker
  serve     the API only (needs DATABASE_URL or DATABASE_APP_URL; run "atrium migrate" first)
  worker    flow workers only (needs DATABASE_URL or DATABASE_APP_URL); /health /ready /metrics on WORKER_PORT
  migrate   apply pending database migrations as the owner role (needs DATABASE_URL), then exit

Configuration comes from the environment; see README.md.`;

async function main(command: string | undefined) {
  const config = loadConfig();
  const log = createLogger(config);
  switch (command) {
    case 'start': {
      const database = await openDatabase(config, log, true);
      if (database.ownerUrl) await runMigrations(database.ownerUrl, database.appPassword, log);
      const withSecret = { ...config, secretKey: config.secretKey ?? database.secretKey };
      const server = await startApi(withSecret, database.appUrl, log);
      const flows = await startFlowWorker(withSecret, {
        pool: server.pool,
        appUrl: database.appUrl,
        log,
        metrics: server.metrics,
        licensing: server.app.licensing,
      });
      announce(config.publicUrl);
      onShutdownSignal(log, config.shutdownTimeoutMs + config.workerDrainMs, async () => {
        await flows.stop(config.workerDrainMs);
        await server.close();
        await database.stop();
      });
      return;
    }
    case 'serve': {
      const database = await openDatabase(config, log, false);
      const server = await startApi(config, database.appUrl, log);
      announce(config.publicUrl);
      onShutdownSignal(log, config.shutdownTimeoutMs, () => server.close());
      return;
    }
    case 'worker': {
      const database = await openDatabase(config, log, false);
      const worker = await runWorkerProcess(config, database.appUrl, log);
      onShutdownSignal(log, config.workerDrainMs + 5000, () => worker.close());
      return;
    }
    case 'migrate': {
      if (!config.databaseUrl) throw new ConfigError('DATABASE_URL (the owner role) is required to migrate');
      await runMigrations(config.databaseUrl, config.databaseAppPassword, log);
      return;
    }
    default:
      process.stderr.write(`${usage}\n`);
      process.exitCode = command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

function announce(publicUrl: string) {
  process.stdout.write(`\nAtrium is running: API ${publicUrl}/api/v1, docs ${publicUrl}/docs\n\n`);
}

main(process.argv[2]).catch((err: unknown) => {
  const message = err instanceof ConfigError ? `configuration error: ${err.message}` : err;
  console.error(message);
  process.exit(1);
});

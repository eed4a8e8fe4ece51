import { toPublicId } from '@atrium/contracts';
import {
  AwsKmsRootSigner,
  createLicensing,
  createSeatReconciler,
  GcpKmsRootSigner,
  type Licensing,
  type LicensingObserver,
  LocalRootSigner,
  type ReconcileScope,
  type RedisClient,
  type RootSigner,
} from '@atrium/core';
import { createPool, type Pool } from '@atrium/db';
import type { Tracer } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import { type Config, ConfigError } from './config.ts';
import { type Metrics, perPair } from './plugins/metrics.ts';
import { openRedis } from './redis.ts';

/** The root key holder named by ATRIUM_SIGNER. */
export async function createRootSigner(config: Config): Promise<RootSigner> {
  switch (config.signer) {
    case 'local':
      return LocalRootSigner.inDataDir(config.dataDir);
    case 'gcp-kms':
      return GcpKmsRootSigner.connect(config.kmsKey as string);
    case 'aws-kms':
      return AwsKmsRootSigner.connect(config.kmsKey as string);
  }
}

/** The catalog's licensing metrics (packages/contracts/src/metrics-catalog.json). */
export function licensingObserver(metrics: Metrics): LicensingObserver {
  const operations = metrics.counter('atrium_license_operations_total');
  const duration = metrics.histogram('atrium_seat_store_duration_seconds');
  const expirations = metrics.counter('atrium_lease_expirations_total');
  const used = metrics.gauge('atrium_license_seats_used');
  const max = metrics.gauge('atrium_license_seats_max');
  // Every acquire, heartbeat and release counts one operation: counted here per (operation, result) and added to
  // the counter when Prometheus scrapes, instead of prom-client hashing the labels on every call.
  const counted: Array<{ labels: { operation: string; result: string }; count: number }> = [];
  const operationCounts = perPair((operation: string, result: string) => {
    const entry = { labels: { operation, result }, count: 0 };
    counted.push(entry);
    return entry;
  });
  const durations = perPair((store: string, operation: string) => duration.cell({ store, operation }));
  // Seat counts change on every acquire: they are kept here, one entry per license, and copied into the gauges
  // when Prometheus scrapes, instead of two labelled gauge updates per acquire.
  const seats = new Map<string, { labels: { tenant_id: string; license_id: string }; used: number; max: number }>();
  metrics.onScrape(async () => {
    for (const entry of counted) {
      if (entry.count === 0) continue;
      operations.inc(entry.labels, entry.count);
      entry.count = 0;
    }
    for (const entry of seats.values()) {
      used.set(entry.labels, entry.used);
      max.set(entry.labels, entry.max);
    }
  });
  return {
    operation(operation, result) {
      operationCounts(operation, result).count += 1;
    },
    storeDuration: (store, operation, seconds) => durations(store, operation).observe(seconds),
    expired: (store, count) => expirations.inc({ store }, count),
    seats(tenantId, licenseId, seatsUsed, seatsMax) {
      const entry = seats.get(licenseId);
      if (entry?.labels.tenant_id === tenantId) {
        entry.used = seatsUsed;
        entry.max = seatsMax;
      } else {
        seats.set(licenseId, {
          labels: { tenant_id: tenantId, license_id: licenseId },
          used: seatsUsed,
          max: seatsMax,
        });
      }
    },
  };
}

export async function buildLicensing(
  config: Config,
  deps: {
    pool: Pool;
    redis: RedisClient | null;
    root?: RootSigner;
    metrics: Metrics;
    log: FastifyBaseLogger;
    tracer?: Tracer | null;
  },
): Promise<Licensing> {
  return createLicensing({
    pool: deps.pool,
    redis: deps.redis,
    redisKeyPrefix: config.redisKeyPrefix,
    root: deps.root ?? (await createRootSigner(config)),
    signingAlgorithm: config.tokenSigningAlgorithm,
    rotationSeconds: config.signingKeyRotationSeconds,
    maxTokenTtlSeconds: config.licenseTokenMaxTtlSeconds,
    issuer: config.publicUrl,
    cacheTtlMs: config.licenseCacheTtlMs,
    journalFlushIntervalMs: config.journalFlushIntervalMs,
    reapIntervalMs: config.leaseReapIntervalMs,
    observer: licensingObserver(deps.metrics),
    tracer: deps.tracer ?? null,
    onBackgroundError: (err, what) => deps.log.warn({ err }, `${what} failed; will retry`),
  });
}

export interface ReconcileTotals {
  licenses: number;
  restored: number;
  dropped: number;
  live: number;
  /** Licenses deleted since their lease set was written, whose keys were removed (a run over every license). */
  deletedRemoved: number;
}

/**
 * `atrium licenses reconcile`: every license in `scope` gets its Redis lease set made to agree with the
 * PostgreSQL lease journal (SeatReconciler says how). A run over every license also removes the lease sets of
 * deleted licenses. Prints one line per license and a total.
 */
export async function reconcileSeats(
  config: Config,
  appUrl: string,
  scope: ReconcileScope,
  print: (line: string) => void,
): Promise<ReconcileTotals> {
  const redis = await openRedis(config);
  if (!redis) {
    throw new ConfigError('REDIS_URL is required: reconcile rebuilds the Redis seat store from the lease journal');
  }
  const pool = createPool({ connectionString: appUrl, max: 2, applicationName: 'atrium-reconcile' });
  // Connection problems surface as the failing command's error; this only keeps ioredis from logging them twice.
  redis.on('error', () => {});
  try {
    const reconciler = createSeatReconciler({ pool, redis, keyPrefix: config.redisKeyPrefix });
    const totals: ReconcileTotals = { licenses: 0, restored: 0, dropped: 0, live: 0, deletedRemoved: 0 };
    for (const license of await reconciler.licenses(scope)) {
      const result = await reconciler.reconcile(license);
      const kept = result.unjournaled > 0 ? ` (${result.unjournaled} not in the journal yet, kept)` : '';
      print(
        `${toPublicId('license', result.licenseId)} restored ${result.restored}, dropped ${result.dropped}, live ${result.live}${kept}`,
      );
      totals.licenses += 1;
      totals.restored += result.restored;
      totals.dropped += result.dropped;
      totals.live += result.live;
    }
    if (!scope.tenantId && !scope.licenseId) {
      const deleted = await reconciler.dropDeleted();
      for (const id of deleted) print(`${toPublicId('license', id)} deleted: its lease set was removed`);
      totals.deletedRemoved = deleted.length;
    }
    const removed = totals.deletedRemoved > 0 ? `; removed the lease sets of ${totals.deletedRemoved} deleted` : '';
    print(
      `total: ${totals.licenses} licenses, restored ${totals.restored}, dropped ${totals.dropped}, live ${totals.live}${removed}`,
    );
    return totals;
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

import {
  AwsKmsRootSigner,
  createLicensing,
  GcpKmsRootSigner,
  type Licensing,
  type LicensingObserver,
  LocalRootSigner,
  type RootSigner,
} from '@atrium/core';
import type { Pool } from '@atrium/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Metrics } from './plugins/metrics.ts';

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
  return {
    operation: (operation, result) => operations.inc({ operation, result }),
    storeDuration: (store, operation, seconds) => duration.observe({ store, operation }, seconds),
    expired: (store, count) => expirations.inc({ store }, count),
    seats(tenantId, licenseId, seatsUsed, seatsMax) {
      used.set({ tenant_id: tenantId, license_id: licenseId }, seatsUsed);
      max.set({ tenant_id: tenantId, license_id: licenseId }, seatsMax);
    },
  };
}

export async function buildLicensing(
  config: Config,
  deps: { pool: Pool; redis: Redis | null; root?: RootSigner; metrics: Metrics; log: FastifyBaseLogger },
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
    onBackgroundError: (err, what) => deps.log.warn({ err }, `${what} failed; will retry`),
  });
}

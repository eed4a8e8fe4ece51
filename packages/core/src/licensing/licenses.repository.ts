import { type FingerprintView, type License, type LicensePolicy, toPublicId } from '@atrium/contracts';
import type { Tx } from '@atrium/db';

export interface LicenseRow {
  tenant_id: string;
  id: string;
  key_prefix: string;
  name: string | null;
  product: string | null;
  max_seats: number;
  expires_at: Date | null;
  suspended: boolean;
  mode: 'floating' | 'node_locked';
  session_ttl_seconds: number;
  heartbeat_interval_seconds: number;
  grace_seconds: number;
  max_fingerprints: number | null;
  token_ttl_seconds: number;
  created_at: Date;
  updated_at: Date;
}

const columns = `tenant_id, id, key_prefix, name, product, max_seats, expires_at, suspended, mode, session_ttl_seconds,
  heartbeat_interval_seconds, grace_seconds, max_fingerprints, token_ttl_seconds, created_at, updated_at`;

export function policyOf(row: LicenseRow): LicensePolicy {
  return {
    mode: row.mode,
    session_ttl_seconds: row.session_ttl_seconds,
    heartbeat_interval_seconds: row.heartbeat_interval_seconds,
    grace_seconds: row.grace_seconds,
    max_fingerprints: row.max_fingerprints,
    token_ttl_seconds: row.token_ttl_seconds,
  };
}

export function toLicense(row: LicenseRow): License {
  return {
    id: toPublicId('license', row.id),
    name: row.name,
    product: row.product,
    max_seats: row.max_seats,
    expires_at: row.expires_at?.toISOString() ?? null,
    suspended: row.suspended,
    policy: policyOf(row),
    key_prefix: row.key_prefix,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface LicenseFields {
  name: string | null;
  product: string | null;
  max_seats: number;
  expires_at: string | null;
  suspended: boolean;
  policy: LicensePolicy;
}

export async function insertLicense(
  tx: Tx,
  tenantId: string,
  row: LicenseFields & { id: string; keyHash: Buffer; keyPrefix: string },
) {
  const { rows } = await tx.query<LicenseRow>(
    `insert into licenses (tenant_id, id, key_hash, key_prefix, name, product, max_seats, expires_at, suspended, mode,
       session_ttl_seconds, heartbeat_interval_seconds, grace_seconds, max_fingerprints, token_ttl_seconds)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) returning ${columns}`,
    [tenantId, row.id, row.keyHash, row.keyPrefix, ...fieldValues(row)],
  );
  return rows[0];
}

export async function findLicense(tx: Tx, tenantId: string, id: string, options: { lock?: boolean } = {}) {
  const { rows } = await tx.query<LicenseRow>(
    `select ${columns} from licenses where tenant_id = $1 and id = $2${options.lock ? ' for update' : ''}`,
    [tenantId, id],
  );
  return rows[0];
}

export async function listLicenses(tx: Tx, tenantId: string, after: string | null, limit: number) {
  const { rows } = await tx.query<LicenseRow>(
    `select ${columns} from licenses where tenant_id = $1 and ($2::uuid is null or id < $2)
     order by id desc limit $3`,
    [tenantId, after, limit + 1],
  );
  return rows;
}

export async function updateLicense(tx: Tx, tenantId: string, id: string, row: LicenseFields) {
  const { rows } = await tx.query<LicenseRow>(
    `update licenses set name = $3, product = $4, max_seats = $5, expires_at = $6, suspended = $7, mode = $8,
       session_ttl_seconds = $9, heartbeat_interval_seconds = $10, grace_seconds = $11, max_fingerprints = $12,
       token_ttl_seconds = $13, updated_at = now()
     where tenant_id = $1 and id = $2 returning ${columns}`,
    [tenantId, id, ...fieldValues(row)],
  );
  return rows[0];
}

export async function deleteLicense(tx: Tx, tenantId: string, id: string) {
  const { rowCount } = await tx.query('delete from licenses where tenant_id = $1 and id = $2', [tenantId, id]);
  return rowCount === 1;
}

/** The one cross-tenant read: which organization and license a key hash belongs to (migration: license_key_owner). */
export async function findKeyOwner(query: Tx['query'], keyHash: Buffer) {
  const { rows } = await query<{ tenant_id: string; license_id: string }>(
    'select tenant_id, license_id from license_key_owner($1)',
    [keyHash],
  );
  return rows[0];
}

interface FingerprintRow {
  id: string;
  fingerprint: string;
  created_at: Date;
  last_seen_at: Date;
}

export function toFingerprint(row: FingerprintRow): FingerprintView {
  return {
    id: toPublicId('fingerprint', row.id),
    fingerprint: row.fingerprint,
    created_at: row.created_at.toISOString(),
    last_seen_at: row.last_seen_at.toISOString(),
  };
}

export async function listFingerprints(tx: Tx, tenantId: string, licenseId: string) {
  const { rows } = await tx.query<FingerprintRow>(
    `select id, fingerprint, created_at, last_seen_at from license_fingerprints
     where tenant_id = $1 and license_id = $2 order by id`,
    [tenantId, licenseId],
  );
  return rows;
}

export async function touchFingerprint(tx: Tx, tenantId: string, licenseId: string, fingerprint: string) {
  const { rowCount } = await tx.query(
    `update license_fingerprints set last_seen_at = now()
     where tenant_id = $1 and license_id = $2 and fingerprint = $3`,
    [tenantId, licenseId, fingerprint],
  );
  return rowCount === 1;
}

export async function countFingerprints(tx: Tx, tenantId: string, licenseId: string) {
  const { rows } = await tx.query<{ count: number }>(
    'select count(*)::int as count from license_fingerprints where tenant_id = $1 and license_id = $2',
    [tenantId, licenseId],
  );
  return rows[0]?.count ?? 0;
}

export async function insertFingerprint(tx: Tx, tenantId: string, licenseId: string, id: string, fingerprint: string) {
  await tx.query(
    `insert into license_fingerprints (tenant_id, id, license_id, fingerprint) values ($1, $2, $3, $4)
     on conflict (tenant_id, license_id, fingerprint) do nothing`,
    [tenantId, id, licenseId, fingerprint],
  );
}

export async function deleteFingerprint(tx: Tx, tenantId: string, licenseId: string, id: string) {
  const { rows } = await tx.query<{ fingerprint: string }>(
    'delete from license_fingerprints where tenant_id = $1 and license_id = $2 and id = $3 returning fingerprint',
    [tenantId, licenseId, id],
  );
  return rows[0]?.fingerprint;
}

/** The editable columns in statement order: name, product, max_seats … token_ttl_seconds. */
function fieldValues(row: LicenseFields): unknown[] {
  const p = row.policy;
  return [
    row.name,
    row.product,
    row.max_seats,
    row.expires_at,
    row.suspended,
    p.mode,
    p.session_ttl_seconds,
    p.heartbeat_interval_seconds,
    p.grace_seconds,
    p.max_fingerprints,
    p.token_ttl_seconds,
  ];
}

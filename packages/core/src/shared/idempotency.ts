import { createHash } from 'node:crypto';
import type { Tx } from '@atrium/db';
import { AtriumError } from './errors.ts';

export interface IdempotencyRequest {
  key: string;
  /** What the key is used for, e.g. `POST /api/v1/workspaces`: the same key on another operation is a reuse. */
  operation: string;
  /** The request body; a different body under the same key is refused. */
  payload: unknown;
}

export interface Stored<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/** Keys live 24 hours, like Stripe's: after that the same key starts a new request. */
const retention = '24 hours';

/**
 * Runs a creating operation at most once per Idempotency-Key, in the caller's transaction.
 *
 * The key row is inserted first: a concurrent request with the same key blocks on the primary key until this
 * transaction ends, then finds the stored response. Because the row and the created resource commit together,
 * a crash in between leaves neither.
 */
export async function idempotent<T>(
  tx: Tx,
  tenantId: string,
  request: IdempotencyRequest | undefined,
  run: () => Promise<{ status: number; body: T }>,
): Promise<Stored<T>> {
  if (!request) return { ...(await run()), replayed: false };
  const requestHash = createHash('sha256')
    .update(request.operation)
    .update('\0')
    .update(JSON.stringify(request.payload ?? null))
    .digest('hex');
  const claimed = await tx.query(
    `insert into idempotency_keys as k (tenant_id, key, operation, request_hash)
     values ($1, $2, $3, $4)
     on conflict (tenant_id, key) do update
       set operation = excluded.operation, request_hash = excluded.request_hash, created_at = now(),
           response_status = null, response_body = null
       where k.created_at < now() - interval '${retention}'
     returning key`,
    [tenantId, request.key, request.operation, requestHash],
  );
  if (claimed.rowCount === 0) return replay<T>(tx, tenantId, request.key, requestHash);
  const result = await run();
  await tx.query(
    'update idempotency_keys set response_status = $3, response_body = $4 where tenant_id = $1 and key = $2',
    [tenantId, request.key, result.status, JSON.stringify(result.body)],
  );
  return { ...result, replayed: false };
}

async function replay<T>(tx: Tx, tenantId: string, key: string, requestHash: string): Promise<Stored<T>> {
  const { rows } = await tx.query<{ request_hash: string; response_status: number | null; response_body: T }>(
    'select request_hash, response_status, response_body from idempotency_keys where tenant_id = $1 and key = $2',
    [tenantId, key],
  );
  const stored = rows[0];
  if (!stored || stored.request_hash !== requestHash) {
    throw new AtriumError('idempotency_key_reused', 'this Idempotency-Key was already used with a different request');
  }
  if (stored.response_status === null) {
    throw new AtriumError('idempotency_key_in_progress', 'a request with this Idempotency-Key is still running');
  }
  return { status: stored.response_status, body: stored.response_body, replayed: true };
}

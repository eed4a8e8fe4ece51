import type { Pool, PoolClient } from './pool.ts';

/** What a unit of work sees: one connection inside one transaction. */
export interface Tx {
  query<Row extends object = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Row[]; rowCount: number | null }>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class InvalidTenantError extends Error {
  constructor() {
    super('tenant id must be a lower-case UUID');
  }
}

/**
 * Runs `work` in a transaction scoped to one tenant: row-level security policies read `app.tenant_id`, set
 * transaction-locally so it never leaks to the next user of the pooled connection.
 *
 * BEGIN and set_config go to the server as one simple-protocol message: a bind parameter cannot be used there,
 * so the tenant id is checked against a strict UUID pattern and inlined. That saves one of the four round trips
 * a naive tenant transaction costs (DESIGN.md §6).
 */
export async function withTenant<T>(
  pool: Pool,
  tenantId: string,
  work: (tx: Tx) => Promise<T>,
  options: TenantTransactionOptions = {},
): Promise<T> {
  return inTransaction(pool, tenantBegin(tenantId, options), work);
}

/**
 * Runs `work` once per tenant, all in one transaction: `app.tenant_id` is set before each tenant's turn, so
 * row-level security holds each statement to the tenant it runs for, exactly as withTenant does, while the
 * commit (and its WAL flush, most of a small transaction's cost) is paid once. For background writers that batch
 * rows of many organizations (BatchWriter); one failure rolls back every tenant's work.
 */
export function withEachTenant(
  pool: Pool,
  tenantIds: Iterable<string>,
  work: (tx: Tx, tenantId: string) => Promise<void>,
): Promise<void> {
  return inTransaction(pool, 'begin', async (tx) => {
    for (const tenantId of tenantIds) {
      await tx.query(`select ${setTenant(tenantId)}`);
      await work(tx, tenantId);
    }
  });
}

/**
 * A whole single-statement tenant transaction in one round trip: BEGIN, the tenant, `statement` and COMMIT go
 * as one simple-protocol message, and the statement's rows come back. For the hottest paths (a seat acquire or
 * heartbeat), where the time between statements would otherwise be spent waiting on a busy event loop. Simple
 * protocol takes no bind parameters: every value in `statement` must be inlined safely (`uuidLiteral`,
 * `pg.escapeLiteral`, integers checked by the caller).
 */
export function tenantStatementInOneRoundTrip<Row>(
  pool: Pool,
  tenantId: string,
  statement: string,
  options: TenantTransactionOptions = {},
): Promise<Row[]> {
  const script = `${tenantBegin(tenantId, options)}; ${statement}; commit`;
  return withClient(pool, async (client) => {
    const results = (await client.query(script)) as unknown as Array<{ rows: Row[] }>;
    return results[2]?.rows ?? [];
  });
}

/** A UUID as an SQL literal, for statements sent without bind parameters; anything else is refused. */
export function uuidLiteral(value: string): string {
  if (!uuidPattern.test(value)) throw new InvalidTenantError();
  return `'${value}'`;
}

function tenantBegin(tenantId: string, options: TenantTransactionOptions): string {
  const asyncCommit = options.asyncCommit ? `, set_config('synchronous_commit', 'off', true)` : '';
  return `begin; select ${setTenant(tenantId)}${asyncCommit}`;
}

/** The transaction-local tenant setting the policies read, the id checked and inlined (no bind parameters). */
function setTenant(tenantId: string): string {
  return `set_config('app.tenant_id', ${uuidLiteral(tenantId)}, true)`;
}

export interface TenantTransactionOptions {
  /**
   * Commit without waiting for the WAL flush (Default: false). Only for writes whose loss in a database crash
   * is harmless, such as extending a lease: the earlier expiry still stands. Never for grants of anything.
   */
  asyncCommit?: boolean;
}

/**
 * A transaction acting for one signed-in person: policies keyed on `app.user_id` let them read their own
 * memberships (and those organizations) across tenants. Optionally also scoped to a tenant.
 */
export async function withUser<T>(
  pool: Pool,
  userId: string,
  work: (tx: Tx) => Promise<T>,
  tenantId?: string,
): Promise<T> {
  const tenant = tenantId ? `, ${setTenant(tenantId)}` : '';
  return inTransaction(pool, `begin; select set_config('app.user_id', ${uuidLiteral(userId)}, true)${tenant}`, work);
}

/** A transaction with no tenant: tenant tables show no rows. For global tables (identity, migrations). */
export function withoutTenant<T>(pool: Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(pool, 'begin', work);
}

function inTransaction<T>(pool: Pool, begin: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query(begin);
    const result = await work(client as Tx);
    await client.query('commit');
    return result;
  });
}

/** Checks out a client for one transaction's use; on failure rolls back, and discards a client that cannot. */
async function withClient<T>(pool: Pool, use: (client: PoolClient) => Promise<T>): Promise<T> {
  const client: PoolClient = await pool.connect();
  let broken: Error | undefined;
  // A server that goes away while this transaction waits between statements emits 'error' on the checked-out
  // client; without a listener that would crash the process. The next statement fails and the client is discarded.
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await use(client);
  } catch (err) {
    try {
      await client.query('rollback');
    } catch (rollbackError) {
      // A connection that cannot roll back is not returned to the pool.
      broken = rollbackError as Error;
    }
    throw err;
  } finally {
    // A broken client keeps the listener: it is being destroyed and may still report the closed socket.
    if (!broken) client.off('error', onError);
    client.release(broken);
  }
}

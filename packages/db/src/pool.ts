import type { Tracer } from '@opentelemetry/api';
import pg from 'pg';
import { tracedClient } from './tracing.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  connectionString: string;
  /** Connections at most (Default: 10). */
  max?: number;
  /** Name reported in pg_stat_activity.application_name (Default: atrium). */
  applicationName?: string;
  /** How long a caller waits for a free connection before failing (Default: 5000 ms). */
  connectionTimeoutMs?: number;
  /** Statement timeout set on every connection (Default: 30000 ms). */
  statementTimeoutMs?: number;
  onError?: (err: Error) => void;
  /** Makes a span of every statement (OpenTelemetry, tracing.ts). Absent: plain pg clients, nothing traced. */
  tracer?: Tracer | null;
}

export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'atrium',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30_000,
    ...(options.tracer ? { Client: tracedClient(options.tracer, options.connectionString) } : {}),
  });
  // An idle client can fail when the server restarts; without a listener that error would crash the process.
  pool.on('error', (err) => options.onError?.(err));
  // A client released after a failed query can still receive the server's FATAL message (a shutdown) before its
  // socket closes, when neither the pool nor a caller listens any more: that too must not crash the process.
  // The failure itself reaches the query that was running.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Replaces the user (and password) of a connection string: the runtime role connects to the same server. */
export function withCredentials(connectionString: string, user: string, password?: string): string {
  const url = new URL(connectionString);
  url.username = encodeURIComponent(user);
  url.password = password ? encodeURIComponent(password) : '';
  return url.toString();
}

/** Connection errors mean the database is unavailable (a 503), not that the request was wrong. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code ?? '';
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(err.message)
  );
}

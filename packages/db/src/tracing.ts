import { type Attributes, context, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import pg from 'pg';

type Query = (...args: unknown[]) => unknown;

/**
 * A pg Client that makes a CLIENT span of every statement it sends inside a sampled span (a request's, a step's):
 * one span per round trip, named by the statement's first keyword (BEGIN for a tenant transaction's
 * opening script). The statement's text is recorded only when its values travel as bind parameters: a statement
 * sent without them may have values inlined (a tenant id, a fingerprint), and those stay out of traces.
 * Statements outside one (batched journal writes, queue polling) are not traced: as roots of their own they
 * would flood the collector with one-span traces. Callback-style calls and submittables (cursors, streams) pass
 * through untraced; Atrium makes neither.
 */
export function tracedClient(tracer: Tracer, connectionString: string): typeof pg.Client {
  const url = new URL(connectionString);
  const common: Attributes = {
    [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
    // libpq's default database is the user's name.
    [ATTR_DB_NAMESPACE]: decodeURIComponent(url.pathname.slice(1) || url.username) || 'postgres',
    [ATTR_SERVER_ADDRESS]: url.hostname,
    [ATTR_SERVER_PORT]: Number(url.port || 5432),
  };
  const query = pg.Client.prototype.query as Query;
  return class TracedClient extends pg.Client {
    override query(...args: unknown[]): never {
      const first = args[0] as string | { text?: string; values?: unknown[]; submit?: unknown } | undefined;
      const untraced =
        typeof args[args.length - 1] === 'function' ||
        (typeof first === 'object' && first !== null && typeof first.submit === 'function') ||
        !trace.getSpan(context.active())?.isRecording();
      if (untraced) return query.apply(this, args) as never;
      const text = typeof first === 'string' ? first : (first?.text ?? '');
      const values = typeof first === 'string' ? args[1] : (first?.values ?? args[1]);
      const operation = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
      const attributes: Attributes = { ...common, [ATTR_DB_OPERATION_NAME]: operation };
      if (Array.isArray(values)) attributes[ATTR_DB_QUERY_TEXT] = text;
      const span = tracer.startSpan(operation, { kind: SpanKind.CLIENT, attributes });
      return (query.apply(this, args) as Promise<unknown>).then(
        (result) => {
          span.end();
          return result;
        },
        (err: Error & { code?: string }) => {
          if (err.code) span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, err.code);
          span.setAttribute(ATTR_ERROR_TYPE, err.code ?? err.name);
          span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
          span.end();
          throw err;
        },
      ) as never;
    }
  };
}

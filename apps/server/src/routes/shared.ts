import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Stored } from '@atrium/core';
import type { Pool } from '@atrium/db';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawServerDefault } from 'fastify';
import Type from 'typebox';

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface RouteDeps {
  pool: Pool;
}

/** Error responses a route declares, all RFC 9457 problem documents (the shared `Problem` schema). */
export function problems(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref('Problem')]));
}

/** Statuses every tenant route can answer besides its own: bad input, no credentials, rate limit, outage. */
export const tenantRouteProblems = [400, 401, 403, 429, 503];

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Retrying with the same key returns the first response instead of creating twice (24 h)',
    }),
  ),
});

/** A created resource, or the first response again when the Idempotency-Key was seen before. */
export function sendStored<T>(reply: FastifyReply, stored: Stored<T>) {
  if (stored.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(stored.status).send(stored.body);
}

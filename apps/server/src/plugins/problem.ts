import { type ErrorCode, errorCatalog, type ProblemDocument, problemType } from '@atrium/contracts';
import { AtriumError, type FieldError } from '@atrium/core';
import { isConnectionError } from '@atrium/db';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  errors?: FieldError[],
) {
  const problem: ProblemDocument = {
    type: problemType(code),
    title: errorCatalog[code].title,
    status: errorCatalog[code].status,
    code,
    instance: request.url.split('?')[0] ?? request.url,
    request_id: request.id,
  };
  if (detail) problem.detail = detail;
  if (errors && errors.length > 0) problem.errors = errors;
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

interface AjvIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

function fieldErrors(context: string | undefined, issues: AjvIssue[]): FieldError[] {
  return issues.map((issue) => {
    const extra = issue.keyword === 'additionalProperties' ? `: ${String(issue.params.additionalProperty)}` : '';
    const path = `/${context ?? 'body'}${issue.instancePath}`;
    return { path, message: `${issue.message ?? 'is invalid'}${extra}` };
  });
}

/** Fastify's own request errors, by code, mapped onto the catalog. */
const fastifyErrors: Partial<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_RATE_LIMIT: 'rate_limited',
};

/**
 * Every error leaves as RFC 9457 problem+json with a catalog code. The caller's mistakes are 4xx with a
 * message that says what to fix; anything else is our bug: a 500 with nothing internal in it, and a log line.
 */
export function installProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    const error = isConnectionError(raw)
      ? new AtriumError('service_unavailable', 'the database is unavailable; retry shortly', undefined, { cause: raw })
      : raw;
    if (error instanceof AtriumError) {
      if (error.code === 'service_unavailable') {
        // A dependency is away (PostgreSQL, the seat store's Redis): worth a line, and the client may try again.
        request.log.warn({ err: error.cause ?? error }, error.message);
        reply.header('retry-after', '5');
      }
      return sendProblem(request, reply, error.code, error.message, error.errors);
    }
    if (error.validation) {
      const errors = fieldErrors(error.validationContext, error.validation as AjvIssue[]);
      return sendProblem(request, reply, 'validation_failed', 'the request does not match the schema', errors);
    }
    const mapped = error.code ? fastifyErrors[error.code] : undefined;
    if (mapped) return sendProblem(request, reply, mapped, error.message);
    if (error instanceof SyntaxError && error.statusCode === 400) {
      return sendProblem(request, reply, 'malformed_json', error.message);
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      request.log.info({ err: error }, 'request refused by the framework');
      return sendProblem(request, reply, 'validation_failed', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, 'internal_error', 'something went wrong on our side; it has been logged');
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 'route_not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}

import type { ErrorCode } from '@atrium/contracts';

export interface FieldError {
  path: string;
  message: string;
}

/** An error the caller can act on: it carries a catalog code, which the HTTP edge turns into problem+json. */
export class AtriumError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;

  /** `options.cause`: what failed underneath (logged, never sent). */
  constructor(code: ErrorCode, detail: string, errors?: FieldError[], options?: ErrorOptions) {
    super(detail, options);
    this.name = 'AtriumError';
    this.code = code;
    this.errors = errors;
  }
}

export function notFound(what: string): AtriumError {
  return new AtriumError('not_found', `${what} was not found`);
}

interface PgError {
  code?: string;
  constraint?: string;
}

/** PostgreSQL constraint violations (unique, foreign key, restrict) that mean "your request conflicts with the data", mapped to catalog errors. */
export function fromConstraintViolation(err: unknown, messages: Record<string, AtriumError>): unknown {
  const pgError = err as PgError;
  if (pgError.constraint && ['23505', '23503', '23001'].includes(pgError.code ?? '')) {
    return messages[pgError.constraint] ?? err;
  }
  return err;
}

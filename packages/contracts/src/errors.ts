/**
 * The one catalog of error codes. Each code is stable (clients branch on it), maps to one HTTP status, and has
 * an entry in docs/errors.md (a test keeps the two in step). Problem documents are RFC 9457 problem+json.
 */
export const errorCatalog = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  mfa_required: { status: 401, title: 'A one-time code is required' },
  forbidden: { status: 403, title: 'Not allowed' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'The resource conflicts with an existing one' },
  slug_taken: { status: 409, title: 'The slug is already taken' },
  resource_in_use: { status: 409, title: 'The resource is still in use' },
  email_taken: { status: 409, title: 'An account with this email already exists' },
  last_owner: { status: 409, title: 'An organization needs at least one owner' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used for a different request' },
  idempotency_key_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still running' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  seats_exhausted: { status: 409, title: 'Every seat of the license is in use' },
  fingerprint_limit_reached: { status: 409, title: 'The license has no room for another machine' },
  license_expired: { status: 403, title: 'The license has expired' },
  license_suspended: { status: 403, title: 'The license is suspended' },
  session_not_found: { status: 404, title: 'The license session is not live' },
  rate_limited: { status: 429, title: 'Too many requests' },
  flow_queue_full: { status: 429, title: 'The organization has too many flow runs waiting' },
  flow_run_state: { status: 409, title: 'The flow run is not in a state that allows this' },
  internal_error: { status: 500, title: 'Internal error' },
  service_unavailable: { status: 503, title: 'A dependency is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];

export function statusOf(code: ErrorCode): number {
  return errorCatalog[code].status;
}

/** Where a problem's `type` points: the entry for its code in the served error reference. */
export function problemType(code: ErrorCode): string {
  return `/errors#${code}`;
}

/**
 * The server's answers as the SDK receives them: the licensing wire types of `@atrium/contracts` (the server's
 * TypeBox schemas), written out here so that the published package's declarations stand alone and a consumer
 * needs neither `@atrium/contracts` nor TypeBox. test/types.test.ts fails the repository's type-check
 * (`npm run typecheck`) the moment they and the contracts differ.
 */

export interface Seats {
  used: number;
  max: number;
}

/** What `POST /api/v1/licenses/acquire` answers. */
export interface AcquireResponse {
  /** JWT (EdDSA or ES256) certified by the root key; verifies offline. */
  token: string;
  /** `ses_` + 64 hex digits. */
  session_id: string;
  /** RFC 3339 date-time. */
  expires_at: string;
  heartbeat_interval_seconds: number;
  seats: Seats;
}

/** What a heartbeat answers: the lease's new expiry (RFC 3339 date-time). */
export interface HeartbeatResponse {
  expires_at: string;
}

/** One live session, as status lists it. */
export interface LeaseView {
  session_id: string;
  fingerprint: string;
  acquired_at: string;
  expires_at: string;
  metadata: Record<string, string | number>;
}

/** What `GET /api/v1/licenses/status` answers. */
export interface LicenseStatus {
  valid: boolean;
  license_id: string;
  expires_at: string | null;
  suspended: boolean;
  seats: Seats;
  sessions: LeaseView[];
}

/** The claims of an acquire token (JWT). */
export interface LicenseTokenClaims {
  iss: string;
  sub: string;
  /** License public id. */
  lic: string;
  /** Session handle. */
  sid: string;
  /** Fingerprint the seat was given to. */
  fpr: string;
  seats: { used: number; max: number };
  /** When the lease expires unless renewed (seconds since epoch); `exp` is when the token stops verifying offline. */
  lease_exp: number;
  iat: number;
  exp: number;
}

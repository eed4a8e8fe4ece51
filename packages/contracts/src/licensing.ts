import Type, { type Static } from 'typebox';
import { Name, PublicId, Timestamp } from './common.ts';

/**
 * A license session: `ses_` + the session UUID's 32 hex digits + the license UUID's 32 hex digits. The license
 * travels inside the handle so that a heartbeat finds its lease set with no lookup (DESIGN.md §6 budgets).
 */
export const SessionId = Type.String({ pattern: '^ses_[0-9a-f]{64}$', description: 'A license session handle' });

/** `lk_` + 43 base64url characters (256 random bits). Shown once, at creation; stored only as its SHA-256. */
export const LicenseKey = Type.String({ minLength: 10, maxLength: 200, pattern: '^lk_[A-Za-z0-9_-]+$' });

export const Fingerprint = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'A stable machine identifier chosen by the client (the SDK hashes /etc/machine-id)',
});

export const LicenseMode = Type.Union([Type.Literal('floating'), Type.Literal('node_locked')]);

export const LicensePolicy = Type.Object({
  mode: LicenseMode,
  session_ttl_seconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
  heartbeat_interval_seconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
  grace_seconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
  max_fingerprints: Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()]),
  token_ttl_seconds: Type.Integer({ minimum: 60, maximum: 2_592_000 }),
});
export type LicensePolicy = Static<typeof LicensePolicy>;

export const LicensePolicyInput = Type.Object(
  {
    mode: Type.Optional(LicenseMode),
    session_ttl_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400, description: 'A lease lives this long without a heartbeat (360)' }),
    ),
    heartbeat_interval_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400, description: 'Cadence the server asks clients for (TTL/3)' }),
    ),
    grace_seconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 86_400, description: 'Extra life of a lease past its TTL (0)' }),
    ),
    max_fingerprints: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
    token_ttl_seconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: 2_592_000, description: 'How long a token verifies offline (86400)' }),
    ),
  },
  { additionalProperties: false },
);

export const License = Type.Object({
  id: PublicId('license'),
  name: Type.Union([Name, Type.Null()]),
  product: Type.Union([Name, Type.Null()]),
  max_seats: Type.Integer(),
  expires_at: Type.Union([Timestamp, Type.Null()]),
  suspended: Type.Boolean(),
  policy: LicensePolicy,
  key_prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type License = Static<typeof License>;

export const CreatedLicense = Type.Intersect([
  License,
  Type.Object({ license_key: Type.String({ description: 'Shown only in this response' }) }),
]);
export type CreatedLicense = Static<typeof CreatedLicense>;

const MaxSeats = Type.Integer({ minimum: 1, maximum: 1_000_000 });

export const CreateLicense = Type.Object(
  {
    max_seats: MaxSeats,
    expires_at: Type.Optional(Type.Union([Timestamp, Type.Null()])),
    name: Type.Optional(Type.Union([Name, Type.Null()])),
    product: Type.Optional(Type.Union([Name, Type.Null()])),
    policy: Type.Optional(LicensePolicyInput),
    suspended: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, examples: [{ max_seats: 5, name: 'Studio seats', policy: { mode: 'floating' } }] },
);
export type CreateLicense = Static<typeof CreateLicense>;

export const UpdateLicense = Type.Object(
  {
    max_seats: Type.Optional(MaxSeats),
    expires_at: Type.Optional(Type.Union([Timestamp, Type.Null()])),
    name: Type.Optional(Type.Union([Name, Type.Null()])),
    product: Type.Optional(Type.Union([Name, Type.Null()])),
    policy: Type.Optional(LicensePolicyInput),
    suspended: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ max_seats: 10 }] },
);
export type UpdateLicense = Static<typeof UpdateLicense>;

export const Seats = Type.Object({ used: Type.Integer(), max: Type.Integer() });

/**
 * What a client says about its session (host name, app version…), kept with the lease and in the journal and
 * shown by status. Written out rather than as Type.Record: a Record's key schema becomes the pattern `^.*$`,
 * which bounds no key's length and lets a key with a line break skip the value schema. NUL and lone surrogates (a
 * `\ud800` escape without its pair) are refused because PostgreSQL's jsonb cannot hold them; characters outside
 * the Basic Multilingual Plane, sent as surrogate pairs, are fine (Ajv compiles patterns with the `u` flag).
 */
const jsonbText = '^[^\\u0000\\ud800-\\udfff]*$';

export const LeaseMetadata = Type.Unsafe<Record<string, string | number>>({
  type: 'object',
  maxProperties: 16,
  propertyNames: { type: 'string', minLength: 1, maxLength: 64, pattern: jsonbText },
  additionalProperties: {
    anyOf: [{ type: 'string', maxLength: 256, pattern: jsonbText }, { type: 'number' }],
  },
  description: 'Up to 16 keys of 1–64 characters; values are strings of at most 256 characters, or numbers',
  examples: [{ host: 'build-07', app_version: '4.2.1' }],
});
export type LeaseMetadata = Static<typeof LeaseMetadata>;

export const AcquireRequest = Type.Object(
  {
    license_key: LicenseKey,
    fingerprint: Fingerprint,
    metadata: Type.Optional(LeaseMetadata),
  },
  { additionalProperties: false },
);
export type AcquireRequest = Static<typeof AcquireRequest>;

export const AcquireResponse = Type.Object({
  token: Type.String({ description: 'JWT (EdDSA or ES256) certified by the root key; verifies offline' }),
  session_id: SessionId,
  expires_at: Timestamp,
  heartbeat_interval_seconds: Type.Integer(),
  seats: Seats,
});
export type AcquireResponse = Static<typeof AcquireResponse>;

export const SessionRequest = Type.Object(
  {
    session_id: Type.Optional(SessionId),
    token: Type.Optional(Type.String({ maxLength: 8192 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type SessionRequest = Static<typeof SessionRequest>;

export const HeartbeatResponse = Type.Object({ expires_at: Timestamp });
export type HeartbeatResponse = Static<typeof HeartbeatResponse>;

export const LeaseView = Type.Object({
  session_id: SessionId,
  fingerprint: Fingerprint,
  acquired_at: Timestamp,
  expires_at: Timestamp,
  metadata: LeaseMetadata,
});

export const LicenseStatus = Type.Object({
  valid: Type.Boolean(),
  license_id: PublicId('license'),
  expires_at: Type.Union([Timestamp, Type.Null()]),
  suspended: Type.Boolean(),
  seats: Seats,
  sessions: Type.Array(LeaseView),
});
export type LicenseStatus = Static<typeof LicenseStatus>;

export const StatusQuery = Type.Object({ license_key: LicenseKey }, { additionalProperties: false });

export const FingerprintView = Type.Object({
  id: PublicId('fingerprint'),
  fingerprint: Fingerprint,
  created_at: Timestamp,
  last_seen_at: Timestamp,
});
export type FingerprintView = Static<typeof FingerprintView>;

export const UsageQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Default: 30 days before `to`' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })),
    license_id: Type.Optional(PublicId('license')),
  },
  { additionalProperties: false },
);

export const UsageDay = Type.Object({
  license_id: PublicId('license'),
  day: Type.String({ format: 'date' }),
  peak_concurrent_seats: Type.Integer(),
  acquisitions: Type.Integer(),
  denials: Type.Integer(),
  average_session_seconds: Type.Union([Type.Number(), Type.Null()]),
});
export type UsageDay = Static<typeof UsageDay>;

export const UsageReport = Type.Object({ data: Type.Array(UsageDay) });

/** What /.well-known/jwks.json publishes: the root key, and every signing key with its root-signed certificate. */
export const Jwk = Type.Record(Type.String(), Type.Unknown());
export const Jwks = Type.Object({ keys: Type.Array(Jwk) });

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

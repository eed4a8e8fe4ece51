import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';

/**
 * Everything Atrium can be told, parsed once from the environment. This is the only module that reads
 * process.env; everything else receives a Config. Names carry their units.
 */
export interface Config {
  /** Interface to bind (HOST, Default: 127.0.0.1; containers set 0.0.0.0). */
  host: string;
  /** API port (PORT, Default: 8080). */
  port: number;
  /** Public base URL, used in links and the OpenAPI servers list (ATRIUM_PUBLIC_URL, Default: http://localhost:PORT). */
  publicUrl: string;
  /** pino level (LOG_LEVEL, Default: info). */
  logLevel: string;
  /** Owner-role connection used by migrations (DATABASE_URL). Unset: embedded PostgreSQL. */
  databaseUrl: string | null;
  /** Runtime-role connection (DATABASE_APP_URL, Default: DATABASE_URL with user atrium_app). */
  databaseAppUrl: string | null;
  /** Password of the runtime role atrium_app, when the server requires one (ATRIUM_DB_APP_PASSWORD). */
  databaseAppPassword: string | null;
  /** Connections in the runtime pool (ATRIUM_DB_POOL_MAX, Default: 10). */
  databasePoolMax: number;
  /** Where embedded mode keeps its database and keys (ATRIUM_DATA_DIR, Default: ./.atrium). */
  dataDir: string;
  /** Port of the embedded PostgreSQL (ATRIUM_EMBEDDED_PG_PORT, Default: 54329). */
  embeddedPostgresPort: number;
  /** Largest accepted request body (ATRIUM_BODY_LIMIT_BYTES, Default: 1048576). */
  bodyLimitBytes: number;
  /** Browser origins allowed by CORS, comma-separated (ATRIUM_CORS_ORIGINS, Default: none). */
  corsOrigins: string[];
  /** Proxies whose X-Forwarded-For is believed: IPs or CIDRs, comma-separated (ATRIUM_TRUSTED_PROXIES). */
  trustedProxies: string[];
  /** How long shutdown waits for in-flight requests (ATRIUM_SHUTDOWN_TIMEOUT_MS, Default: 10000). */
  shutdownTimeoutMs: number;
  /**
   * Server secret (ATRIUM_SECRET_KEY, at least 32 characters): seals TOTP seeds and access-token signing keys
   * in the database. Every API process of one installation needs the same value. Embedded mode generates one
   * under the data directory when unset.
   */
  secretKey: string | null;
  /**
   * Redis for shared rate limits and the seat store (REDIS_URL). Unset: in-process. With `redisCluster`, the seed
   * nodes of a Redis Cluster, comma-separated (one is enough: the client learns the others from it).
   */
  redisUrl: string | null;
  /** REDIS_URL names a Redis Cluster (ATRIUM_REDIS_CLUSTER=true), not one server (Default: false). */
  redisCluster: boolean;
  /**
   * How the server authenticates to Redis (ATRIUM_REDIS_AUTH, Default: password). `password`: the user and password
   * in REDIS_URL, if any. `gcp-iam`: Memorystore IAM authentication, an OAuth2 access token of the process's Google
   * identity (on GKE the pod's service account, through Workload Identity) as the password of user `default`, fetched
   * at start and refreshed in the background; REDIS_URL then has no user or password and must be rediss://.
   */
  redisAuth: RedisAuth;
  /**
   * CA certificates, PEM, that Redis's TLS certificate must chain to (ATRIUM_REDIS_TLS_CA), in place of Node's
   * default CAs: Memorystore signs with a CA of its own. The certificates themselves, not a path: they reach the pods
   * the way REDIS_URL does (a secret written by Terraform). Needs rediss://. Default: Node's default CAs.
   */
  redisTlsCa: string | null;
  /** Access token lifetime (ATRIUM_ACCESS_TOKEN_TTL_SECONDS, Default: 3600). */
  accessTokenTtlSeconds: number;
  /** Refresh token lifetime (ATRIUM_REFRESH_TOKEN_TTL_SECONDS, Default: 604800 = 7 days). */
  refreshTokenTtlSeconds: number;
  /** Invitation lifetime (ATRIUM_INVITATION_TTL_SECONDS, Default: 604800 = 7 days). */
  invitationTtlSeconds: number;
  rateLimits: RateLimitConfig;
  /**
   * Trusted external OpenID Connect issuers (ATRIUM_OIDC_ISSUERS): JSON array of `{issuer, audience}`; an ID
   * token from one of them signs a person in (Default: none).
   */
  oidcIssuers: Array<{ issuer: string; audience: string }>;
  /** Prefix of every Redis key licensing writes (ATRIUM_REDIS_KEY_PREFIX, Default: atrium:). */
  redisKeyPrefix: string;
  /** Who holds the RSA-4096 root key that certifies token signing keys (ATRIUM_SIGNER, Default: local). */
  signer: 'local' | 'gcp-kms' | 'aws-kms';
  /**
   * The KMS key (ATRIUM_KMS_KEY): a Cloud KMS key version name for gcp-kms
   * (projects/…/cryptoKeyVersions/N), a key id or ARN for aws-kms. Unused for local (the key file is
   * ATRIUM_DATA_DIR/license-root-key.pem, made on first start, mode 0600).
   */
  kmsKey: string | null;
  /** Algorithm of the short-lived license token signing keys (ATRIUM_TOKEN_SIGNING_ALG, Default: EdDSA; or ES256). */
  tokenSigningAlgorithm: 'EdDSA' | 'ES256';
  /** How long one token signing key signs before the next (ATRIUM_SIGNING_KEY_ROTATION_SECONDS, Default: 86400). */
  signingKeyRotationSeconds: number;
  /** Longest token lifetime a license may ask for (ATRIUM_LICENSE_TOKEN_MAX_TTL_SECONDS, Default: 2592000). */
  licenseTokenMaxTtlSeconds: number;
  /** How long a process trusts its cached copy of a license (ATRIUM_LICENSE_CACHE_TTL_MS, Default: 5000). */
  licenseCacheTtlMs: number;
  /** How often touched licenses are swept for expired leases (ATRIUM_LEASE_REAP_INTERVAL_MS, Default: 5000). */
  leaseReapIntervalMs: number;
  /** Longest a journal or audit row waits in memory (ATRIUM_JOURNAL_FLUSH_INTERVAL_MS, Default: 200). */
  journalFlushIntervalMs: number;
  /** Port of `atrium worker`'s /health, /ready and /metrics (WORKER_PORT, Default: 9090). */
  workerPort: number;
  /** Runs one worker process executes at once (ATRIUM_WORKER_CONCURRENCY, Default: 16). */
  workerConcurrency: number;
  /** Queue backend of flows (ATRIUM_FLOW_BACKEND: postgres | nats, Default: nats when NATS_URL is set, else postgres). */
  flowBackend: 'postgres' | 'nats';
  /** NATS servers, comma-separated (NATS_URL, Default: none). */
  natsUrl: string | null;
  /** JetStream stream of flow work (ATRIUM_FLOW_STREAM, Default: ATRIUM_FLOWS). */
  flowStream: string;
  /** Stream replicas: 3 on the production cluster (ATRIUM_NATS_REPLICAS, Default: 1). */
  natsReplicas: number;
  /** A run's lease; a dead worker's runs restart after about this long (ATRIUM_FLOW_LEASE_MS, Default: 15000). */
  flowLeaseMs: number;
  /** Runs of one organization running at once, across workers (ATRIUM_FLOW_TENANT_CONCURRENCY, Default: 8). */
  flowTenantConcurrency: number;
  /** Runs of one organization waiting or running at most (ATRIUM_FLOW_TENANT_QUEUE_QUOTA, Default: 10000). */
  flowTenantQueueQuota: number;
  /** How long a stopping worker lets in-flight runs finish before handing them back (ATRIUM_WORKER_DRAIN_MS, Default: 20000). */
  workerDrainMs: number;
  /** SMTP server for email (SMTP_URL, e.g. smtps://user:pass@host:465). Unset: emails go to the email_outbox table and the log. */
  smtpUrl: string | null;
  /** Sender of email (ATRIUM_MAIL_FROM, Default: Atrium <no-reply@localhost>). */
  mailFrom: string;
  /** Where audit events are relayed, signed with HMAC-SHA256 (ATRIUM_AUDIT_WEBHOOK_URL, Default: no relay). */
  auditWebhookUrl: string | null;
  /** HMAC key of the audit webhook signature (ATRIUM_AUDIT_WEBHOOK_SECRET; required with the URL). */
  auditWebhookSecret: string | null;
  /** Finished flow runs are deleted after this many days (ATRIUM_FLOW_RETENTION_DAYS, Default: 30). */
  flowRetentionDays: number;
  /**
   * OpenTelemetry traces, exported over OTLP/HTTP with JSON, from the standard OTEL_* variables: on when
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set (and neither OTEL_SDK_DISABLED=true
   * nor OTEL_TRACES_EXPORTER=none). Null: no tracing, and nothing of it on any request path.
   */
  tracing: TracingConfig | null;
}

export interface TracingConfig {
  /** Where spans are posted: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  endpoint: string;
  /** Sent with every export, e.g. a collector's API key (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS). */
  headers: Record<string, string>;
  /** service.name of the resource (OTEL_SERVICE_NAME, Default: atrium). */
  serviceName: string;
  /** More resource attributes, e.g. k8s.pod.name (OTEL_RESOURCE_ATTRIBUTES: key=value,key=value). */
  resourceAttributes: Record<string, string>;
  /** Which traces are kept (OTEL_TRACES_SAMPLER, Default: parentbased_always_on). */
  sampler: TraceSampler;
  /** Share of traces kept by the traceidratio samplers, 0 to 1 (OTEL_TRACES_SAMPLER_ARG, Default: 1). */
  samplerRatio: number;
}

export const traceSamplers = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof traceSamplers)[number];

export interface RateLimitConfig {
  /** Unauthenticated requests per client IP per minute (ATRIUM_RATE_LIMIT_IP_PER_MINUTE, Default: 100). */
  ipPerMinute: number;
  /** Sign-in, sign-up and refresh attempts per client IP per minute (ATRIUM_RATE_LIMIT_AUTH_PER_MINUTE, Default: 20). */
  authPerMinute: number;
  /** Authenticated requests per organization per minute (ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE, Default: 60000). */
  tenantPerMinute: number;
  /** Requests per API key per minute (ATRIUM_RATE_LIMIT_API_KEY_PER_MINUTE, Default: 30000). */
  apiKeyPerMinute: number;
}

export const redisAuthModes = ['password', 'gcp-iam'] as const;
export type RedisAuth = (typeof redisAuthModes)[number];

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const port = integer(env, 'PORT', 8080, 0, 65_535);
  const databaseUrl = url(env, 'DATABASE_URL');
  const redisCluster = oneOf(env, 'ATRIUM_REDIS_CLUSTER', ['true', 'false'], 'false') === 'true';
  const redis = redisConnection(env, redisCluster);
  const signer = oneOf(env, 'ATRIUM_SIGNER', ['local', 'gcp-kms', 'aws-kms'], 'local');
  const kmsKey = env.ATRIUM_KMS_KEY || null;
  if (signer !== 'local' && !kmsKey) throw new ConfigError(`ATRIUM_SIGNER=${signer} needs ATRIUM_KMS_KEY`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    publicUrl: url(env, 'ATRIUM_PUBLIC_URL') ?? `http://localhost:${port}`,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    databaseUrl,
    databaseAppUrl: url(env, 'DATABASE_APP_URL'),
    databaseAppPassword: env.ATRIUM_DB_APP_PASSWORD ?? null,
    databasePoolMax: integer(env, 'ATRIUM_DB_POOL_MAX', 10, 1, 1000),
    dataDir: resolve(cwd, env.ATRIUM_DATA_DIR ?? '.atrium'),
    embeddedPostgresPort: integer(env, 'ATRIUM_EMBEDDED_PG_PORT', 54_329, 1, 65_535),
    bodyLimitBytes: integer(env, 'ATRIUM_BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    corsOrigins: list(env, 'ATRIUM_CORS_ORIGINS'),
    trustedProxies: list(env, 'ATRIUM_TRUSTED_PROXIES'),
    shutdownTimeoutMs: integer(env, 'ATRIUM_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    secretKey: secret(env, 'ATRIUM_SECRET_KEY'),
    ...redis,
    redisCluster,
    accessTokenTtlSeconds: integer(env, 'ATRIUM_ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86_400),
    refreshTokenTtlSeconds: integer(env, 'ATRIUM_REFRESH_TOKEN_TTL_SECONDS', 604_800, 300, 31_536_000),
    invitationTtlSeconds: integer(env, 'ATRIUM_INVITATION_TTL_SECONDS', 604_800, 300, 31_536_000),
    rateLimits: {
      ipPerMinute: integer(env, 'ATRIUM_RATE_LIMIT_IP_PER_MINUTE', 100, 1, 10_000_000),
      authPerMinute: integer(env, 'ATRIUM_RATE_LIMIT_AUTH_PER_MINUTE', 20, 1, 10_000_000),
      tenantPerMinute: integer(env, 'ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE', 60_000, 1, 100_000_000),
      apiKeyPerMinute: integer(env, 'ATRIUM_RATE_LIMIT_API_KEY_PER_MINUTE', 30_000, 1, 100_000_000),
    },
    oidcIssuers: issuers(env, 'ATRIUM_OIDC_ISSUERS'),
    redisKeyPrefix: env.ATRIUM_REDIS_KEY_PREFIX ?? 'atrium:',
    signer,
    kmsKey,
    tokenSigningAlgorithm: oneOf(env, 'ATRIUM_TOKEN_SIGNING_ALG', ['EdDSA', 'ES256'], 'EdDSA'),
    signingKeyRotationSeconds: integer(env, 'ATRIUM_SIGNING_KEY_ROTATION_SECONDS', 86_400, 60, 90 * 86_400),
    licenseTokenMaxTtlSeconds: integer(env, 'ATRIUM_LICENSE_TOKEN_MAX_TTL_SECONDS', 2_592_000, 60, 2_592_000),
    licenseCacheTtlMs: integer(env, 'ATRIUM_LICENSE_CACHE_TTL_MS', 5000, 0, 600_000),
    leaseReapIntervalMs: integer(env, 'ATRIUM_LEASE_REAP_INTERVAL_MS', 5000, 100, 600_000),
    journalFlushIntervalMs: integer(env, 'ATRIUM_JOURNAL_FLUSH_INTERVAL_MS', 200, 1, 60_000),
    workerPort: integer(env, 'WORKER_PORT', 9090, 0, 65_535),
    workerConcurrency: integer(env, 'ATRIUM_WORKER_CONCURRENCY', 16, 1, 10_000),
    flowBackend: oneOf(env, 'ATRIUM_FLOW_BACKEND', ['postgres', 'nats'], env.NATS_URL ? 'nats' : 'postgres'),
    natsUrl: env.NATS_URL || null,
    flowStream: env.ATRIUM_FLOW_STREAM || 'ATRIUM_FLOWS',
    natsReplicas: integer(env, 'ATRIUM_NATS_REPLICAS', 1, 1, 5),
    flowLeaseMs: integer(env, 'ATRIUM_FLOW_LEASE_MS', 15_000, 500, 3_600_000),
    flowTenantConcurrency: integer(env, 'ATRIUM_FLOW_TENANT_CONCURRENCY', 8, 1, 100_000),
    flowTenantQueueQuota: integer(env, 'ATRIUM_FLOW_TENANT_QUEUE_QUOTA', 10_000, 1, 100_000_000),
    workerDrainMs: integer(env, 'ATRIUM_WORKER_DRAIN_MS', 20_000, 0, 3_600_000),
    smtpUrl: url(env, 'SMTP_URL'),
    mailFrom: env.ATRIUM_MAIL_FROM || 'Atrium <no-reply@localhost>',
    ...auditWebhook(env),
    flowRetentionDays: integer(env, 'ATRIUM_FLOW_RETENTION_DAYS', 30, 1, 3650),
    tracing: tracing(env),
  };
}

/** The OpenTelemetry SDK's own variables (opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables). */
function tracing(env: Env): TracingConfig | null {
  const exporter = oneOf(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none'], 'otlp');
  const signalEndpoint = url(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (env.OTEL_SDK_DISABLED === 'true' || exporter === 'none' || !(signalEndpoint || baseEndpoint)) return null;
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    const protocol = env[name];
    if (protocol && protocol !== 'http/json') {
      throw new ConfigError(
        `${name}: Atrium exports traces as OTLP over HTTP with JSON; set http/json, got "${protocol}"`,
      );
    }
  }
  const ratio = env.OTEL_TRACES_SAMPLER_ARG;
  const samplerRatio = ratio === undefined || ratio === '' ? 1 : Number(ratio);
  if (!(samplerRatio >= 0 && samplerRatio <= 1)) {
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${ratio}"`);
  }
  return {
    endpoint: signalEndpoint ?? `${(baseEndpoint as string).replace(/\/+$/, '')}/v1/traces`,
    headers: {
      ...keyValues(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...keyValues(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
    },
    serviceName: env.OTEL_SERVICE_NAME || 'atrium',
    resourceAttributes: keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES'),
    sampler: oneOf(env, 'OTEL_TRACES_SAMPLER', traceSamplers, 'parentbased_always_on'),
    samplerRatio,
  };
}

/** `key=value,key=value` with percent-encoded values, the W3C Baggage form the OTEL_* variables use. */
function keyValues(env: Env, name: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of list(env, name)) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      value = '';
    }
    if (at <= 0 || !value) throw new ConfigError(`${name} must be key=value pairs separated by commas, got "${pair}"`);
    result[key] = value;
  }
  return result;
}

function auditWebhook(env: Env) {
  const auditWebhookUrl = url(env, 'ATRIUM_AUDIT_WEBHOOK_URL');
  const auditWebhookSecret = env.ATRIUM_AUDIT_WEBHOOK_SECRET || null;
  if (auditWebhookUrl && !auditWebhookSecret) {
    throw new ConfigError('ATRIUM_AUDIT_WEBHOOK_SECRET is required with ATRIUM_AUDIT_WEBHOOK_URL');
  }
  return { auditWebhookUrl, auditWebhookSecret };
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function secret(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  if (raw.length < 32) throw new ConfigError(`${name} must be at least 32 characters`);
  return raw;
}

function issuers(env: Env, name: string): Config['oidcIssuers'] {
  const raw = env[name];
  if (raw === undefined || raw === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} must be a JSON array of {"issuer", "audience"}`);
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every((entry) => typeof entry?.issuer === 'string' && typeof entry?.audience === 'string');
  if (!valid) throw new ConfigError(`${name} must be a JSON array of {"issuer", "audience"}`);
  return parsed as Config['oidcIssuers'];
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL`);
  }
  return raw;
}

/**
 * REDIS_URL: one URL, or with ATRIUM_REDIS_CLUSTER=true the comma-separated seed nodes of a cluster, which share
 * the first one's user, password and scheme (`rediss:` for TLS) and have no database number (a cluster has only 0).
 */
function redisUrl(env: Env, cluster: boolean): string | null {
  if (!cluster) return url(env, 'REDIS_URL');
  const seeds = list(env, 'REDIS_URL');
  if (seeds.length === 0)
    throw new ConfigError('ATRIUM_REDIS_CLUSTER=true needs REDIS_URL: the seed nodes of the cluster');
  for (const seed of seeds) {
    let parsed: URL;
    try {
      parsed = new URL(seed);
    } catch {
      throw new ConfigError('REDIS_URL must be a comma-separated list of redis:// or rediss:// URLs');
    }
    if (!['redis:', 'rediss:'].includes(parsed.protocol) || !parsed.hostname) {
      throw new ConfigError('REDIS_URL must be a comma-separated list of redis:// or rediss:// URLs');
    }
    if (!['', '/', '/0'].includes(parsed.pathname)) {
      throw new ConfigError('REDIS_URL names a database number; a Redis Cluster has only database 0');
    }
  }
  return seeds.join(',');
}

/**
 * REDIS_URL with how to authenticate (ATRIUM_REDIS_AUTH) and which CA to trust (ATRIUM_REDIS_TLS_CA), checked together:
 * an access token never goes to a URL that also names a password, nor over a connection without TLS.
 */
function redisConnection(env: Env, cluster: boolean) {
  const url = redisUrl(env, cluster);
  const seeds = url ? url.split(',').map((seed) => new URL(seed)) : [];
  const auth = oneOf(env, 'ATRIUM_REDIS_AUTH', redisAuthModes, 'password');
  if (auth === 'gcp-iam') {
    if (!url) throw new ConfigError('ATRIUM_REDIS_AUTH=gcp-iam needs REDIS_URL');
    if (seeds.some((seed) => seed.username || seed.password)) {
      throw new ConfigError(
        'ATRIUM_REDIS_AUTH=gcp-iam authenticates with a Google access token: REDIS_URL must not name a user or password',
      );
    }
    if (seeds.some((seed) => seed.protocol !== 'rediss:')) {
      throw new ConfigError(
        'ATRIUM_REDIS_AUTH=gcp-iam needs a rediss:// REDIS_URL: the access token is a credential of the service ' +
          'account for every Google API it may call, and must not cross the network in clear text',
      );
    }
  }
  return { redisUrl: url, redisAuth: auth, redisTlsCa: redisTlsCa(env, seeds) };
}

/** ATRIUM_REDIS_TLS_CA: one or more PEM certificates (a CA being rotated comes with its successor). */
function redisTlsCa(env: Env, seeds: URL[]): string | null {
  const raw = env.ATRIUM_REDIS_TLS_CA;
  if (raw === undefined || raw.trim() === '') return null;
  if (seeds.length === 0 || seeds.some((seed) => seed.protocol !== 'rediss:')) {
    throw new ConfigError('ATRIUM_REDIS_TLS_CA is only used with TLS: REDIS_URL must be rediss://');
  }
  // A secret store may hand over the line breaks as the two characters \n; base64 never contains a backslash.
  const pem = raw.replace(/\\n/g, '\n');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new ConfigError(
      'ATRIUM_REDIS_TLS_CA must be PEM certificates (-----BEGIN CERTIFICATE-----…), not a path or a key',
    );
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new ConfigError(`ATRIUM_REDIS_TLS_CA: certificate ${index + 1} is not a valid X.509 certificate`);
    }
  });
  return `${blocks.join('\n')}\n`;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

import { randomUUID } from 'node:crypto';
import { type IdKind, idKindOfPattern, Problem } from '@atrium/contracts';
import {
  AccessTokens,
  FlowInputSecrets,
  flowEmailEnqueuer,
  type IdentityDeps,
  type Licensing,
  OidcSignIn,
  type RedisClient,
  type RootSigner,
  SecretBox,
} from '@atrium/core';
import type { Pool } from '@atrium/db';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Tracer } from '@opentelemetry/api';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { Config } from './config.ts';
import { buildLicensing } from './licensing.ts';
import {
  ApiKeyCache,
  bearerAuthenticator,
  defaultRequirement,
  installAuth,
  licenseKeyAuthenticator,
} from './plugins/auth.ts';
import { installJsonBodyParser } from './plugins/json-body.ts';
import { installMetrics, Metrics } from './plugins/metrics.ts';
import { installProblemHandlers } from './plugins/problem.ts';
import { RateLimits } from './plugins/rate-limit.ts';
import { RequestLogger } from './plugins/request-logger.ts';
import { installSecurityHeaders } from './plugins/security-headers.ts';
import { installValidators } from './plugins/validation.ts';
import { apiKeyRoutes } from './routes/api-keys.routes.ts';
import { auditLogRoutes } from './routes/audit-logs.routes.ts';
import { authRoutes } from './routes/auth.routes.ts';
import { flowRoutes } from './routes/flows.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { leaseRoutes } from './routes/leases.routes.ts';
import { licenseRoutes } from './routes/licenses.routes.ts';
import { memberRoutes } from './routes/members.routes.ts';
import { organizationRoutes } from './routes/organizations.routes.ts';
import { platformJobRoutes } from './routes/platform-jobs.routes.ts';
import { projectRoutes } from './routes/projects.routes.ts';
import type { App } from './routes/shared.ts';
import { wellKnownRoutes } from './routes/well-known.routes.ts';
import { workspaceRoutes } from './routes/workspaces.routes.ts';
import { installTracing } from './tracing.ts';

export interface AppDeps {
  /** Runtime-role pool (never the owner: row-level security must apply). */
  pool: Pool;
  /** Highest migration this build ships; /ready compares the database with it. */
  expectedMigration: number;
  logger?: FastifyBaseLogger;
  metrics?: Metrics;
  /** Redis: shared rate-limit counters and, when present, the seat store. Null or absent: in-process / PostgreSQL. */
  redis?: RedisClient | null;
  /** Overrides the root key holder named by the config (tests inject KMS-shaped ones). */
  rootSigner?: RootSigner;
  /** Makes a span of every request (startTracing); null or absent: no tracing hooks at all. */
  tracer?: Tracer | null;
}

export interface RegisteredRoute {
  method: string;
  url: string;
  auth: string;
  /** Path parameters that are public ids, with the kind of id (`{ id: 'workspace' }`), read from the schema. */
  idParams: Record<string, IdKind>;
  /** The body schema's first example, when it declares one. */
  bodyExample: unknown;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route, as registered: the shared isolation suite walks this list. */
    atriumRoutes: RegisteredRoute[];
    /** The licensing domain, for processes that run beside the API (the in-process flow worker's sweep). */
    licensing: Licensing;
  }
}

const owner = (license: { tenantId: string; id: string } | null) =>
  license ? { tenantId: license.tenantId, licenseId: license.id } : null;

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids in UUID shape: 80 random bits chosen once per process, then a 48-bit counter. Unique across processes
 * like a random UUID, without a random draw and a 36-character hex encoding per request (both showed in the
 * heartbeat's allocation profile).
 */
const requestIdPrefix = randomUUID().slice(0, 24);
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x1000000000000;
  return requestIdPrefix + requestCounter.toString(16).padStart(12, '0');
}

/** The composition root: builds the whole API from a parsed config. It neither reads the environment nor listens. */
export async function buildApp(config: Config, deps: AppDeps): Promise<App> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: { level: config.logLevel } }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    childLoggerFactory: RequestLogger.factory,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : nextRequestId();
    },
    ajv: { customOptions: { strict: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (deps.tracer) installTracing(app, deps.tracer);
  app.decorate('atriumRoutes', []);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      app.atriumRoutes.push({
        method,
        url: route.url,
        auth: route.config?.auth ?? defaultRequirement(route.url),
        idParams: idParamsOf(route.schema?.params),
        bodyExample: (route.schema?.body as { examples?: unknown[] } | undefined)?.examples?.[0],
      });
    }
  });
  // The API speaks JSON only: any other body is a 415, not a string handed to the validator.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  installValidators(app);
  installProblemHandlers(app);
  app.addSchema(Problem);

  installSecurityHeaders(app);
  const metrics = deps.metrics ?? new Metrics();
  installMetrics(app, metrics, deps.pool);
  // With no browser origin configured there is nothing for CORS to allow: no plugin, no per-request hook.
  if (config.corsOrigins.length > 0) await app.register(cors, { origin: config.corsOrigins });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Atrium API',
        version: '1.0.0',
        description: 'Organizations, workspaces and projects. Errors are RFC 9457 problem+json; see /errors.',
      },
      servers: [{ url: config.publicUrl }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' }, staticCSP: true });

  if (!config.secretKey) throw new Error('ATRIUM_SECRET_KEY is required (every API process needs the same one)');
  const secrets = new SecretBox(config.secretKey);
  const tokens = new AccessTokens({
    pool: deps.pool,
    secrets,
    issuer: config.publicUrl,
    ttlSeconds: config.accessTokenTtlSeconds,
  });
  const identity: IdentityDeps = {
    pool: deps.pool,
    tokens,
    secrets,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    invitationTtlSeconds: config.invitationTtlSeconds,
    enqueueEmail: flowEmailEnqueuer(config.publicUrl, new FlowInputSecrets(config.secretKey)),
  };
  const licensing = await buildLicensing(config, {
    pool: deps.pool,
    redis: deps.redis ?? null,
    metrics,
    log: app.log,
    tracer: deps.tracer ?? null,
    ...(deps.rootSigner ? { root: deps.rootSigner } : {}),
  });
  app.addHook('onClose', () => licensing.close());
  app.decorate('licensing', licensing);
  const apiKeyCache = new ApiKeyCache();
  const limits = new RateLimits(config.rateLimits, metrics, deps.redis ?? null, config.redisKeyPrefix);
  app.addHook('onClose', async () => limits.close());
  const licenseKeys = licenseKeyAuthenticator((key) => {
    const known = licensing.cache.peekKey(key);
    return known === undefined ? licensing.cache.byKey(key).then(owner) : owner(known);
  });
  installAuth(app, [licenseKeys, bearerAuthenticator(identity, tokens, apiKeyCache)], limits);

  const routeDeps = { pool: deps.pool };
  healthRoutes(app, { ...routeDeps, expectedMigration: deps.expectedMigration });
  wellKnownRoutes(app, tokens, config.publicUrl, () => licensing.ring.jwks().keys as Array<Record<string, unknown>>);
  authRoutes(app, identity, new OidcSignIn(config.oidcIssuers));
  memberRoutes(app, identity);
  apiKeyRoutes(app, identity, apiKeyCache);
  organizationRoutes(app, routeDeps);
  workspaceRoutes(app, routeDeps);
  projectRoutes(app, routeDeps);
  auditLogRoutes(app, routeDeps);
  flowRoutes(app, { ...routeDeps, flowTenantQueueQuota: config.flowTenantQueueQuota });
  platformJobRoutes(app, routeDeps);
  licenseRoutes(app, { ...routeDeps, licensing });
  leaseRoutes(app, { licensing });

  await app.ready();
  return app;
}

function idParamsOf(schema: unknown): Record<string, IdKind> {
  const properties = (schema as { properties?: Record<string, { pattern?: string }> } | undefined)?.properties ?? {};
  const result: Record<string, IdKind> = {};
  for (const [name, property] of Object.entries(properties)) {
    const kind = property.pattern ? idKindOfPattern(property.pattern) : null;
    if (kind) result[name] = kind;
  }
  return result;
}

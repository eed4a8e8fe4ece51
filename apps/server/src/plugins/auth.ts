import { toPublicId } from '@atrium/contracts';
import {
  type AccessTokens,
  type Actor,
  AtriumError,
  apiKeys,
  atLeast,
  type IdentityDeps,
  type Role,
  sessions,
} from '@atrium/core';
import type { Pool } from '@atrium/db';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimits } from './rate-limit.ts';

/**
 * What a route needs from its caller (route `config.auth`):
 * - `public`: nobody in particular (health, docs, sign-in);
 * - `actor`: an authenticated caller, with or without an organization (creating an organization, /me);
 * - `tenant`: a caller acting in one organization. The default for every route under /api/, so an API route is
 *   never public by accident; routes outside /api/ (docs, health) default to public.
 * - `license`: a licensing machine route (acquire, heartbeat, release, status): a `tenant` caller as above, or a
 *   license key (`Authorization: License <key>`), whose principal may call these routes and nothing else.
 */
export type AuthRequirement = 'public' | 'actor' | 'tenant' | 'license';

export type { Role };

export interface Principal {
  actor: Actor;
  tenantId: string | null;
  /** The caller's role in that organization; null when it acts in none. */
  role: Role | null;
  /** The user's UUID (user actors) — for services that act on "me". */
  userId: string | null;
  /** The session (refresh family) of a user's access token. */
  sessionId: string | null;
  /** What the per-key rate limit counts against, for API keys. */
  apiKeyId: string | null;
  /** The license (UUID) a license key opens; null for every other caller. */
  licenseId: string | null;
  /** What the request's log lines say about the caller (principal()). */
  logBindings: Record<string, string | null>;
}

/** A principal with its log bindings (tenant_id, user_id, actor_type, actor_id). */
export function principal(fields: Omit<Principal, 'logBindings' | 'licenseId'> & { licenseId?: string }): Principal {
  return {
    ...fields,
    licenseId: fields.licenseId ?? null,
    logBindings: {
      tenant_id: fields.tenantId,
      user_id: fields.actor.type === 'user' ? fields.actor.id : null,
      actor_type: fields.actor.type,
      actor_id: fields.actor.id,
    },
  };
}

/** Recognizes a caller from the request; null when its kind of credential is absent, an error when it is bad. */
export type Authenticator = (request: FastifyRequest) => Principal | null | Promise<Principal | null>;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
    /** The least role a `tenant` route needs (Default: readonly for reads, member for writes). */
    role?: Role;
    /** Rate-limit bucket for public routes (Default: ip; sign-in routes use the tighter `auth`). */
    rateLimit?: 'ip' | 'auth';
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function defaultRequirement(url: string | undefined): AuthRequirement {
  return url?.startsWith('/api/') ? 'tenant' : 'public';
}

function defaultRole(method: string): Role {
  return method === 'GET' || method === 'HEAD' ? 'readonly' : 'member';
}

/**
 * Resolved API keys, kept 10 s: the hot path costs no database round trip. A revocation clears this process's
 * entry at once; other processes drop theirs within the 10 s.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { key: apiKeys.ResolvedApiKey; until: number }>();
  private readonly ttlMs = 10_000;

  get(credential: string) {
    const entry = this.entries.get(credential);
    if (entry && entry.until > Date.now()) return entry.key;
    if (entry) this.entries.delete(credential);
    return null;
  }

  set(credential: string, key: apiKeys.ResolvedApiKey) {
    if (this.entries.size >= 10_000) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(credential, { key, until: Math.min(Date.now() + this.ttlMs, key.expiresAt ?? Infinity) });
  }

  forget(keyId: string) {
    for (const [credential, entry] of this.entries) if (entry.key.keyId === keyId) this.entries.delete(credential);
  }
}

/**
 * `Authorization: Bearer <access token>` (a user; the organization from the token or X-Tenant-ID) or
 * `Authorization: Bearer atr_…` (an API key of one organization, with the role it was given).
 */
export function bearerAuthenticator(
  identity: IdentityDeps,
  tokens: AccessTokens,
  keyCache: ApiKeyCache,
): Authenticator {
  const lastTouched = new Map<string, number>();
  return async (request) => {
    const header = request.headers.authorization;
    if (!header) return null;
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    if (!match?.[1]) return null;
    const credential = match[1];
    const requested = request.headers['x-tenant-id'];
    const requestedTenant = typeof requested === 'string' ? requested : undefined;

    if (credential.startsWith('atr_')) {
      let key = keyCache.get(credential);
      if (!key) {
        key = await apiKeys.resolveApiKey(identity.pool, credential);
        if (!key) throw new AtriumError('unauthenticated', 'the API key is not valid, expired or revoked');
        keyCache.set(credential, key);
      }
      if (requestedTenant && requestedTenant !== toPublicId('organization', key.tenantId)) {
        throw new AtriumError('forbidden', 'an API key acts only in its own organization');
      }
      touchThrottled(identity.pool, key, lastTouched, request);
      return principal({
        actor: { type: 'api_key', id: toPublicId('apiKey', key.keyId) },
        tenantId: key.tenantId,
        role: key.role,
        userId: null,
        sessionId: null,
        apiKeyId: key.keyId,
      });
    }

    const claims = await tokens.verify(credential);
    const resolved = await sessions.resolveUser(identity, claims, requestedTenant);
    return principal({
      actor: { type: 'user', id: claims.sub },
      tenantId: resolved.tenantId,
      role: resolved.role,
      userId: resolved.userId,
      sessionId: claims.sid,
      apiKeyId: null,
    });
  };
}

/** Records a key's last use at most once a minute per process, off the request path. */
function touchThrottled(
  pool: Pool,
  key: apiKeys.ResolvedApiKey,
  lastTouched: Map<string, number>,
  request: FastifyRequest,
) {
  const now = Date.now();
  if ((lastTouched.get(key.keyId) ?? 0) > now - 60_000) return;
  lastTouched.set(key.keyId, now);
  apiKeys.touchApiKey(pool, key.tenantId, key.keyId).catch((err: unknown) => {
    request.log.warn({ err }, 'could not record API key use');
  });
}

const licenseScheme = /^License\s+(lk_[A-Za-z0-9_-]{1,200})$/;

export interface LicenseKeyOwner {
  tenantId: string;
  licenseId: string;
}

/**
 * A machine with no user presents its license key: `Authorization: License lk_…`. The key is resolved (hash →
 * organization, through the cached SECURITY DEFINER lookup, ADR 0102) to a principal bound to that one license;
 * installAuth lets it reach `license` routes only. Any other scheme is left to the next authenticator.
 */
export function licenseKeyAuthenticator(
  resolve: (key: string) => LicenseKeyOwner | null | Promise<LicenseKeyOwner | null>,
): Authenticator {
  // A license's principal never changes: one object per license, not one per request.
  const principals = new Map<string, Principal>();
  const principalOf = (owner: LicenseKeyOwner | null): Principal => {
    if (!owner) throw new AtriumError('unauthenticated', 'the license key is not valid');
    let found = principals.get(owner.licenseId);
    if (found?.tenantId !== owner.tenantId) {
      found = principal({
        actor: { type: 'license', id: toPublicId('license', owner.licenseId) },
        tenantId: owner.tenantId,
        role: null,
        userId: null,
        sessionId: null,
        apiKeyId: null,
        licenseId: owner.licenseId,
      });
      if (principals.size >= 100_000) principals.delete(principals.keys().next().value as string);
      principals.set(owner.licenseId, found);
    }
    return found;
  };
  return (request) => {
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('License ')) return null;
    const match = licenseScheme.exec(header);
    if (!match?.[1]) throw new AtriumError('unauthenticated', 'the license key is not valid');
    const owner = resolve(match[1]);
    return owner instanceof Promise ? owner.then(principalOf) : principalOf(owner);
  };
}

/**
 * Authentication and rate limiting as an onRequest hook of each route under /api/, built when the route is
 * registered: the route's requirement and role are read once, not from `request.routeOptions` (an object Fastify
 * builds on every access) on every request. Health, readiness, metrics and docs get no hook: they are neither
 * authenticated nor rate limited. A license key this process knows, of a cached license, is checked without
 * awaiting anything (the machine routes are the busiest); an installAuth registered after /api/ routes would miss
 * them, so it is installed before any (the isolation suite checks every route answers 401 without credentials).
 */
export function installAuth(app: FastifyInstance, authenticators: Authenticator[], limits: RateLimits) {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const config = route.config ?? {};
    const requirement = config.auth ?? defaultRequirement(route.url);
    const hook =
      requirement === 'public'
        ? publicHook(limits, config.rateLimit ?? 'ip')
        : authenticatedHook(authenticators, limits, requirement, config.role);
    route.onRequest = [hook, ...[route.onRequest ?? []].flat()];
  });
}

type OnRequest = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

function publicHook(limits: RateLimits, scope: 'ip' | 'auth'): OnRequest {
  return async (request, reply) => {
    await limits.consume(request, reply, scope, request.ip);
  };
}

function authenticatedHook(
  authenticators: Authenticator[],
  limits: RateLimits,
  requirement: Exclude<AuthRequirement, 'public'>,
  role: Role | undefined,
): OnRequest {
  return async (request, reply) => {
    let principal: Principal | null = null;
    try {
      for (const authenticate of authenticators) {
        const found = authenticate(request);
        principal = found instanceof Promise ? await found : found;
        if (principal) break;
      }
    } catch (err) {
      // Bad credentials count against the client's address, so guessing tokens is throttled like anonymity.
      await limits.consume(request, reply, 'ip', request.ip);
      throw err;
    }
    if (!principal) {
      await limits.consume(request, reply, 'ip', request.ip);
      throw new AtriumError('unauthenticated', 'send credentials: Authorization: Bearer <token or API key>');
    }
    const counted = principal.apiKeyId
      ? limits.consume(request, reply, 'api_key', principal.apiKeyId)
      : limits.consume(request, reply, 'tenant', principal.tenantId ?? `user:${principal.userId}`);
    if (counted) await counted;
    const isLicenseKey = principal.licenseId !== null;
    if (isLicenseKey && requirement !== 'license') {
      throw new AtriumError('forbidden', 'a license key may only acquire, heartbeat, release and read status');
    }
    if (requirement === 'tenant' || requirement === 'license') {
      if (!principal.tenantId) {
        throw new AtriumError('forbidden', 'this route acts within an organization; you belong to none');
      }
    }
    // A license key's principal has no role: it is bound to its license, which the licensing service checks.
    if (requirement === 'tenant' || (requirement === 'license' && !isLicenseKey)) {
      const needed = role ?? defaultRole(request.method);
      if (!atLeast(principal.role ?? 'readonly', needed)) {
        throw new AtriumError('forbidden', `this needs the ${needed} role or higher`);
      }
    }
    request.principal = principal;
    // The request's logger gains the caller (RequestLogger keeps the bindings until it writes a line).
    (request.log as FastifyBaseLogger & { setBindings(bindings: object): void }).setBindings(principal.logBindings);
  };
}

/** The tenant context of an authenticated request, for a `tenant` route's handler. */
export function tenantContext(request: FastifyRequest, pool: Pool) {
  const principal = request.principal;
  if (!principal?.tenantId) throw new Error(`route ${request.routeOptions.url} used a tenant without requiring one`);
  return { pool, tenantId: principal.tenantId, actor: principal.actor, requestId: request.id };
}

/** The signed-in person of an `actor` route; API keys and licenses are not people. */
export function currentUser(request: FastifyRequest): { userId: string; sessionId: string } {
  const principal = request.principal;
  if (!principal?.userId || !principal.sessionId) {
    throw new AtriumError('forbidden', 'only a signed-in person can do this (not an API key)');
  }
  return { userId: principal.userId, sessionId: principal.sessionId };
}

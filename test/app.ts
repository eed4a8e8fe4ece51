import { randomBytes } from 'node:crypto';
import { loadMigrations } from '@atrium/db';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { type AppDeps, buildApp } from '../apps/server/src/app.ts';
import { type Config, loadConfig } from '../apps/server/src/config.ts';
import type { App } from '../apps/server/src/routes/shared.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface TestApp {
  app: App;
  db: TestDatabase;
  close(): Promise<void>;
}

export const testSecretKey = 'test-secret-key-0123456789abcdefghijklmnop';

/** Generous rate limits: every test request comes from 127.0.0.1. Rate-limit tests lower them. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ LOG_LEVEL: 'silent', ATRIUM_SECRET_KEY: testSecretKey });
  const rateLimits = {
    ipPerMinute: 100_000,
    authPerMinute: 100_000,
    tenantPerMinute: 1_000_000,
    apiKeyPerMinute: 1_000_000,
  };
  return { ...base, rateLimits, ...overrides };
}

/** The whole API on its own database, driven in-process with app.inject (no port). */
export async function createTestApp(
  overrides: Partial<Config> = {},
  deps: Partial<Omit<AppDeps, 'pool' | 'expectedMigration'>> = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  const expectedMigration = (await loadMigrations()).length;
  const app = await buildApp(testConfig(overrides), { pool: db.app, expectedMigration, ...deps });
  return {
    app,
    db,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

export interface Caller {
  /** Act as the owner who created this organization with createOrganization (their access token). */
  tenant?: string;
  /** Or send this bearer credential (an access token or an API key). */
  token?: string;
  headers?: Record<string, string>;
}

/** Owners' access tokens by organization id, per application under test. */
const ownerTokens = new WeakMap<App, Map<string, string>>();

/** A JSON request, authenticated as `caller` with real credentials. */
export async function call(app: App, method: string, url: string, body?: unknown, caller: Caller = {}) {
  const headers: Record<string, string> = { ...caller.headers };
  const token = caller.token ?? (caller.tenant ? ownerTokens.get(app)?.get(caller.tenant) : undefined);
  if (caller.tenant && !token && !caller.token) throw new Error(`no owner token for ${caller.tenant}`);
  if (token) headers.authorization = `Bearer ${token}`;
  // A string body is sent as it is (to test malformed JSON); an object is serialized as JSON.
  if (typeof body === 'string') headers['content-type'] ??= 'application/json';
  const payload = body === undefined ? {} : { payload: body as string | object };
  const response = await app.inject({ method: method as 'GET', url, headers, ...payload });
  return { status: response.statusCode, headers: response.headers, body: parse(response.body) };
}

function parse(text: string): any {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

let people = 0;

export interface SignedUp {
  userId: string;
  email: string;
  organizationId: string;
  accessToken: string;
  refreshToken: string;
}

/** Registers a new person (and their organization) through the API. */
export async function signUp(app: App, options: { email?: string; organization?: string } = {}): Promise<SignedUp> {
  const email = options.email ?? `person-${process.pid}-${++people}-${Date.now()}@example.com`;
  const body = {
    email,
    password: 'correct horse battery staple',
    organization: { name: options.organization ?? 'Acme' },
  };
  const response = await call(app, 'POST', '/api/v1/auth/register', body);
  if (response.status !== 201) throw new Error(`could not sign up: ${JSON.stringify(response.body)}`);
  const signed = {
    userId: response.body.user.id,
    email,
    organizationId: response.body.organization.id,
    accessToken: response.body.access_token,
    refreshToken: response.body.refresh_token,
  };
  const tokens = ownerTokens.get(app) ?? new Map<string, string>();
  ownerTokens.set(app, tokens);
  tokens.set(signed.organizationId, signed.accessToken);
  return signed;
}

/** Creates an organization owned by a new person and returns its id; `call(…, { tenant })` acts as that owner. */
export async function createOrganization(app: App, name = 'Acme'): Promise<string> {
  return (await signUp(app, { organization: name })).organizationId;
}

/**
 * Both seat stores for a licensing test file (for `describe.each(modes)`): PostgreSQL, and Redis under a key
 * prefix of the file's own, whose keys are removed after the file.
 */
export function seatStoreModes() {
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const redisPrefix = `test:${randomBytes(4).toString('hex')}:`;
  afterAll(async () => {
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  const modes: Array<[string, () => Promise<TestApp>]> = [
    ['postgres', () => createTestApp({ journalFlushIntervalMs: 10 })],
    ['redis', () => createTestApp({ journalFlushIntervalMs: 10, redisKeyPrefix: redisPrefix }, { redis })],
  ];
  return { redis, redisPrefix, modes };
}

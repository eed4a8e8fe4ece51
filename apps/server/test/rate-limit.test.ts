import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { call, createTestApp, type TestApp, testConfig, testSecretKey } from '../../../test/app.ts';
import { createTestDatabase } from '../../../test/database.ts';
import { freePort, runCli } from '../../../test/processes.ts';

const apps: TestApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function appWith(limits: Partial<ReturnType<typeof testConfig>['rateLimits']>, extra = {}) {
  const app = await createTestApp({ rateLimits: { ...testConfig().rateLimits, ...limits }, ...extra });
  apps.push(app);
  return app;
}

describe('rate limits', () => {
  it('limits unauthenticated requests per client IP, with problem+json and RateLimit headers', async () => {
    const { app } = await appWith({ ipPerMinute: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(app, 'GET', '/api/v1/workspaces')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limited = await call(app, 'GET', '/api/v1/workspaces');
    expect(limited.headers['content-type']).toMatch(/problem\+json/);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    // Operations endpoints are never limited.
    for (const path of ['/health', '/ready', '/metrics']) expect((await call(app, 'GET', path)).status).toBe(200);
  });

  it('is tighter on sign-in than on the rest of the API', async () => {
    const { app } = await appWith({ authPerMinute: 2, ipPerMinute: 1000 });
    const attempt = () =>
      call(app, 'POST', '/api/v1/auth/login', { email: 'a@example.com', password: 'whatever-it-is' });
    expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(429);
  });

  it('counts authenticated requests per organization, not per IP', async () => {
    const { app } = await appWith({ ipPerMinute: 2, tenantPerMinute: 1000 });
    const register = await call(app, 'POST', '/api/v1/auth/register', {
      email: `nat-${randomUUID()}@example.com`,
      password: 'correct horse battery staple',
    });
    const token = register.body.access_token;
    const statuses = new Set<number>();
    for (let i = 0; i < 10; i++)
      statuses.add((await call(app, 'GET', '/api/v1/workspaces', undefined, { token })).status);
    expect([...statuses]).toEqual([200]);
  });

  it('honours X-Forwarded-For only from trusted proxies', async () => {
    const { app } = await appWith({ ipPerMinute: 1 }, { trustedProxies: ['127.0.0.1'] });
    const from = (ip: string) => app.inject({ url: '/api/v1/workspaces', headers: { 'x-forwarded-for': ip } });
    expect((await from('203.0.113.1')).statusCode).toBe(401);
    expect((await from('203.0.113.1')).statusCode).toBe(429);
    expect((await from('203.0.113.2')).statusCode).toBe(401);

    const untrusting = await appWith({ ipPerMinute: 1 });
    const spoof = (ip: string) =>
      untrusting.app.inject({ url: '/api/v1/workspaces', headers: { 'x-forwarded-for': ip } });
    expect((await spoof('198.51.100.1')).statusCode).toBe(401);
    expect((await spoof('198.51.100.2')).statusCode).toBe(429);
  });

  it('shares the counts between API processes through Redis', async () => {
    const db = await createTestDatabase();
    const ports = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: db.ownerUrl,
      ATRIUM_SECRET_KEY: testSecretKey,
      REDIS_URL: 'redis://127.0.0.1:6379',
      ATRIUM_RATE_LIMIT_IP_PER_MINUTE: '4',
      LOG_LEVEL: 'warn',
    };
    // Counters live in the shared Redis: a client address of its own keeps this run apart from any other.
    const servers = ports.map((port) =>
      runCli(['serve'], { ...env, PORT: String(port), ATRIUM_TRUSTED_PROXIES: '127.0.0.1' }),
    );
    try {
      await Promise.all(servers.map((server) => server.waitFor('Atrium is running')));
      const client = `2001:db8::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const port = ports[i % 2];
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/workspaces`, {
          headers: { 'x-forwarded-for': client },
        });
        statuses.push(response.status);
      }
      // Four allowed in total across both processes, not four each.
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    } finally {
      for (const server of servers) server.child.kill('SIGTERM');
      await Promise.all(servers.map((server) => server.exit()));
      await db.drop();
    }
  });
});

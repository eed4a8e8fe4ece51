import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { AcquireRequest, HeartbeatResponse, SessionRequest } from '@atrium/contracts';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { AcquireResponseWritten } from '../../apps/server/src/routes/leases.routes.ts';
import { acquireScript, heartbeatScript } from '../../packages/core/src/licensing/seat-store.redis.lua.ts';
import { TurnBatcher } from '../../packages/core/src/shared/turn-batcher.ts';

/**
 * The floors of the machine routes on this stack, measured in the same run as hello-world and Atrium (ADR 0104):
 * what a route costs with nothing of Atrium in it. No authentication, rate limiting, security headers, logging,
 * metrics, license cache, journal or audit.
 * - `POST /bench/post`: Fastify parses and validates the heartbeat's body and serializes its response. Nothing else.
 * - `POST /api/v1/licenses/heartbeat`: the same, plus the Redis seat store's heartbeat script through ioredis
 *   (the heartbeats of one event-loop turn in one call, as Atrium sends them, and no auto-pipelining).
 * - `POST /api/v1/licenses/acquire`: the acquire's body, Atrium's acquire script (batched the same way), and an
 *   Ed25519 JWT of the size Atrium signs (its header carries a certificate of the same length), written with the
 *   same response schema as Atrium's route.
 * The distance from hello-world to a floor is what HTTP bodies, the Redis round trip and the signature cost;
 * the distance from a floor to Atrium's route is what Atrium itself costs.
 */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.defineCommand('floorHeartbeat', { numberOfKeys: 4, lua: heartbeatScript });
redis.defineCommand('floorAcquire', { numberOfKeys: 4, lua: acquireScript });
const prefix = `bench:floor:${process.pid}:{lic}`;
const keys = [`${prefix}:leases`, `${prefix}:sessions`, `${prefix}:fingerprints`, `${prefix}:ready`];
const sessions = Array.from({ length: 2000 }, (_, i) => `ses_${String(i).padStart(64, '0')}`);
await redis.set(keys[3] as string, '1');
const far = Date.now() + 3_600_000;
await redis.zadd(keys[0] as string, ...sessions.flatMap((s) => [far, s]));
await redis.hset(keys[1] as string, ...sessions.flatMap((s) => [s, `fp\n${Date.now()}`]));

type Script = (...args: Array<string | number>) => Promise<[string, unknown, Array<string | number>]>;
const scripts = redis as unknown as { floorHeartbeat: Script; floorAcquire: Script };
const heartbeat = scripts.floorHeartbeat.bind(redis);
const acquire = scripts.floorAcquire.bind(redis);
const lifetimeMs = 360_000;
// Heartbeats (and acquires) of one event-loop turn go as one script call, as Atrium's Redis seat store sends them.
const beats = new TurnBatcher<null, string, number | null>(
  async (_, sessionIds) => {
    const [, expires, renewed] = await heartbeat(...keys, lifetimeMs, ...sessionIds);
    return renewed.map((ok) => (ok === 1 ? Number(expires) : null));
  },
  { maxBatch: 500 },
);
const acquires = new TurnBatcher<null, { session: string; fingerprint: string }, { expires: number; used: number }>(
  async (_, requests) => {
    const args = requests.flatMap((r) => [r.session, r.fingerprint, '{}']);
    const [, , answers] = await acquire(...keys, 1_000_000_000, lifetimeMs, ...args);
    return requests.map((_, i) => ({ expires: Number(answers[i * 5 + 3]), used: Number(answers[i * 5 + 4]) }));
  },
  { maxBatch: 500 },
);

// An Ed25519 key and a header as long as Atrium's (its `cert` is the signing key's root certificate, 1,126
// characters for an Ed25519 key certified by RSA-4096): the signature covers the same number of bytes.
const { privateKey } = generateKeyPairSync('ed25519');
const header = Buffer.from(
  JSON.stringify({ alg: 'EdDSA', kid: 'floor-key', typ: 'JWT', cert: randomBytes(844).toString('base64url') }),
).toString('base64url');
const issuer = 'http://localhost:8080';

const app = Fastify({ logger: false });
app.get('/', async () => ({ ready: true }));
app.post('/bench/post', { schema: { body: SessionRequest, response: { 200: HeartbeatResponse } } }, async () => ({
  expires_at: '2026-12-03T09:35:15.657Z',
}));
app.post(
  '/api/v1/licenses/heartbeat',
  { schema: { body: SessionRequest, response: { 200: HeartbeatResponse } } },
  async (request) => {
    const { session_id } = request.body as { session_id: string };
    const expires = await beats.add('lic', null, session_id);
    if (expires === null) throw new Error(`no lease ${session_id}`);
    return { expires_at: new Date(expires).toISOString() };
  },
);
app.post(
  '/api/v1/licenses/acquire',
  { schema: { body: AcquireRequest, response: { 201: AcquireResponseWritten } } },
  async (request, reply) => {
    const { fingerprint } = request.body as AcquireRequest;
    const session = `ses_${randomBytes(32).toString('hex')}`;
    const { expires, used } = await acquires.add('lic', null, { session, fingerprint });
    const now = Math.floor(Date.now() / 1000);
    const seats = { used, max: 1_000_000_000 };
    const claims = {
      iss: issuer,
      sub: fingerprint,
      lic: 'lic_01a23b402e187fbaae475f304b2bda89',
      sid: session,
      fpr: fingerprint,
      seats,
      lease_exp: Math.floor(expires / 1000),
      iat: now,
      exp: now + 86_400,
    };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const token = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    const body = {
      token,
      session_id: session,
      expires_at: new Date(expires).toISOString(),
      heartbeat_interval_seconds: 120,
      seats,
    };
    return reply.code(201).send(body);
  },
);
process.on('SIGTERM', async () => {
  await redis.del(...keys);
  process.exit(0);
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 18602) });

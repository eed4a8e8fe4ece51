import { HeartbeatResponse, SessionRequest } from '@atrium/contracts';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { heartbeatScript } from '../../packages/core/src/licensing/seat-store.redis.lua.ts';
import { TurnBatcher } from '../../packages/core/src/shared/turn-batcher.ts';

/**
 * The floor of a heartbeat on this stack, measured in the same run as hello-world and Atrium: Fastify parses and
 * validates the same body, runs the same Lua script through ioredis (auto-pipelined, with the heartbeats of one
 * event-loop turn in one call, as Atrium does) and serializes the same response. No authentication, rate
 * limiting, security headers, logging or metrics. The distance from this to Atrium's heartbeat is what Atrium
 * itself costs; the distance from hello-world to this is what the Redis round trip and a JSON body cost.
 */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
redis.defineCommand('floorHeartbeat', { numberOfKeys: 4, lua: heartbeatScript });
const prefix = `bench:floor:${process.pid}:{lic}`;
const keys = [`${prefix}:leases`, `${prefix}:sessions`, `${prefix}:fingerprints`, `${prefix}:ready`];
const sessions = Array.from({ length: 2000 }, (_, i) => `ses_${String(i).padStart(64, '0')}`);
await redis.set(keys[3] as string, '1');
const far = Date.now() + 3_600_000;
await redis.zadd(keys[0] as string, ...sessions.flatMap((s) => [far, s]));
await redis.hset(keys[1] as string, ...sessions.flatMap((s) => [s, `fp\n${Date.now()}`]));

type Heartbeat = (...args: Array<string | number>) => Promise<[string, string, number[]]>;
const script = (redis as unknown as { floorHeartbeat: Heartbeat }).floorHeartbeat.bind(redis);
// Heartbeats of one event-loop turn go as one script call, as Atrium's Redis seat store sends them.
const beats = new TurnBatcher<null, string, number | null>(
  async (_, sessionIds) => {
    const [, expires, renewed] = await script(...keys, 360_000, ...sessionIds);
    return renewed.map((ok) => (ok === 1 ? Number(expires) : null));
  },
  { maxBatch: 500 },
);

const app = Fastify({ logger: false });
app.get('/', async () => ({ ready: true }));
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
process.on('SIGTERM', async () => {
  await redis.del(...keys);
  process.exit(0);
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 18602) });

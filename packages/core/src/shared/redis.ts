import type { Cluster, Redis } from 'ioredis';
import { ReplyError } from 'ioredis';
import { AtriumError } from './errors.ts';

/**
 * A connection to Redis: one server (Memorystore, ElastiCache without cluster mode, a self-hosted primary) or a
 * Redis Cluster. Everything Atrium sends works on both: each seat script touches the keys of one license, which
 * share a hash tag and so one slot, and nothing else sends a command or a pipeline that spans slots.
 */
export type RedisClient = Redis | Cluster;

/** Replies by which Redis says it cannot take the command now, rather than that the command was wrong. */
const notNow = /^(OOM|CLUSTERDOWN|LOADING|MASTERDOWN|READONLY|TRYAGAIN|BUSY|NOREPLICAS)\b/;

/**
 * Runs one Redis command of a request. When Redis (or the cluster node that holds the key) is away, or says it
 * cannot take the command now, the request fails with a 503 `service_unavailable` that the caller may retry,
 * not a 500: ioredis gives up after its retries (`MaxRetriesPerRequestError`, "Connection is closed.", "Too many
 * Cluster redirections", `ClusterAllFailedError`). A reply error of any other kind (a script's own error) and a
 * programming error stay what they are.
 */
export async function whileRedisAnswers<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (err) {
    if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError) throw err;
    if (err instanceof ReplyError && !notNow.test(err.message)) throw err;
    throw new AtriumError('service_unavailable', 'the seat store (Redis) is unavailable; retry shortly', undefined, {
      cause: err,
    });
  }
}

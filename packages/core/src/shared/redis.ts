import type { Cluster, Redis } from 'ioredis';

/**
 * A connection to Redis: one server (Memorystore, ElastiCache without cluster mode, a self-hosted primary) or a
 * Redis Cluster. Everything Atrium sends works on both: each seat script touches the keys of one license, which
 * share a hash tag and so one slot, and nothing else sends a command or a pipeline that spans slots.
 */
export type RedisClient = Redis | Cluster;

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './processes.ts';

const run = promisify(execFile);

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** A redis-server on 127.0.0.1:`port` that keeps nothing on disk, with `args` on top. */
function spawnRedis(port: number, args: string[]): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', '', ...args],
    { stdio: 'ignore' },
  );
}

/** SIGKILL, and wait until it is gone; nothing when it already is. */
async function kill(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** One Redis server of its own on 127.0.0.1 with `args` (e.g. a small maxmemory), nothing on disk. */
export async function startRedisServer(args: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const child = spawnRedis(port, args);
  const stop = () => kill(child);
  try {
    await untilUp(port);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

export interface RedisCluster {
  /** The seed nodes as REDIS_URL takes them in cluster mode: `redis://127.0.0.1:p1,redis://127.0.0.1:p2,…`. */
  url: string;
  ports: number[];
  /** Kills one node (SIGKILL): its slots are unreachable until it is started again. */
  killNode(port: number): Promise<void>;
  /** Starts a killed node again, empty (nothing is persisted), with its slots: as after a crash without replicas. */
  startNode(port: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of `masters` primaries (no replicas) on 127.0.0.1, from the machine's own redis-server and
 * redis-cli: the 16,384 slots are spread over the nodes, so keys of different hash tags land on different
 * processes and a command that spans them fails with CROSSSLOT, as on a production cluster. Each node keeps
 * nothing on disk beyond its cluster config in a temporary directory, removed by stop().
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'atrium-redis-cluster-'));
  const ports: number[] = [];
  const busPorts = new Map<number, number>();
  const children = new Map<number, ChildProcess>();
  const spawnNode = (port: number) => {
    const cluster = ['--cluster-enabled', 'yes', '--cluster-port', String(busPorts.get(port))];
    const config = ['--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--cluster-node-timeout', '2000'];
    children.set(port, spawnRedis(port, [...cluster, ...config]));
  };
  const killNode = (port: number) => kill(children.get(port));
  const stop = async () => {
    await Promise.all([...children.keys()].map(killNode));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i += 1) {
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      busPorts.set(port, busPort);
      spawnNode(port);
    }
    await Promise.all(ports.map((port) => untilUp(port)));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await Promise.all(ports.map((port) => untilClusterOk(port)));
  } catch (err) {
    await stop();
    throw err;
  }
  const startNode = async (port: number) => {
    spawnNode(port);
    await Promise.all(ports.map((node) => untilClusterOk(node)));
  };
  return { url: ports.map((port) => `redis://127.0.0.1:${port}`).join(','), ports, killNode, startNode, stop };
}

async function untilUp(port: number) {
  await poll(port, async (redis) => (await redis.ping()) === 'PONG');
}

/** Every node must see every slot assigned before a client is pointed at the cluster. */
async function untilClusterOk(port: number) {
  await poll(port, async (redis) => String(await redis.cluster('INFO')).includes('cluster_state:ok'));
}

async function poll(port: number, ready: (redis: Redis) => Promise<boolean>) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      if (await ready(redis)) return;
    } catch {
      // not up yet
    } finally {
      redis.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis cluster node ${port} not ready`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

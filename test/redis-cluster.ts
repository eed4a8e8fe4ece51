import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './processes.ts';

const run = promisify(execFile);

export interface RedisCluster {
  /** The seed nodes as REDIS_URL takes them in cluster mode: `redis://127.0.0.1:p1,redis://127.0.0.1:p2,…`. */
  url: string;
  ports: number[];
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
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : null)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i += 1) {
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      const child = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1'],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir],
          ...['--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--logfile', ''],
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
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
  return { url: ports.map((port) => `redis://127.0.0.1:${port}`).join(','), ports, stop };
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

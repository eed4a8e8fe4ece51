import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './processes.ts';

const run = promisify(execFile);

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

export interface RedisCluster {
  /** The seed nodes as REDIS_URL takes them in cluster mode: `redis://127.0.0.1:p1,redis://127.0.0.1:p2,…`. */
  url: string;
  ports: number[];
  /** Kills one node (SIGKILL): its slots are unreachable until it is started again. */
  killNode(port: number): Promise<void>;
  /** Starts a killed node again, empty (nothing is persisted), with its slots: as after a crash without replicas. */
  startNode(port: number): Promise<void>;
  /** A connection of its own to one node, authenticated with the password of the moment; the caller disconnects it. */
  admin(port: number): Promise<Redis>;
  stop(): Promise<void>;
}

export interface RedisServer {
  /** redis:// or rediss://, without the password. */
  url: string;
  port: number;
  /** A connection of its own, authenticated with the password of the moment; the caller disconnects it. */
  admin(): Promise<Redis>;
  /** Kills the server and starts it again on the same port, empty, with the password of the moment. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One Redis server of its own on 127.0.0.1, nothing on disk, with `args` on top (e.g. a small maxmemory), and if
 * asked a password and/or TLS only.
 */
export async function startRedisServer(args: string[] = [], options: SecureRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawnRedis(port, [...args, ...secureArgs(port, options)]);
    await poll(port, isUp, options);
  };
  const stop = () => kill(child);
  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    admin: () => adminConnection(port, options),
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}

/**
 * A real Redis Cluster of three primaries (no replicas) on 127.0.0.1, from the machine's own redis-server and
 * redis-cli: the 16,384 slots are spread over the nodes, so keys of different hash tags land on different
 * processes and a command that spans them fails with CROSSSLOT, as on a production cluster. With `options`, every
 * node asks for a password and/or speaks only TLS (then the cluster bus too, and CLUSTER SLOTS reports the TLS
 * ports); `startNode` starts a node with the password of the moment. Each node keeps nothing on disk beyond its
 * cluster config in a temporary directory, removed by stop().
 */
export async function startRedisCluster(options: SecureRedisOptions = {}): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'atrium-redis-cluster-'));
  const ports: number[] = [];
  const busPorts = new Map<number, number>();
  const children = new Map<number, ChildProcess>();
  const spawnNode = (port: number) => {
    const cluster = ['--cluster-enabled', 'yes', '--cluster-port', String(busPorts.get(port))];
    const config = ['--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--cluster-node-timeout', '2000'];
    const tls = options.tls ? ['--tls-cluster', 'yes'] : [];
    children.set(port, spawnRedis(port, [...cluster, ...config, ...tls, ...secureArgs(port, options)]));
  };
  const killNode = (port: number) => kill(children.get(port));
  const stop = async () => {
    await Promise.all([...children.keys()].map(killNode));
    await rm(dir, { recursive: true, force: true });
  };
  // Every node must see every slot assigned before a client is pointed at the cluster.
  const clusterOk = (port: number) =>
    poll(port, async (redis) => String(await redis.cluster('INFO')).includes('cluster_state:ok'), options);
  try {
    for (let i = 0; i < 3; i += 1) {
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      busPorts.set(port, busPort);
      spawnNode(port);
    }
    await Promise.all(ports.map((port) => poll(port, isUp, options)));
    const tls = options.tls ? ['--tls', '--cacert', options.tls.caFile] : [];
    const password = options.password ? ['-a', options.password(), '--no-auth-warning'] : [];
    await run('redis-cli', [
      ...tls,
      ...password,
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await Promise.all(ports.map(clusterOk));
  } catch (err) {
    await stop();
    throw err;
  }
  const startNode = async (port: number) => {
    spawnNode(port);
    await Promise.all(ports.map(clusterOk));
  };
  const scheme = options.tls ? 'rediss' : 'redis';
  return {
    url: ports.map((port) => `${scheme}://127.0.0.1:${port}`).join(','),
    ports,
    killNode,
    startNode,
    admin: (port: number) => adminConnection(port, options),
    stop,
  };
}

const isUp = async (redis: Redis) => (await redis.ping()) === 'PONG';

/** Connects (with the server's password and TLS, if any) until `ready` says yes; gives up after 15 s. */
async function poll(port: number, ready: (redis: Redis) => Promise<boolean>, options: SecureRedisOptions = {}) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const redis = secureClient(port, options);
    redis.on('error', () => {});
    try {
      await redis.connect();
      if (await ready(redis)) return;
    } catch {
      // not up yet
    } finally {
      redis.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis ${port} not ready`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A throwaway CA and a server certificate it signed for IP 127.0.0.1 (openssl), valid for a day. */
export interface TlsFiles {
  /** The CA's certificate, PEM: what ATRIUM_REDIS_TLS_CA takes. */
  ca: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  remove(): Promise<void>;
}

export async function makeTlsFiles(): Promise<TlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'atrium-redis-tls-'));
  const [caFile, caKey, certFile, keyFile, csr, ext] = [
    'ca.crt',
    'ca.key',
    'server.crt',
    'server.key',
    'csr',
    'ext',
  ].map((name) => join(dir, name)) as [string, string, string, string, string, string];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await run('openssl', [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      '1',
      '-subj',
      '/CN=Atrium test Redis CA',
    ]);
    await run('openssl', ['req', ...ec, '-keyout', keyFile, '-out', csr, '-subj', '/CN=127.0.0.1']);
    // The node IP in the certificate, as Memorystore's carry theirs; clientAuth too, for the cluster bus.
    await writeFile(ext, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      certFile,
      '-days',
      '1',
      '-extfile',
      ext,
    ]);
    return { ca: await readFile(caFile, 'utf8'), caFile, certFile, keyFile, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** How a server (or every node of a cluster) guards its door: a password for user `default`, TLS only. Default: neither. */
export interface SecureRedisOptions {
  /** The password of user `default` (--requirepass), asked again at every start and restart. */
  password?: () => string;
  /** Only a TLS port, with this certificate (rediss:// URLs). */
  tls?: TlsFiles;
}

/** TLS-only and password arguments, after spawnRedis's own (the later --port 0 closes the plain port). */
function secureArgs(port: number, options: SecureRedisOptions): string[] {
  const password = options.password ? ['--requirepass', options.password()] : [];
  const tls = options.tls
    ? [
        ...['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no'],
        ...['--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile],
        ...['--tls-ca-cert-file', options.tls.caFile],
      ]
    : [];
  return [...password, ...tls];
}

function secureClient(port: number, options: SecureRedisOptions) {
  return new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    password: options.password?.(),
    tls: options.tls ? { ca: options.tls.ca } : undefined,
  });
}

async function adminConnection(port: number, options: SecureRedisOptions): Promise<Redis> {
  const redis = secureClient(port, options);
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}

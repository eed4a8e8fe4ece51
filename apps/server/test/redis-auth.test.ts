import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { AtriumError, type RedisClient } from '@atrium/core';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { whileRedisAnswers } from '../../../packages/core/src/shared/redis.ts';
import { call, createOrganization, createTestApp } from '../../../test/app.ts';
import {
  makeTlsFiles,
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
  type TlsFiles,
} from '../../../test/redis-servers.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { type AccessTokenProvider, connectRedis, openRedis, type RedisConnectOptions } from '../src/redis.ts';

/**
 * How the server authenticates to Redis and which CA it trusts (ATRIUM_REDIS_AUTH, ATRIUM_REDIS_TLS_CA), against
 * real redis-server processes: one server and a three-node cluster whose `default` user's password is rotated
 * while the client is connected (ACL SETUSER adds the new one and removes the old), the way Memorystore's IAM
 * authentication accepts a fresh access token for each new connection and keeps authenticated ones open.
 *
 * The access tokens come from a fake provider: Google's token endpoint (the metadata server, IAM Credentials) is a
 * cloud API with no local server to run it against, so that one piece is replaced; everything after it (the
 * background refresh, AUTH on every connection, reconnection, TLS) is the code that runs in production.
 */

interface FakeGoogle {
  token: string;
  lifetimeMs: number;
  failing: Error | null;
  calls: number;
  provider: AccessTokenProvider;
}

/** A stand-in for Google: hands out `token` (valid `lifetimeMs`), or fails with `failing`. */
function fakeGoogle(token: string, lifetimeMs = 3_600_000): FakeGoogle {
  const google: FakeGoogle = {
    token,
    lifetimeMs,
    failing: null as Error | null,
    calls: 0,
    provider: async () => {
      google.calls += 1;
      if (google.failing) throw google.failing;
      return { token: google.token, expiresAt: Date.now() + google.lifetimeMs };
    },
  };
  return google;
}

/** Refreshes every 50 ms instead of every minute, so a test sees a new token at once. */
const quickly = (google: FakeGoogle): RedisConnectOptions => ({
  accessTokens: google.provider,
  tokenRefresh: { everyMs: 50, retryMs: 20, marginMs: 0 },
});

/** Waits until the provider has been asked again, so the client holds its current token. */
async function refreshed(google: FakeGoogle) {
  const calls = google.calls;
  await vi.waitFor(() => expect(google.calls).toBeGreaterThan(calls + 1), { timeout: 5000, interval: 20 });
}

/** Every error a client emits, to check what they say and that no token is in them. */
function errorsOf(client: RedisClient): Error[] {
  const errors: Error[] = [];
  client.on('error', (err: Error) => errors.push(err));
  return errors;
}

/** What Redis answers `AUTH default <password>` on a connection of its own. */
async function authReply(port: number, password: string): Promise<string> {
  const socket = connect({ port, host: '127.0.0.1' });
  try {
    socket.write(`*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n`);
    const [reply] = await once(socket, 'data');
    return String(reply).trim();
  } finally {
    socket.destroy();
  }
}

/** Closes every client connection but this one, as a failover or a network blip would. */
const killClients = (admin: Redis) => admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');

const tokenLike = (name: string) => `ya29.${name}-${randomBytes(12).toString('hex')}`;

describe('ATRIUM_REDIS_AUTH and ATRIUM_REDIS_TLS_CA are checked at start', () => {
  let files: TlsFiles;
  beforeAll(async () => {
    files = await makeTlsFiles();
  });
  afterAll(() => files.remove());

  it('defaults to the password in REDIS_URL and Node’s CAs', () => {
    const config = loadConfig({ REDIS_URL: 'rediss://:secret@10.0.0.1:6378' });
    expect(config.redisAuth).toBe('password');
    expect(config.redisTlsCa).toBeNull();
    expect(loadConfig({}).redisAuth).toBe('password');
  });

  it('refuses an unknown mode, and gcp-iam without TLS, with a password, or without REDIS_URL', () => {
    const iam = { ATRIUM_REDIS_AUTH: 'gcp-iam' };
    expect(() => loadConfig({ ATRIUM_REDIS_AUTH: 'iam', REDIS_URL: 'rediss://h:1' })).toThrow(
      'ATRIUM_REDIS_AUTH must be one of password, gcp-iam, got "iam"',
    );
    expect(() => loadConfig(iam)).toThrow('ATRIUM_REDIS_AUTH=gcp-iam needs REDIS_URL');
    expect(() => loadConfig({ ...iam, REDIS_URL: 'rediss://:secret@h:6379' })).toThrow(
      'REDIS_URL must not name a user or password',
    );
    expect(() => loadConfig({ ...iam, REDIS_URL: 'rediss://default@h:6379' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...iam, REDIS_URL: 'redis://h:6379' })).toThrow('needs a rediss:// REDIS_URL');
    const cluster = { ...iam, ATRIUM_REDIS_CLUSTER: 'true' };
    expect(() => loadConfig({ ...cluster, REDIS_URL: 'rediss://a:1,redis://b:2' })).toThrow('rediss://');
    expect(() => loadConfig({ ...cluster, REDIS_URL: 'rediss://a:1,rediss://:pw@b:2' })).toThrow('user or password');
    const ok = loadConfig({ ...cluster, REDIS_URL: 'rediss://10.0.0.4:6379' });
    expect(ok).toMatchObject({ redisAuth: 'gcp-iam', redisCluster: true, redisUrl: 'rediss://10.0.0.4:6379' });
  });

  it('takes PEM certificates as the CA, with rediss:// only', () => {
    const tls = { REDIS_URL: 'rediss://10.0.0.1:6378' };
    expect(loadConfig({ ...tls, ATRIUM_REDIS_TLS_CA: files.ca }).redisTlsCa).toBe(files.ca);
    // A CA being rotated comes with its successor; line breaks escaped as \n by a secret store are read as such.
    const two = `${files.ca}${files.ca}`;
    expect(loadConfig({ ...tls, ATRIUM_REDIS_TLS_CA: two }).redisTlsCa?.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const escaped = files.ca.trim().replaceAll('\n', '\\n');
    expect(loadConfig({ ...tls, ATRIUM_REDIS_TLS_CA: escaped }).redisTlsCa).toBe(files.ca);
    expect(() => loadConfig({ ...tls, ATRIUM_REDIS_TLS_CA: '/etc/atrium/redis-ca.pem' })).toThrow(
      'ATRIUM_REDIS_TLS_CA must be PEM certificates',
    );
    const broken = files.ca.replace(/\n[A-Za-z0-9+/]{8}/, '\nAAAAAAAA');
    expect(() => loadConfig({ ...tls, ATRIUM_REDIS_TLS_CA: broken })).toThrow(
      'ATRIUM_REDIS_TLS_CA: certificate 1 is not a valid X.509 certificate',
    );
    expect(() => loadConfig({ REDIS_URL: 'redis://10.0.0.1:6379', ATRIUM_REDIS_TLS_CA: files.ca })).toThrow(
      'REDIS_URL must be rediss://',
    );
    expect(() => loadConfig({ ATRIUM_REDIS_TLS_CA: files.ca })).toThrow('REDIS_URL must be rediss://');
    expect(loadConfig({ ...tls, ATRIUM_REDIS_TLS_CA: '' }).redisTlsCa).toBeNull();
  });
});

describe('gcp-iam on one Redis server whose password rotates', () => {
  let password = tokenLike('first');
  const google = fakeGoogle(password);
  let server: RedisServer;
  let admin: Redis;
  let client: RedisClient;
  let errors: Error[];

  beforeAll(async () => {
    server = await startRedisServer([], { password: () => password });
    admin = await server.admin();
    const opened = await openRedis(
      { redisUrl: server.url, redisCluster: false, redisAuth: 'gcp-iam' },
      quickly(google),
    );
    if (!opened) throw new Error('no Redis connection');
    client = opened;
    errors = errorsOf(client);
  });
  afterAll(async () => {
    client?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  /** The new token becomes the password and the old one stops working, as when an access token expires. */
  async function rotate(next: string, servers: Redis[]) {
    for (const redis of servers) await redis.call('ACL', 'SETUSER', 'default', `>${next}`, `<${password}`);
    password = next;
    google.token = next;
  }

  it('authenticates as user default with the access token', async () => {
    expect(await client.set('k', 'v')).toBe('OK');
    expect(await (client as Redis).call('ACL', 'WHOAMI')).toBe('default');
  });

  it('keeps working across a rotation, and a reconnection authenticates with the new token', async () => {
    const old = password;
    await rotate(tokenLike('second'), [admin]);
    // The connection authenticated with the old token stays open (Memorystore: an authenticated connection
    // outlives its token).
    expect(await client.get('k')).toBe('v');
    await refreshed(google);
    await killClients(admin);
    await vi.waitFor(async () => expect(await client.get('k')).toBe('v'), { timeout: 5000 });
    expect(await authReply(server.port, old)).toMatch(/^-WRONGPASS/);
    expect(await authReply(server.port, password)).toBe('+OK');
  });

  it('reconnects with the token of the moment after the server restarts', async () => {
    password = tokenLike('third');
    google.token = password;
    await refreshed(google);
    admin.disconnect();
    await server.restart();
    admin = await server.admin();
    // The restarted server is empty and knows only the third token.
    await vi.waitFor(async () => expect(await client.set('k', 'again')).toBe('OK'), { timeout: 10_000 });
    expect(await client.get('k')).toBe('again');
  });

  it('never puts the token in an error it reports', () => {
    const all = errors.map((err) => `${err.message} ${String(err.cause ?? '')}`).join('\n');
    expect(all).not.toContain('ya29.');
  });

  it('fails to start with a clear error when no token can be had', async () => {
    const broken = fakeGoogle('unused');
    broken.failing = new Error('Could not load the default credentials');
    const config = { redisUrl: server.url, redisCluster: false, redisAuth: 'gcp-iam' as const };
    const opening = openRedis(config, quickly(broken));
    await expect(opening).rejects.toThrow(ConfigError);
    await expect(opening).rejects.toThrow(
      'ATRIUM_REDIS_AUTH=gcp-iam: could not get a Google access token for Redis (Could not load the default credentials)',
    );
  });

  it('answers 503 service_unavailable once the token has expired and cannot be refreshed', async () => {
    const expiring = fakeGoogle(password, 1500);
    const short = connectRedis({ redisUrl: server.url, redisCluster: false, redisAuth: 'gcp-iam' }, quickly(expiring));
    if (!short) throw new Error('no Redis connection');
    const shortErrors = errorsOf(short);
    const prefix = `test:${randomBytes(4).toString('hex')}:`;
    const t = await createTestApp({ redisKeyPrefix: prefix }, { redis: short });
    try {
      const owner = await createOrganization(t.app, 'Iam');
      const created = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 10 }, { tenant: owner });
      const acquire = (fingerprint: string) =>
        call(
          t.app,
          'POST',
          '/api/v1/licenses/acquire',
          { license_key: created.body.license_key, fingerprint },
          { tenant: owner },
        );
      expect((await acquire('before')).status).toBe(201);

      expiring.failing = new Error('metadata server unreachable');
      await new Promise((resolve) => setTimeout(resolve, 1600));
      // Still authenticated: the open connection outlives its token.
      expect((await acquire('still')).status).toBe(201);
      // A new connection needs a token, and there is none that is still valid.
      await killClients(admin);
      const refused = await acquire('after');
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'service_unavailable', status: 503 });
      const err = await whileRedisAnswers(() => short.get('k')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AtriumError);
      expect((err as AtriumError).code).toBe('service_unavailable');
      const said = shortErrors.map((e) => e.message);
      expect(said).toContainEqual(expect.stringContaining('Redis IAM authentication: refreshing the Google access'));
      expect(said).toContainEqual(
        'Redis IAM authentication: the Google access token has expired and refreshing it fails (metadata server unreachable)',
      );
      expect(said.join('\n')).not.toContain(password);

      // Google answers again: so does Redis, without a restart.
      expiring.failing = null;
      await vi.waitFor(async () => expect((await acquire('back')).status).toBe(201), { timeout: 5000 });
    } finally {
      await t.close();
      short.disconnect();
    }
  });
});

describe('gcp-iam on a three-node Redis Cluster whose password rotates', () => {
  let password = tokenLike('first');
  const google = fakeGoogle(password);
  let cluster: RedisCluster;
  let client: Cluster;
  let errors: Error[];
  const keys = Array.from({ length: 12 }, (_, i) => `{k${i}}`);

  beforeAll(async () => {
    cluster = await startRedisCluster({ password: () => password });
    const opened = await openRedis(
      { redisUrl: cluster.url, redisCluster: true, redisAuth: 'gcp-iam' },
      quickly(google),
    );
    client = opened as Cluster;
    errors = errorsOf(client);
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  async function everyKey(value: string) {
    for (const key of keys) expect(await client.set(key, value)).toBe('OK');
    for (const key of keys) expect(await client.get(key)).toBe(value);
  }

  it('reaches every node with the access token', async () => {
    expect(client).toBeInstanceOf(Cluster);
    await everyKey('one');
    expect(new Set(client.nodes('master').map((node) => Number(node.options.port)))).toEqual(new Set(cluster.ports));
  });

  it('keeps working across a rotation on every node; reconnections to each node use the new token', async () => {
    const next = tokenLike('second');
    for (const port of cluster.ports) {
      const admin = await cluster.admin(port);
      await admin.call('ACL', 'SETUSER', 'default', `>${next}`, `<${password}`);
      admin.disconnect();
    }
    password = next;
    google.token = next;
    await everyKey('two');
    await refreshed(google);
    for (const port of cluster.ports) {
      const admin = await cluster.admin(port);
      await killClients(admin);
      admin.disconnect();
    }
    await vi.waitFor(() => everyKey('three'), { timeout: 10_000 });
  });

  it('reconnects to a restarted node with the token of the moment', async () => {
    const port = cluster.ports[1] as number;
    const next = tokenLike('third');
    for (const other of cluster.ports.filter((p) => p !== port)) {
      const admin = await cluster.admin(other);
      await admin.call('ACL', 'SETUSER', 'default', `>${next}`, `<${password}`);
      admin.disconnect();
    }
    password = next;
    google.token = next;
    await refreshed(google);
    await cluster.killNode(port);
    await cluster.startNode(port);
    // The restarted node is empty and knows only the third token; the others were rotated to it live.
    await vi.waitFor(() => everyKey('four'), { timeout: 15_000 });
    expect(errors.map((err) => err.message).join('\n')).not.toContain('ya29.');
  });

  it('answers 503 within a second once no node takes a new connection, and recovers with Google', async () => {
    const expiring = fakeGoogle(password, 1500);
    const short = connectRedis(
      { redisUrl: cluster.url, redisCluster: true, redisAuth: 'gcp-iam' },
      quickly(expiring),
    ) as Cluster;
    short.on('error', () => {});
    try {
      await vi.waitFor(() => expect(short.status).toBe('ready'), { timeout: 5000 });
      expect(await short.get('{k0}')).toBe('four');
      expiring.failing = new Error('metadata server unreachable');
      await new Promise((resolve) => setTimeout(resolve, 1600));
      for (const port of cluster.ports) {
        const admin = await cluster.admin(port);
        await killClients(admin);
        admin.disconnect();
      }
      // Every node refuses a connection without a valid token: the cluster is not ready and holds the commands,
      // and they still fail within the second instead of waiting for it.
      for (const key of keys.slice(0, 3)) {
        const started = Date.now();
        const err = await whileRedisAnswers(() => short.get(key)).catch((e: unknown) => e);
        expect((err as AtriumError).code).toBe('service_unavailable');
        expect(Date.now() - started).toBeLessThan(1500);
      }
      expiring.failing = null;
      await vi.waitFor(async () => expect(await short.get('{k1}')).toBe('four'), { timeout: 10_000 });
    } finally {
      short.disconnect();
    }
  });
});

describe('TLS with ATRIUM_REDIS_TLS_CA (redis-server built with TLS)', () => {
  let files: TlsFiles;
  let other: TlsFiles;
  beforeAll(async () => {
    [files, other] = await Promise.all([makeTlsFiles(), makeTlsFiles()]);
  });
  afterAll(async () => {
    await files?.remove();
    await other?.remove();
  });

  /** The first error a client reports, and the failure of a command meanwhile. */
  async function refusal(client: RedisClient) {
    const first = new Promise<Error>((resolve) => client.once('error', resolve));
    client.on('error', () => {});
    const command = await client.ping().catch((err: Error) => err);
    client.disconnect();
    return { error: await first, command };
  }

  it('one server: trusts the CA it is given, and only that one', async () => {
    const secret = tokenLike('pw');
    const server = await startRedisServer([], { tls: files, password: () => secret });
    try {
      const url = server.url.replace('rediss://', `rediss://:${secret}@`);
      const trusted = connectRedis(loadConfig({ REDIS_URL: url, ATRIUM_REDIS_TLS_CA: files.ca }));
      expect(await trusted?.ping()).toBe('PONG');
      trusted?.disconnect();

      const defaults = connectRedis(loadConfig({ REDIS_URL: url })) as RedisClient;
      const withoutCa = await refusal(defaults);
      expect(withoutCa.error.message).toMatch(/self-signed certificate in certificate chain|unable to verify/);
      expect(withoutCa.command).toBeInstanceOf(Error);

      const wrong = connectRedis(loadConfig({ REDIS_URL: url, ATRIUM_REDIS_TLS_CA: other.ca })) as RedisClient;
      expect((await refusal(wrong)).error.message).toMatch(
        /self-signed certificate in certificate chain|unable to verify/,
      );
    } finally {
      await server.stop();
    }
  });

  it('one server with gcp-iam: TLS, then AUTH with the token, from the environment as deployed', async () => {
    const token = tokenLike('tls');
    const server = await startRedisServer([], { tls: files, password: () => token });
    try {
      const env = { REDIS_URL: server.url, ATRIUM_REDIS_AUTH: 'gcp-iam', ATRIUM_REDIS_TLS_CA: files.ca };
      const client = await openRedis(loadConfig(env), quickly(fakeGoogle(token)));
      expect(await client?.set('k', 'v')).toBe('OK');
      expect(await (client as Redis).call('ACL', 'WHOAMI')).toBe('default');
      client?.disconnect();
    } finally {
      await server.stop();
    }
  });

  it('a three-node cluster over TLS with gcp-iam: every node, found by CLUSTER SLOTS, is verified with the CA', async () => {
    const token = tokenLike('cluster');
    const cluster = await startRedisCluster({ tls: files, password: () => token });
    try {
      const env = {
        REDIS_URL: cluster.url.split(',')[0] as string,
        ATRIUM_REDIS_CLUSTER: 'true',
        ATRIUM_REDIS_AUTH: 'gcp-iam',
        ATRIUM_REDIS_TLS_CA: files.ca,
      };
      const client = (await openRedis(loadConfig(env), quickly(fakeGoogle(token)))) as Cluster;
      for (let i = 0; i < 12; i += 1) expect(await client.set(`{t${i}}`, String(i))).toBe('OK');
      for (let i = 0; i < 12; i += 1) expect(await client.get(`{t${i}}`)).toBe(String(i));
      const nodes = client.nodes('master').map((node) => Number(node.options.port));
      expect(new Set(nodes)).toEqual(new Set(cluster.ports));
      client.disconnect();

      const untrusted = connectRedis(
        loadConfig({ ...env, ATRIUM_REDIS_TLS_CA: other.ca }),
        quickly(fakeGoogle(token)),
      ) as RedisClient;
      untrusted.on('error', () => {});
      // No node is trusted, so the cluster never gets its slots: the command fails (503), within the second.
      const err = await whileRedisAnswers(() => untrusted.set('{t0}', 'x')).catch((e: unknown) => e);
      expect((err as AtriumError).code).toBe('service_unavailable');
      expect(untrusted.status).not.toBe('ready');
      untrusted.disconnect();
    } finally {
      await cluster.stop();
    }
  });
});

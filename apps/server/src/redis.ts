import { connect as connectTcp, Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import type { RedisClient } from '@atrium/core';
import { AbstractConnector, Cluster, type Command, Redis } from 'ioredis';
import { type Config, ConfigError } from './config.ts';

/**
 * What every command gets: two retries after a lost connection, and one second in all (`commandTimeout`), sent or
 * still queued for a connection that is not back. A request then answers 503 (or, for a rate limit, counts in
 * process) after at most a second; ioredis alone holds a command for three reconnection attempts, 5 s and more once
 * Redis has been away for a minute.
 */
const perCommand = { maxRetriesPerRequest: 2, commandTimeout: 1000 };

/**
 * A Redis Cluster whose commands get `perCommand`'s second from the moment the cluster takes them. ioredis starts
 * that clock only when a node's connection takes the command; one the cluster holds because it is not ready (every
 * node away, or refusing our AUTH: no valid access token) would otherwise wait without end instead of answering 503.
 */
class BoundedCluster extends Cluster {
  override sendCommand(command: Command, ...rest: unknown[]): unknown {
    command.setTimeout(perCommand.commandTimeout);
    return (super.sendCommand as (command: Command, ...rest: unknown[]) => unknown)(command, ...rest);
  }
}

/** What `connectRedis` reads of the configuration; without `redisAuth` and `redisTlsCa`, their defaults. */
export type RedisConnectionConfig = Pick<Config, 'redisUrl' | 'redisCluster'> &
  Partial<Pick<Config, 'redisAuth' | 'redisTlsCa'>>;

/** An OAuth2 access token and when it expires (ms since the epoch; null: unknown). */
export interface AccessToken {
  token: string;
  expiresAt: number | null;
}

/** Where ATRIUM_REDIS_AUTH=gcp-iam gets its access tokens: by default `googleAccessTokens()`. */
export type AccessTokenProvider = () => Promise<AccessToken>;

/** When the background refresh of access tokens asks its provider; tests shorten these. */
export interface TokenRefreshTiming {
  /** How often a token is asked for while the last one is good (Default: 60 s). */
  everyMs: number;
  /** First wait after a failed refresh, doubling up to `everyMs` (Default: 1 s). */
  retryMs: number;
  /** A token is no longer given to a new connection this long before it expires (Default: 30 s). */
  marginMs: number;
}

export interface RedisConnectOptions {
  /**
   * ATRIUM_REDIS_AUTH=gcp-iam only: the token provider. Default: Google's (`googleAccessTokens`). Tests replace it
   * with a fake provider: Google's token endpoint is a cloud API with no local server to run them against.
   */
  accessTokens?: AccessTokenProvider;
  tokenRefresh?: Partial<TokenRefreshTiming>;
}

/**
 * Atrium's connection to Redis (REDIS_URL), the same for the API, the worker and `atrium licenses reconcile`:
 * one server, or with ATRIUM_REDIS_CLUSTER=true a Redis Cluster reached through the seed nodes REDIS_URL lists.
 * Null without REDIS_URL (embedded mode).
 *
 * ATRIUM_REDIS_AUTH=gcp-iam (Memorystore IAM authentication) authenticates every connection this client opens, to
 * the one server or to any cluster node, including those opened later for a slot refresh, a new node or after a
 * failover, with the access token current at that moment (`IamAuthConnector`). Before the first token has arrived
 * connections wait for it; `openRedis` waits for it at start and fails when it cannot be had.
 *
 * No auto-pipelining: the seat stores already send a turn's calls of one license as one script call
 * (TurnBatcher), and ioredis keeps one auto-pipeline in flight at a time, so a call made while one is out waits for
 * its reply. Off, acquires at half load spent 140 against 187 us of CPU each, p99 10 against 23 ms; heartbeats of
 * 50 licenses 60 against 72 us (bench/README.md, 2026-12-03).
 */
export function connectRedis(config: RedisConnectionConfig, options: RedisConnectOptions = {}): RedisClient | null {
  if (!config.redisUrl) return null;
  const seeds = config.redisUrl.split(',').map((seed) => new URL(seed));
  const first = seeds[0] as URL;
  const tls = first.protocol === 'rediss:' ? tlsOptions(config.redisTlsCa ?? null) : undefined;
  const tokens =
    config.redisAuth === 'gcp-iam'
      ? new IamTokens(options.accessTokens ?? googleAccessTokens(), options.tokenRefresh)
      : null;
  if (tokens && seeds.some((seed) => seed.username || seed.password)) {
    throw new ConfigError('ATRIUM_REDIS_AUTH=gcp-iam: REDIS_URL must not name a user or password');
  }
  // With IAM authentication ioredis is given no password: the connector authenticates each connection itself.
  const connector = tokens ? { Connector: iamAuthConnector(tokens) } : {};
  const client: RedisClient = !config.redisCluster
    ? new Redis(config.redisUrl, { ...perCommand, enableAutoPipelining: false, tls, ...connector })
    : new BoundedCluster(
        seeds.map((seed) => ({ host: seed.hostname, port: Number(seed.port || 6379) })),
        {
          enableAutoPipelining: false,
          // Every node takes the first seed's credentials and, for rediss:, TLS.
          redisOptions: {
            username: decodeURIComponent(first.username) || undefined,
            password: decodeURIComponent(first.password) || undefined,
            tls,
            ...perCommand,
            ...connector,
          },
          // Seeds given as host names (ElastiCache's configuration endpoint) are connected to by that name, not an
          // address resolved here, so that a TLS certificate issued for the name matches (what ioredis documents for
          // ElastiCache with TLS). Addresses are not resolved anyway: Memorystore's discovery endpoint and the nodes
          // CLUSTER SLOTS reports are IP addresses of our VPC (Private Service Connect), reachable as given, so no
          // natMap either, and the certificate is checked against the IP (Google's own go-redis and Lettuce samples
          // verify the host with the cluster's CA the same way).
          dnsLookup: (address, callback) => callback(null, address),
          // A slot refresh opens a connection and must get CLUSTER SLOTS back within this: with TLS and IAM
          // authentication (which Memorystore checks with IAM for every new connection) that is a TLS handshake and
          // an AUTH before the command, more than ioredis's default second allows for at times.
          ...(tls || tokens ? { slotsRefreshTimeout: 3000 } : {}),
        },
      );
  if (tokens) {
    tokens.onRefreshError = (err) => {
      // Logged where the caller logs Redis errors; never with the token.
      if (client.listenerCount('error') > 0) client.emit('error', err);
    };
    tokens.start();
    tokensOf.set(client, tokens);
    client.once('end', () => tokens.stop());
  }
  return client;
}

/**
 * `connectRedis`, and with ATRIUM_REDIS_AUTH=gcp-iam the wait for the first access token: what a process calls at
 * start, so that one that cannot get a token stops with the reason instead of serving 503s (Google's guidance for
 * IAM authentication: fail fast at setup). Connection problems after that surface per command, as 503s.
 */
export async function openRedis(
  config: RedisConnectionConfig,
  options: RedisConnectOptions = {},
): Promise<RedisClient | null> {
  const client = connectRedis(config, options);
  const tokens = client ? tokensOf.get(client) : undefined;
  if (client && tokens) {
    // The caller listens for errors once it has the client; until then ioredis would print them as unhandled.
    const meanwhile = () => {};
    client.on('error', meanwhile);
    try {
      await tokens.firstToken;
      client.off('error', meanwhile);
    } catch (err) {
      client.disconnect();
      throw new ConfigError(
        `ATRIUM_REDIS_AUTH=gcp-iam: could not get a Google access token for Redis (${errorMessage(err)}). On GKE, ` +
          "Workload Identity must bind the pod's Kubernetes service account to a Google service account, which " +
          'also needs roles/redis.dbConnectionUser',
        { cause: err },
      );
    }
  }
  return client;
}

/** The scope of the tokens in Google's IAM authentication samples for Memorystore. */
const cloudPlatformScope = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * Access tokens of the process's Google identity (Application Default Credentials: on GKE with Workload Identity the
 * pod's Google service account, from the metadata server). google-auth-library keeps a token until it has less than
 * five minutes left, so asking every minute costs a request to the metadata server only then.
 */
export function googleAccessTokens(): AccessTokenProvider {
  let auth: Promise<import('google-auth-library').GoogleAuth> | undefined;
  return async () => {
    auth ??= import('google-auth-library').then(({ GoogleAuth }) => new GoogleAuth({ scopes: [cloudPlatformScope] }));
    const client = await (await auth).getClient();
    const { token } = await client.getAccessToken();
    if (!token) throw new Error('Google returned no access token');
    const expiry = client.credentials?.expiry_date;
    return { token, expiresAt: typeof expiry === 'number' ? expiry : null };
  };
}

const tokensOf = new WeakMap<RedisClient, IamTokens>();

/** A provider that has not answered by then (a metadata server that does not respond) has failed. */
const providerTimeoutMs = 30_000;

/** When a provider does not say when its token expires: well within the hour Google's tokens last by default. */
const assumedLifetimeMs = 30 * 60_000;

/**
 * The current access token, refreshed in the background (one refresh at a time for the whole process, however many
 * connections it opens): a new connection takes the token at hand and never waits for Google, except for the very
 * first token. A connection keeps working once authenticated, even after its token expires (Memorystore), so only
 * new connections need a fresh one.
 */
class IamTokens {
  readonly firstToken: Promise<void>;
  onRefreshError: (err: Error) => void = () => {};
  private current: { token: string; usableUntil: number } | null = null;
  private lastError: unknown = null;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly timing: TokenRefreshTiming;
  private resolveFirst!: () => void;
  private rejectFirst!: (err: unknown) => void;

  private readonly provider: AccessTokenProvider;

  constructor(provider: AccessTokenProvider, timing: Partial<TokenRefreshTiming> = {}) {
    this.provider = provider;
    this.timing = { everyMs: 60_000, retryMs: 1000, marginMs: 30_000, ...timing };
    this.firstToken = new Promise((resolve, reject) => {
      this.resolveFirst = resolve;
      this.rejectFirst = reject;
    });
    // Whoever waits for it sees the failure; nobody waiting is no unhandled rejection.
    this.firstToken.catch(() => {});
  }

  start() {
    void this.refresh();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The token for a connection opening now; waits only for the first one. */
  async password(): Promise<string> {
    if (!this.current) await this.firstToken.catch(() => {});
    const current = this.current;
    if (current && Date.now() < current.usableUntil) return current.token;
    throw new Error(
      current
        ? `Redis IAM authentication: the Google access token has expired and refreshing it fails (${errorMessage(this.lastError)})`
        : `Redis IAM authentication: no Google access token yet (${errorMessage(this.lastError)})`,
    );
  }

  private async refresh() {
    let next: number;
    try {
      const { token, expiresAt } = await withTimeout(this.provider(), providerTimeoutMs, 'the token provider');
      if (typeof token !== 'string' || token === '') throw new Error('the token provider returned no token');
      const until = expiresAt ?? Date.now() + assumedLifetimeMs;
      this.current = { token, usableUntil: until - this.timing.marginMs };
      this.lastError = null;
      this.failures = 0;
      this.resolveFirst();
      // Ask again in a minute, or sooner when this token would stop being usable before then.
      next = Math.min(this.timing.everyMs, Math.max(this.timing.retryMs, this.current.usableUntil - Date.now()));
    } catch (err) {
      this.lastError = err;
      this.failures += 1;
      if (this.failures === 1) this.rejectFirst(err);
      next = Math.min(this.timing.everyMs, this.timing.retryMs * 2 ** (this.failures - 1));
      if (this.current) {
        const until = new Date(this.current.usableUntil + this.timing.marginMs).toISOString();
        this.onRefreshError(
          new Error(
            `Redis IAM authentication: refreshing the Google access token failed (${errorMessage(err)}); the current one expires at ${until}`,
            { cause: err },
          ),
        );
      }
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), next);
    // The refresh alone never keeps a process alive.
    this.timer.unref();
  }
}

/**
 * An ioredis connector that opens the TCP (or TLS) connection and sends `AUTH default <access token>` on it before
 * handing it to ioredis, for every connection ioredis opens with it: the server, each cluster node, the slot
 * refresher's connections, reconnections. Memorystore's IAM authentication takes `default` as the only user and the
 * token as its password. The AUTH goes out before ioredis sees the socket, so the token is never part of an ioredis
 * command (nor of its debug output or traces). ioredis's cluster subscriber connection does not take a connector;
 * Atrium does not subscribe.
 */
function iamAuthConnector(tokens: IamTokens) {
  return class IamAuthConnector extends AbstractConnector {
    private readonly options: ConnectorOptions;

    constructor(options: unknown) {
      const connectorOptions = options as ConnectorOptions;
      super(connectorOptions.disconnectTimeout ?? 2000);
      this.options = connectorOptions;
    }

    async connect(): Promise<Socket> {
      this.connecting = true;
      this.firstError = undefined;
      const { connectTimeout = 10_000 } = this.options;
      let socket: Socket | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('connect ETIMEDOUT (TLS and IAM AUTH included)')), connectTimeout);
        });
        const password = await Promise.race([tokens.password(), timedOut]);
        if (!this.connecting) throw new ConnectionClosed();
        socket = this.open();
        this.stream = socket;
        await Promise.race([authenticate(socket, this.options.tls ? 'secureConnect' : 'connect', password), timedOut]);
        return socket;
      } catch (err) {
        if (err instanceof ConnectionClosed) throw new Error('Connection is closed.');
        // A closed socket and the error: ioredis reports the error and reconnects by its retry strategy (a cluster
        // node's connection ends and the cluster finds the node again), as after a refused connection.
        const failed = socket ?? new Socket();
        failed.destroy();
        this.firstError = err instanceof Error ? err : new Error(String(err));
        return failed;
      } finally {
        clearTimeout(timer);
      }
    }

    private open(): Socket {
      const { host = 'localhost', port = 6379, path, family, tls } = this.options;
      const address = path ? { path } : { host, port, family };
      if (tls) return connectTls({ ...address, ...(tls === true ? {} : tls) });
      return path ? connectTcp({ path }) : connectTcp({ host, port, family });
    }
  };
}

/** What ioredis passes a connector: the connection's options (the parts used here). */
interface ConnectorOptions {
  host?: string;
  port?: number;
  path?: string;
  family?: number;
  tls?: ConnectionOptions | true;
  connectTimeout?: number;
  disconnectTimeout?: number;
}

class ConnectionClosed extends Error {}

/** Waits for the connection (and TLS handshake), sends AUTH and reads its one-line reply. */
function authenticate(socket: Socket, connected: 'connect' | 'secureConnect', password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const done = (err?: Error) => {
      socket.off(connected, send);
      socket.off('data', onData);
      socket.off('error', done);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const send = () => socket.write(command(['AUTH', 'default', password]));
    const onData = (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end === -1) return;
      const line = reply.slice(0, end);
      // Redis answers nothing before the client's next command; anything past the reply would be a protocol error.
      if (line === '+OK') done();
      else done(new Error(`Redis refused the IAM access token: ${line.replace(/^-/, '')}`));
    };
    const onClose = () => done(new Error('Connection is closed.'));
    socket.once(connected, send);
    socket.on('data', onData);
    socket.once('error', done);
    socket.once('close', onClose);
  });
}

/** A command as RESP: an array of bulk strings. */
function command(parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
}

/**
 * TLS for rediss:. With ATRIUM_REDIS_TLS_CA, exactly those CAs are trusted (Memorystore's own), not Node's default
 * ones; the host name or IP address is still checked against the certificate.
 */
function tlsOptions(ca: string | null): ConnectionOptions {
  return ca ? { ca } : {};
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

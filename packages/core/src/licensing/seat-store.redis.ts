import { type RedisClient, whileRedisAnswers } from '../shared/redis.ts';
import { TurnBatcher } from '../shared/turn-batcher.ts';
import {
  acquireScript,
  expireScript,
  heartbeatScript,
  reconcileScript,
  releaseScript,
  restoreScript,
  sweepScript,
} from './seat-store.redis.lua.ts';
import {
  type AcquireBatch,
  type AcquireOutcome,
  acquireBatchOf,
  batchTiming,
  type Lease,
  type LeaseMetadata,
  type LicenseRef,
  type SeatRequest,
  type SeatStore,
  type StoreTiming,
  timedCall,
} from './seat-store.ts';

/** What the journal says a license's lease set held, for rebuilding it after Redis lost its data. */
export interface OpenLeases {
  leases: Array<{ sessionId: string; fingerprint: string; acquiredAtMs: number; metadata: LeaseMetadata }>;
  lifetimeMs: number;
}

/** What `reconcile` changed in one license's lease set. */
export interface Reconciliation {
  /** Journal-open leases the set lacked, added back. */
  restored: number;
  /** Leases the journal says were released or expired, removed. */
  dropped: number;
  /** Leases live in the set afterwards. */
  live: number;
}

export interface RedisSeatStoreOptions {
  /** Prepended to every key, e.g. `atrium:` (Default: none). Tests use one per file. */
  keyPrefix?: string;
  /** Reads the journal (ADR 0100). Called when a license's set is missing: new, or lost by Redis. */
  loadOpenLeases(license: LicenseRef): Promise<OpenLeases>;
  /** Told how long each script call took (Default: nobody). */
  timing?: StoreTiming;
}

type ScriptReply = [string, ...unknown[]];

interface BeatBatch {
  license: LicenseRef;
  lifetimeMs: number;
}

/** Calls in one script at most: a script blocks Redis while it runs, so each one stays short. */
const maxSessionsPerScript = 500;
const maxAcquiresPerScript = 200;

function unexpected(kind: string): never {
  throw new Error(`seat script answered ${kind}`);
}

interface SeatCommands {
  atriumSeatAcquire(...args: Array<string | number>): Promise<ScriptReply>;
  atriumSeatHeartbeat(...args: Array<string | number>): Promise<ScriptReply>;
  atriumSeatRelease(...args: Array<string | number>): Promise<ScriptReply>;
  atriumSeatSweep(...args: Array<string | number>): Promise<ScriptReply>;
  atriumSeatExpire(...args: Array<string | number>): Promise<ScriptReply>;
  atriumSeatRestore(...args: Array<string | number>): Promise<number>;
  atriumSeatReconcile(...args: Array<string | number>): Promise<[number, number, number]>;
}

/** `<fingerprint>\n<acquired ms>\n<metadata JSON>`; a lease stored before metadata was kept has no third line. */
function parseInfo(sessionId: string, info: string, expires: string): Lease {
  const [fingerprint = '', acquired = '0', metadata] = info.split('\n', 3);
  return {
    sessionId,
    fingerprint,
    acquiredAtMs: Number(acquired),
    expiresAtMs: Number(expires),
    metadata: metadata ? (JSON.parse(metadata) as LeaseMetadata) : {},
  };
}

function triples(values: unknown): Lease[] {
  const list = values as string[];
  const leases: Lease[] = [];
  for (let i = 0; i + 2 < list.length; i += 3) {
    leases.push(parseInfo(list[i] as string, list[i + 1] as string, list[i + 2] as string));
  }
  return leases;
}

/**
 * Seats in Redis: Lua scripts on one sorted set per license (DESIGN.md §1). A script is atomic, so acquires from
 * any number of API processes never over-allocate. A license whose set is missing (never used, or Redis lost its
 * data) is rebuilt from the PostgreSQL lease journal before the operation is retried.
 */
export class RedisSeatStore implements SeatStore {
  readonly name = 'redis';
  readonly journalsItself = false;
  private readonly redis: RedisClient & SeatCommands;
  private readonly prefix: string;
  private readonly loadOpenLeases: RedisSeatStoreOptions['loadOpenLeases'];
  /** Acquires of one turn of the event loop, per license, seat limit and lifetime (see `acquire`). */
  private readonly acquires: TurnBatcher<AcquireBatch, SeatRequest, AcquireOutcome>;
  /** Releases of one turn of the event loop, per license (see `release`). */
  private readonly releases: TurnBatcher<LicenseRef, string, Lease | null>;
  /** Heartbeats of one turn of the event loop, per license and lifetime (see `heartbeat`). */
  private readonly beats: TurnBatcher<BeatBatch, string, number | null>;
  private readonly timing: StoreTiming | undefined;

  constructor(redis: RedisClient, options: RedisSeatStoreOptions) {
    const commands = {
      atriumSeatAcquire: acquireScript,
      atriumSeatHeartbeat: heartbeatScript,
      atriumSeatRelease: releaseScript,
      atriumSeatSweep: sweepScript,
      atriumSeatExpire: expireScript,
      atriumSeatRestore: restoreScript,
      atriumSeatReconcile: reconcileScript,
    };
    for (const [name, lua] of Object.entries(commands)) redis.defineCommand(name, { numberOfKeys: 4, lua });
    this.redis = redis as RedisClient & SeatCommands;
    this.prefix = options.keyPrefix ?? '';
    this.loadOpenLeases = options.loadOpenLeases;
    this.timing = options.timing;
    this.acquires = new TurnBatcher((batch, requests) => this.sendAcquires(batch, requests), {
      maxBatch: maxAcquiresPerScript,
      ...batchTiming(this.timing, this.name, 'acquire'),
    });
    this.releases = new TurnBatcher((license, sessionIds) => this.sendReleases(license, sessionIds), {
      maxBatch: maxSessionsPerScript,
      ...batchTiming(this.timing, this.name, 'release'),
    });
    this.beats = new TurnBatcher((batch, sessionIds) => this.sendBeats(batch, sessionIds), {
      maxBatch: maxSessionsPerScript,
      ...batchTiming(this.timing, this.name, 'heartbeat'),
    });
  }

  keys(licenseId: string): [string, string, string, string] {
    const tag = `${this.prefix}{lic:${licenseId}}`;
    return [`${tag}:leases`, `${tag}:sessions`, `${tag}:fingerprints`, `${tag}:ready`];
  }

  /**
   * Acquires of one license that arrive in the same turn of the event loop run as one script call (TurnBatcher),
   * decided one after the other inside it, as separate calls would be: the seat limit holds exactly as before
   * (the script is atomic), and each acquire costs Redis and Node a fraction of a command.
   */
  acquire(request: SeatRequest): Promise<AcquireOutcome> {
    const { key, batch } = acquireBatchOf(request);
    return this.acquires.add(key, batch, request);
  }

  private async sendAcquires(batch: AcquireBatch, requests: SeatRequest[]): Promise<AcquireOutcome[]> {
    const args: Array<string | number> = [batch.maxSeats, batch.lifetimeMs];
    for (const request of requests) {
      args.push(request.sessionId, request.fingerprint, JSON.stringify(request.metadata));
    }
    const reply = await this.run(batch.license, (keys) => this.redis.atriumSeatAcquire(...keys, ...args));
    const answers = reply[2] as Array<string | number>;
    // The sweep ran once for the whole batch: its expired leases go with the first outcome only.
    let expired = triples(reply[1]);
    return requests.map((_, i) => {
      const [kind, session, info, expires, used] = answers.slice(i * 5, i * 5 + 5) as [
        string,
        string,
        string,
        string,
        number,
      ];
      const outcome: AcquireOutcome =
        kind === 'exhausted'
          ? { kind, used: Number(used), expired }
          : kind === 'acquired' || kind === 'existing'
            ? { kind, lease: parseInfo(session, info, expires), used: Number(used), expired }
            : unexpected(kind);
      expired = [];
      return outcome;
    });
  }

  /**
   * The busiest call of all. Heartbeats of one license that arrive in the same turn of the event loop go to Redis
   * as one script call (TurnBatcher): with many clients in flight that is one command to encode, send, run and
   * parse for many heartbeats, which halved the CPU both Node and Redis spend per heartbeat in the bench.
   */
  heartbeat(license: LicenseRef, sessionId: string, lifetimeMs: number): Promise<number | null> {
    return this.beats.add(`${lifetimeMs}/${license.licenseId}`, { license, lifetimeMs }, sessionId);
  }

  private async sendBeats(batch: BeatBatch, sessionIds: string[]): Promise<Array<number | null>> {
    const reply = await this.run(batch.license, (keys) =>
      this.redis.atriumSeatHeartbeat(...keys, batch.lifetimeMs, ...sessionIds),
    );
    const expiresAtMs = Number(reply[1]);
    return (reply[2] as number[]).map((renewed) => (renewed === 1 ? expiresAtMs : null));
  }

  /** Releases of one license in one event-loop turn go as one script call, like heartbeats. */
  release(license: LicenseRef, sessionId: string): Promise<Lease | null> {
    return this.releases.add(license.licenseId, license, sessionId);
  }

  private async sendReleases(license: LicenseRef, sessionIds: string[]): Promise<Array<Lease | null>> {
    const reply = await this.run(license, (keys) => this.redis.atriumSeatRelease(...keys, ...sessionIds));
    const answers = reply[1] as string[];
    return sessionIds.map((sessionId, i) => {
      const info = answers[i * 2] as string;
      return info === '' ? null : parseInfo(sessionId, info, answers[i * 2 + 1] as string);
    });
  }

  sweep(license: LicenseRef): Promise<{ live: Lease[]; expired: Lease[] }> {
    return timedCall(this.timing, this.name, 'sweep', async () => {
      const reply = await this.run(license, (keys) => this.redis.atriumSeatSweep(...keys));
      return { expired: triples(reply[1]), live: triples(reply[2]) };
    });
  }

  expire(license: LicenseRef): Promise<{ expired: Lease[]; used: number }> {
    return timedCall(this.timing, this.name, 'expire', async () => {
      const reply = await this.run(license, (keys) => this.redis.atriumSeatExpire(...keys));
      return { expired: triples(reply[1]), used: Number(reply[2]) };
    });
  }

  async forget(license: LicenseRef): Promise<void> {
    await this.dropLeaseSets([license.licenseId]);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  /** Runs a script; when the license's set is not there, rebuilds it from the journal once and runs it again. */
  private async run(license: LicenseRef, script: (keys: string[]) => Promise<ScriptReply>): Promise<ScriptReply> {
    const keys = this.keys(license.licenseId);
    const reply = await whileRedisAnswers(() => script(keys));
    if (reply[0] !== 'missing') return reply;
    await this.restore(license);
    const again = await whileRedisAnswers(() => script(keys));
    if (again[0] === 'missing') throw new Error(`lease set of license ${license.licenseId} is missing after restore`);
    return again;
  }

  /** Adds the journal's open leases the set lacks and marks it ready; returns how many it added. */
  async restore(license: LicenseRef): Promise<number> {
    const open = await this.loadOpenLeases(license);
    return whileRedisAnswers(() =>
      this.redis.atriumSeatRestore(...this.keys(license.licenseId), open.lifetimeMs, ...quadruples(open)),
    );
  }

  /**
   * The licenses that have keys in Redis under this store's prefix, read with SCAN from every primary of a
   * cluster. For `atrium licenses reconcile`, which removes those of deleted licenses: a license deleted while
   * Redis was away (or while another process still had it cached) leaves its keys behind, and they never expire.
   */
  async licenseIdsInRedis(): Promise<Set<string>> {
    const match = `${escapeGlob(this.prefix)}{lic:*}:*`;
    const start = this.prefix.length + '{lic:'.length;
    const ids = new Set<string>();
    const servers = 'nodes' in this.redis ? this.redis.nodes('master') : [this.redis];
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, keys] = await whileRedisAnswers(() => server.scan(cursor, 'MATCH', match, 'COUNT', 1000));
        for (const key of keys) ids.add(key.slice(start, key.indexOf('}', start)));
        cursor = next;
      } while (cursor !== '0');
    }
    return ids;
  }

  /** Deletes the keys of licenses that no longer exist (see `licenseIdsInRedis`); one command per license. */
  async dropLeaseSets(licenseIds: Iterable<string>): Promise<void> {
    for (const licenseId of licenseIds) await whileRedisAnswers(() => this.redis.del(...this.keys(licenseId)));
  }

  /** The sessions in the license's set right now, live or not yet swept. */
  sessionIds(license: LicenseRef): Promise<string[]> {
    return this.redis.zrange(this.keys(license.licenseId)[0], '0', '-1');
  }

  /**
   * Makes the set agree with the journal in one atomic step: drops the `ended` sessions (the journal has their
   * release or expiry), adds the `open` leases it lacks, marks it ready. Sessions in neither list are left alone.
   */
  async reconcile(license: LicenseRef, open: OpenLeases, ended: string[]): Promise<Reconciliation> {
    const [restored, dropped, live] = await this.redis.atriumSeatReconcile(
      ...this.keys(license.licenseId),
      open.lifetimeMs,
      ended.length,
      ...ended,
      ...quadruples(open),
    );
    return { restored, dropped, live };
  }
}

/** `text` as a SCAN pattern that matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function quadruples(open: OpenLeases): Array<string | number> {
  return open.leases.flatMap((lease) => [
    lease.sessionId,
    lease.fingerprint,
    lease.acquiredAtMs,
    JSON.stringify(lease.metadata),
  ]);
}

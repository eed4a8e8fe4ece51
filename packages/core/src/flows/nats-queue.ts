import type { Pool } from '@atrium/db';
import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { claimDispatchedAndStart, type Started } from './attempts.repository.ts';
import { type Claim, type Dispatch, leasedDispatches, markDispatched } from './queue.repository.ts';
import type { ClaimOptions, QueueBackend } from './queue.ts';
import { ReadyListener } from './ready-listener.ts';

export interface NatsQueueOptions {
  pool: Pool;
  /** Runtime-role connection string, for LISTEN (wakes the dispatcher when an enqueue commits). */
  connectionString: string;
  servers: string | string[];
  /** Stream name; subjects are `<stream>.<tenant uuid>` (Default: ATRIUM_FLOWS). */
  stream?: string;
  /** Stream replicas: 1 for one server, 3 for the production cluster (Default: 1). */
  replicas?: number;
  /** Messages ready in the stream at most: the dispatcher keeps the broker's backlog short and fair (Default: 512). */
  windowMessages?: number;
  /** ack_wait of the consumer: a dead worker's message comes back after this (Default: 15000 ms). */
  ackWaitMs?: number;
  /** A dispatched run still not leased after this is published again (Default: 30000 ms). */
  redispatchAfterMs?: number;
  onError?: (err: Error) => void;
}

const consumerName = 'atrium-workers';

/**
 * JetStream backend (ADR 0200). flow_queue is the transactional outbox: the enqueue commits a row; the
 * dispatcher picks ready rows fairly across tenants, bumps their dispatch sequence and publishes with
 * `Nats-Msg-Id = run.seq` (deduplicated by the stream if a publish is repeated). Workers lease the run in
 * PostgreSQL with the message's sequence and ack only after the run's completion has committed; `working()`
 * keeps long runs from being redelivered. Retries are not broker redeliveries: the failed run is acked and
 * scheduled again in PostgreSQL, and the dispatcher publishes it when it is due.
 */
export class NatsQueue implements QueueBackend {
  readonly name = 'nats' as const;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private messages: ConsumerMessages | null = null;
  private readonly buffer: JsMsg[] = [];
  private readonly inFlight = new Map<string, JsMsg>();
  private readonly listener: ReadyListener;
  private bufferWaiter: (() => void) | null = null;
  private stopped = false;
  private dispatcher: Promise<void> | null = null;
  /** The workers' per-tenant limit, learned from their claims: the dispatcher applies it to what it publishes. */
  private tenantConcurrency = 1000;
  /** Runs settled here since the dispatcher last looked at the window. */
  private settledSinceDispatch = 0;
  private readonly wakeAfterSettled: number;
  private readonly options: Required<Omit<NatsQueueOptions, 'onError'>> & Pick<NatsQueueOptions, 'onError'>;

  constructor(options: NatsQueueOptions) {
    this.options = {
      stream: 'ATRIUM_FLOWS',
      replicas: 1,
      windowMessages: 512,
      ackWaitMs: 15_000,
      redispatchAfterMs: 30_000,
      ...options,
    };
    this.listener = new ReadyListener(options.connectionString, options.onError);
    this.wakeAfterSettled = Math.max(1, Math.floor(this.options.windowMessages / 4));
  }

  async start() {
    const { stream } = this.options;
    this.nc = await connect({ servers: this.options.servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc);
    await this.ensureStream();
    const consumer = await this.js.consumers.get(stream, consumerName);
    this.messages = await consumer.consume({ max_messages: 256 });
    void this.pump(this.messages);
    await this.listener.start();
    this.dispatcher = this.dispatchLoop();
  }

  async claim(options: ClaimOptions, waitMs: number): Promise<Started[]> {
    this.tenantConcurrency = options.tenantConcurrency;
    if (this.buffer.length === 0 && waitMs > 0) await this.waitForMessages(waitMs);
    const taken = this.buffer.splice(0, options.max);
    if (taken.length === 0) return [];
    const byKey = new Map<string, JsMsg>();
    const dispatches: Dispatch[] = [];
    for (const msg of taken) {
      const dispatch = decode(msg);
      if (!dispatch) {
        msg.term();
        continue;
      }
      byKey.set(dispatch.runId, msg);
      dispatches.push(dispatch);
    }
    let started: Started[];
    try {
      started = await claimDispatchedAndStart(this.options.pool, options.workerId, dispatches, options.leaseMs);
    } catch (err) {
      // The database is away: let the broker deliver these again later.
      for (const msg of byKey.values()) msg.nak(1000);
      throw err;
    }
    for (const { claim } of started) {
      const msg = byKey.get(claim.runId);
      byKey.delete(claim.runId);
      if (msg) this.inFlight.set(claim.runId, msg);
    }
    if (byKey.size > 0) await this.settleUnclaimed(byKey, dispatches);
    return started;
  }

  /**
   * Messages that did not lead to a claim. The current dispatch of a run whose lease has not quite run out (the
   * broker redelivered a dead worker's message a moment early) comes back when the lease ends; anything else
   * (an older dispatch, a finished run) is terminated: the dispatcher publishes again whatever still has to run.
   */
  private async settleUnclaimed(byRun: Map<string, JsMsg>, dispatches: Dispatch[]) {
    const wanted = dispatches.filter((d) => byRun.has(d.runId));
    const leased = await leasedDispatches(this.options.pool, wanted).catch(() => new Map<string, number>());
    for (const [runId, msg] of byRun) {
      const remainingMs = leased.get(runId);
      if (remainingMs === undefined) msg.term();
      else msg.nak(Math.min(remainingMs + 100, this.options.ackWaitMs));
    }
  }

  settled(claim: Claim) {
    this.inFlight.get(claim.runId)?.ack();
    this.inFlight.delete(claim.runId);
    // A finished run frees a place under the window and the tenant's limit. The dispatcher is woken once a
    // quarter of the window is free (one dispatch statement per batch, not per finished run), or at once when
    // this worker has nothing buffered left to start.
    this.settledSinceDispatch += 1;
    if (this.settledSinceDispatch >= this.wakeAfterSettled || this.buffer.length === 0) this.listener.wake();
  }

  extended(claim: Claim) {
    this.inFlight.get(claim.runId)?.working();
  }

  wake() {
    this.listener.wake();
    this.bufferWaiter?.();
  }

  async stop() {
    this.stopped = true;
    this.wake();
    await this.listener.stop();
    await this.dispatcher?.catch(() => {});
    // Unclaimed buffered messages go back to the stream at once.
    for (const msg of this.buffer.splice(0)) msg.nak();
    await this.messages?.close().catch(() => {});
    await this.nc?.drain().catch(() => {});
  }

  private async ensureStream() {
    const jsm = this.jsm as JetStreamManager;
    const { stream, replicas, ackWaitMs } = this.options;
    const config = {
      name: stream,
      subjects: [`${stream}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window: nanos(120_000),
    };
    await jsm.streams.add(config).catch(async () => jsm.streams.update(stream, config));
    const consumer = {
      durable_name: consumerName,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: -1,
      max_deliver: -1,
    };
    await jsm.consumers.add(stream, consumer);
  }

  private async pump(messages: ConsumerMessages) {
    try {
      for await (const msg of messages) {
        this.buffer.push(msg);
        this.bufferWaiter?.();
      }
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }

  private waitForMessages(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.bufferWaiter === done) self.bufferWaiter = null;
        resolve();
      }
      this.bufferWaiter?.();
      this.bufferWaiter = done;
    });
  }

  /** Publishes ready runs while the stream has room; sleeps until an enqueue commits or a retry is due. */
  private async dispatchLoop() {
    let failures = 0;
    while (!this.stopped) {
      try {
        const more = await this.dispatchOnce();
        failures = 0;
        // Everything ready was published, or the window is full: wait for an enqueue, a settled quarter of the
        // window, or the poll (delayed runs and retries become due by time).
        if (!more) await this.listener.sleep(250);
      } catch (err) {
        failures += 1;
        this.options.onError?.(err as Error);
        await this.listener.sleep(Math.min(5000, 100 * 2 ** failures));
      }
    }
  }

  /** Publishes what fits in the window; true when a full batch went out and the window still has room. */
  private async dispatchOnce(): Promise<boolean> {
    const { stream, windowMessages, redispatchAfterMs, pool } = this.options;
    this.settledSinceDispatch = 0;
    const info = await (this.jsm as JetStreamManager).streams.info(stream);
    const space = windowMessages - info.state.messages;
    const room = Math.min(256, space);
    if (room <= 0) return false;
    const dispatches = await markDispatched(pool, room, this.tenantConcurrency, redispatchAfterMs);
    const js = this.js as JetStreamClient;
    const results = await Promise.allSettled(
      dispatches.map((d) =>
        js.publish(`${stream}.${d.tenantId}`, JSON.stringify({ t: d.tenantId, r: d.runId, s: d.seq }), {
          // A redriven run starts again at sequence 1: its readiness time keeps the id new.
          msgID: `${d.runId}.${d.seq}.${d.readyAt.getTime()}`,
        }),
      ),
    );
    const failed = dispatches.filter((_, i) => results[i]?.status === 'rejected');
    if (failed.length > 0) {
      // Not published: make them eligible again now rather than after redispatchAfterMs.
      await pool.query(
        `update flow_queue q set dispatched_at = null from unnest($1::uuid[], $2::uuid[]) f(tenant_id, run_id)
         where q.tenant_id = f.tenant_id and q.run_id = f.run_id and q.leased_until is null`,
        [failed.map((d) => d.tenantId), failed.map((d) => d.runId)],
      );
      throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    }
    return dispatches.length === room && space > room;
  }
}

function decode(msg: JsMsg): Dispatch | null {
  try {
    const body = msg.json<{ t: string; r: string; s: number }>();
    if (typeof body.t !== 'string' || typeof body.r !== 'string' || typeof body.s !== 'number') return null;
    return { tenantId: body.t, runId: body.r, seq: body.s };
  } catch {
    return null;
  }
}

import { type Pool, type Tx, withEachTenant, withTenant } from '@atrium/db';

export interface BatchWriterOptions<T> {
  pool: Pool;
  /** Writes one tenant's items (one multi-row insert) in a transaction where `app.tenant_id` is that tenant. */
  write(tx: Tx, tenantId: string, items: T[]): Promise<void>;
  /** Longest an item waits before it is written (Default: 200 ms). */
  flushIntervalMs?: number;
  /** A batch this large is written at once (Default: 500). */
  maxBatch?: number;
  /** Items kept while the database is unreachable; beyond it the oldest are dropped and counted (Default: 100000). */
  maxBuffered?: number;
  onError?(err: unknown, items: number): void;
  onDropped?(items: number): void;
}

/**
 * Collects rows off the request path and writes them in batches, grouped by tenant, a flush in one transaction
 * (ADR 0103). A request never waits for the write; what is still buffered when the process dies is lost, which
 * is the price of taking journal and audit inserts off the hot path.
 */
export class BatchWriter<T> {
  private buffer: Array<{ tenantId: string; item: T }> = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly options: Required<Omit<BatchWriterOptions<T>, 'onError' | 'onDropped'>> &
    Pick<BatchWriterOptions<T>, 'onError' | 'onDropped'>;

  constructor(options: BatchWriterOptions<T>) {
    this.options = { flushIntervalMs: 200, maxBatch: 500, maxBuffered: 100_000, ...options };
  }

  get pending(): number {
    return this.buffer.length;
  }

  add(tenantId: string, item: T) {
    this.buffer.push({ tenantId, item });
    if (this.buffer.length > this.options.maxBuffered) {
      const dropped = this.buffer.length - this.options.maxBuffered;
      this.buffer.splice(0, dropped);
      this.options.onDropped?.(dropped);
    }
    if (this.buffer.length >= this.options.maxBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far; resolves when it is stored (or failed and was put back). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.writeAll(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async writeAll(batch: Array<{ tenantId: string; item: T }>) {
    const byTenant = new Map<string, T[]>();
    for (const { tenantId, item } of batch) {
      const items = byTenant.get(tenantId);
      if (items) items.push(item);
      else byTenant.set(tenantId, [item]);
    }
    if (byTenant.size > 1) {
      // Every tenant in one transaction: one commit for the flush instead of one per organization, which bound a
      // flush spread over many organizations to about half the rate (ADR 0103, amendment).
      try {
        await withEachTenant(this.options.pool, byTenant.keys(), (tx, tenantId) =>
          this.options.write(tx, tenantId, byTenant.get(tenantId) as T[]),
        );
        return;
      } catch {
        // One tenant's rows were refused (its organization deleted meanwhile), or the database is away: each
        // tenant on its own, below, so that one cannot hold back the others.
      }
    }
    for (const [tenantId, items] of byTenant) {
      try {
        await withTenant(this.options.pool, tenantId, (tx) => this.options.write(tx, tenantId, items));
      } catch (err) {
        this.options.onError?.(err, items.length);
        // A constraint violation (the organization was deleted meanwhile) will never succeed: drop, don't loop.
        if (String((err as { code?: string }).code ?? '').startsWith('23')) {
          this.options.onDropped?.(items.length);
          continue;
        }
        // Put them back for the next flush; maxBuffered bounds what an outage can hold.
        this.buffer.unshift(...items.map((item) => ({ tenantId, item })));
        if (!this.timer) {
          this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs * 5);
          this.timer.unref();
        }
      }
    }
  }
}

interface Waiter<R> {
  resolve(result: R): void;
  reject(err: unknown): void;
}

interface Group<C, I, R> {
  context: C;
  items: I[];
  waiters: Array<Waiter<R>>;
}

export interface TurnBatcherOptions {
  /** Items in one `send` at most, so one statement or script stays small even when thousands arrive at once. */
  maxBatch: number;
  /**
   * At most one `send` per key at a time (Default: false). Calls that arrive while a key's batch is in flight
   * wait for it and then go together, however many turns they arrived in: a group commit. For work that the
   * server serializes per key anyway (a row lock held until commit), where batches sent side by side would only
   * queue for the lock one flush each.
   */
  oneInFlightPerKey?: boolean;
  /** Told how long each `send` took, in seconds, whether it succeeded or failed: the store's own latency. */
  onSent?: (seconds: number) => void;
}

/**
 * Calls made during one turn of the event loop, grouped by a key and sent together when the turn ends
 * (`setImmediate`). With many clients in flight, a group then costs one round trip and one server-side wake-up
 * instead of one per call. This is how both seat stores send heartbeats, acquires and releases. `send` gets the
 * group's context (from its first call) and its items, and answers with one result per item, in order.
 */
export class TurnBatcher<C, I, R> {
  private groups = new Map<string, Group<C, I, R>>();
  private scheduled = false;
  private readonly send: (context: C, items: I[]) => Promise<R[]>;
  private readonly maxBatch: number;
  private readonly onSent: ((seconds: number) => void) | undefined;
  /** With oneInFlightPerKey: the keys with a batch in flight, and what waits for it to finish. */
  private readonly inFlight: Map<string, Group<C, I, R> | null> | null;

  constructor(send: (context: C, items: I[]) => Promise<R[]>, options: TurnBatcherOptions) {
    this.send = send;
    this.maxBatch = options.maxBatch;
    this.onSent = options.onSent;
    this.inFlight = options.oneInFlightPerKey ? new Map() : null;
  }

  add(key: string, context: C, item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      const group = this.groups.get(key);
      if (group) {
        group.items.push(item);
        group.waiters.push({ resolve, reject });
      } else {
        this.groups.set(key, { context, items: [item], waiters: [{ resolve, reject }] });
      }
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush() {
    const groups = this.groups;
    this.groups = new Map();
    this.scheduled = false;
    for (const [key, group] of groups) {
      if (this.inFlight === null) this.sendAll(group);
      else if (this.inFlight.has(key)) this.hold(key, group);
      else this.sendInTurn(key, group);
    }
  }

  /** The key has a batch in flight: the group joins what already waits for it. */
  private hold(key: string, group: Group<C, I, R>) {
    const inFlight = this.inFlight as Map<string, Group<C, I, R> | null>;
    const waiting = inFlight.get(key);
    if (!waiting) {
      inFlight.set(key, group);
      return;
    }
    waiting.items.push(...group.items);
    waiting.waiters.push(...group.waiters);
  }

  private sendAll({ context, items, waiters }: Group<C, I, R>) {
    if (items.length <= this.maxBatch) {
      void this.sendChunk(context, items, waiters);
      return;
    }
    for (let i = 0; i < items.length; i += this.maxBatch) {
      void this.sendChunk(context, items.slice(i, i + this.maxBatch), waiters.slice(i, i + this.maxBatch));
    }
  }

  /** Sends the first chunk of the key's group; the rest waits for it, then goes in the next call. */
  private sendInTurn(key: string, group: Group<C, I, R>) {
    const inFlight = this.inFlight as Map<string, Group<C, I, R> | null>;
    const items = group.items.splice(0, this.maxBatch);
    const waiters = group.waiters.splice(0, this.maxBatch);
    inFlight.set(key, group.items.length > 0 ? group : null);
    void this.sendChunk(group.context, items, waiters).then(() => {
      const waiting = inFlight.get(key);
      if (waiting) {
        this.sendInTurn(key, waiting);
      } else {
        inFlight.delete(key);
      }
    });
  }

  private async sendChunk(context: C, items: I[], waiters: Array<Waiter<R>>): Promise<void> {
    const started = performance.now();
    let results: R[];
    try {
      results = await this.send(context, items);
      if (results.length !== items.length) throw new Error(`batch answered ${results.length} of ${items.length}`);
    } catch (err) {
      for (const waiter of waiters) waiter.reject(err);
      return;
    } finally {
      // Before any waiter's continuation runs (they are microtasks): the time is the store's alone.
      this.onSent?.((performance.now() - started) / 1000);
    }
    for (let i = 0; i < waiters.length; i++) (waiters[i] as Waiter<R>).resolve(results[i] as R);
  }
}

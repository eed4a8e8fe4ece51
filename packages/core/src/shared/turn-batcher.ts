interface Waiter<R> {
  resolve(result: R): void;
  reject(err: unknown): void;
}

interface Group<C, I, R> {
  context: C;
  items: I[];
  waiters: Array<Waiter<R>>;
}

/**
 * Calls made during one turn of the event loop, grouped by a key and sent together when the turn ends
 * (`setImmediate`). With many clients in flight, a group then costs one round trip and one server-side wake-up
 * instead of one per call. This is how both seat stores send heartbeats. `send` gets the group's context (from
 * its first call) and its items, and answers with one result per item, in order. A group is sent in chunks of at
 * most `maxBatch`, so one statement or script stays small even when thousands of calls arrive in one turn.
 */
export class TurnBatcher<C, I, R> {
  private groups = new Map<string, Group<C, I, R>>();
  private scheduled = false;
  private readonly send: (context: C, items: I[]) => Promise<R[]>;
  private readonly maxBatch: number;

  constructor(send: (context: C, items: I[]) => Promise<R[]>, maxBatch: number) {
    this.send = send;
    this.maxBatch = maxBatch;
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
    for (const { context, items, waiters } of groups.values()) {
      if (items.length <= this.maxBatch) {
        void this.sendChunk(context, items, waiters);
        continue;
      }
      for (let i = 0; i < items.length; i += this.maxBatch) {
        void this.sendChunk(context, items.slice(i, i + this.maxBatch), waiters.slice(i, i + this.maxBatch));
      }
    }
  }

  private async sendChunk(context: C, items: I[], waiters: Array<Waiter<R>>) {
    try {
      const results = await this.send(context, items);
      if (results.length !== items.length) throw new Error(`batch answered ${results.length} of ${items.length}`);
      for (let i = 0; i < waiters.length; i++) (waiters[i] as Waiter<R>).resolve(results[i] as R);
    } catch (err) {
      for (const waiter of waiters) waiter.reject(err);
    }
  }
}

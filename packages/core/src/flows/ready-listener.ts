import pg from 'pg';
import { readyChannel } from './enqueue.ts';

/**
 * LISTEN on the ready channel: wakes sleepers when an enqueue commits. It is a hint, not the source of truth:
 * sleepers wake by time anyway, and a lost connection is re-established in the background.
 */
export class ReadyListener {
  private client: pg.Client | null = null;
  private waiters: Array<() => void> = [];
  /** Work was announced while nobody slept (e.g. during a claim): the next sleep returns at once. */
  private announced = false;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly connectionString: string;
  private readonly onError: (err: Error) => void;

  constructor(connectionString: string, onError: (err: Error) => void = () => {}) {
    this.connectionString = connectionString;
    this.onError = onError;
  }

  async start() {
    await this.listen().catch((err: Error) => this.scheduleReconnect(err));
  }

  /** Resolves after `ms`, or earlier when work is announced or wake() is called. */
  sleep(ms: number): Promise<void> {
    if (this.announced) {
      this.announced = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const waiters = this.waiters;
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        const index = waiters.indexOf(done);
        if (index >= 0) waiters.splice(index, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  wake() {
    if (this.waiters.length === 0) this.announced = true;
    for (const resolve of [...this.waiters]) resolve();
  }

  async stop() {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.wake();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async listen() {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'atrium-flows' });
    client.on('notification', () => this.wake());
    client.on('error', (err) => {
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      this.scheduleReconnect(err);
    });
    await client.connect();
    await client.query(`listen ${readyChannel}`);
    if (this.stopped) await client.end();
    else this.client = client;
  }

  private scheduleReconnect(err: Error) {
    if (this.stopped || this.reconnectTimer) return;
    this.onError(err);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.listen().catch((next: Error) => this.scheduleReconnect(next));
    }, 1000);
  }
}

import { randomUUID } from 'node:crypto';
import { NatsQueue, PostgresQueue, type QueueBackend } from '@atrium/core';
import type { Pool } from '@atrium/db';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

/** What the flows benches share: the machine's PostgreSQL and NATS, and how an Atrium worker's queue is built. */
export const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const natsUrl = process.env.BENCH_NATS_URL ?? '127.0.0.1:4222';

/** An organization to enqueue for, created with the owner's connection (organizations are not tenant rows). */
export async function createBenchOrganization(ownerUrl: string): Promise<string> {
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  const tenantId = randomUUID();
  await owner.query('insert into organizations (id, slug, name) values ($1, $2, $3)', [
    tenantId,
    `bench-${tenantId}`,
    'Bench',
  ]);
  await owner.end();
  return tenantId;
}

/**
 * The queue backend of one Atrium worker as the server builds it; on NATS a stream of its own, which `close`
 * deletes.
 */
export function benchQueue(backend: 'postgres' | 'nats', pool: Pool, appUrl: string, concurrency: number) {
  const stream = `ATRIUM_BENCH_${randomUUID().slice(0, 8).toUpperCase()}`;
  const queue: QueueBackend =
    backend === 'postgres'
      ? new PostgresQueue({ pool, connectionString: appUrl })
      : new NatsQueue({
          pool,
          connectionString: appUrl,
          servers: natsUrl,
          stream,
          windowMessages: 4 * concurrency * 8,
        });
  return {
    queue,
    async close() {
      if (backend !== 'nats') return;
      const nc = await connect({ servers: natsUrl });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
      await nc.close();
    },
  };
}

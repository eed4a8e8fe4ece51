import type { Pool, Tx } from '@atrium/db';
import type { FlowDefinition } from './definition.ts';

/** Records what this worker can run, so the API can list flows and check a flow exists before starting it. */
export async function registerDefinitions(pool: Pool, flows: FlowDefinition[]) {
  if (flows.length === 0) return;
  await pool.query(
    `insert into flow_definitions as d (id, version, events, schedule_cron, schedule_timezone)
     select f.id, f.version, array(select jsonb_array_elements_text(f.events)), f.cron, f.tz
     from unnest($1::text[], $2::int[], $3::jsonb[], $4::text[], $5::text[]) as f(id, version, events, cron, tz)
     on conflict (id) do update set version = excluded.version, events = excluded.events,
       schedule_cron = excluded.schedule_cron, schedule_timezone = excluded.schedule_timezone, updated_at = now()
     where d.version <= excluded.version`,
    [
      flows.map((f) => f.id),
      flows.map((f) => f.version),
      flows.map((f) => JSON.stringify(f.events ?? [])),
      flows.map((f) => f.schedule?.cron ?? null),
      flows.map((f) => (f.schedule ? (f.schedule.timezone ?? 'UTC') : null)),
    ],
  );
}

export interface DefinitionRow {
  id: string;
  version: number;
  events: string[];
  schedule_cron: string | null;
  schedule_timezone: string | null;
  updated_at: Date;
}

export async function listDefinitions(tx: Tx) {
  const { rows } = await tx.query<DefinitionRow>(
    'select id, version, events, schedule_cron, schedule_timezone, updated_at from flow_definitions order by id',
  );
  return rows;
}

export async function findDefinition(tx: Tx, id: string) {
  const { rows } = await tx.query<DefinitionRow>(
    'select id, version, events, schedule_cron, schedule_timezone, updated_at from flow_definitions where id = $1',
    [id],
  );
  return rows[0];
}

export async function flowsForEvent(tx: Tx, event: string) {
  const { rows } = await tx.query<{ id: string }>('select id from flow_definitions where $1 = any(events)', [event]);
  return rows.map((row) => row.id);
}

import { type FlowScheduleView, toPublicId } from '@atrium/contracts';
import type { Pool, Tx } from '@atrium/db';
import { Cron } from 'croner';

export interface ScheduleRow {
  id: string;
  flow_id: string;
  cron: string;
  timezone: string;
  input: unknown;
  paused: boolean;
  next_run_at: Date;
  last_run_at: Date | null;
}

const columns = 'id, flow_id, cron, timezone, input, paused, next_run_at, last_run_at';

export function toSchedule(row: ScheduleRow): FlowScheduleView {
  return {
    id: toPublicId('flowSchedule', row.id),
    flow_id: row.flow_id,
    cron: row.cron,
    timezone: row.timezone,
    paused: row.paused,
    next_run_at: row.next_run_at.toISOString(),
    last_run_at: row.last_run_at ? row.last_run_at.toISOString() : null,
  };
}

/** The next time a cron expression fires after `after`, read in its time zone (croner handles DST). */
export function nextFire(cron: string, timezone: string, after: Date): Date {
  const next = new Cron(cron, { timezone, paused: true }).nextRun(after);
  if (!next) throw new Error(`cron "${cron}" never fires again`);
  return next;
}

export async function listSchedules(tx: Tx, tenantId: string) {
  const { rows } = await tx.query<ScheduleRow>(
    `select ${columns} from flow_schedules where tenant_id = $1 order by flow_id`,
    [tenantId],
  );
  return rows;
}

export async function setPaused(tx: Tx, tenantId: string, id: string, paused: boolean) {
  const { rows } = await tx.query<ScheduleRow>(
    `update flow_schedules set paused = $3 where tenant_id = $1 and id = $2 returning ${columns}`,
    [tenantId, id, paused],
  );
  return rows[0];
}

export async function setNextRun(tx: Tx, tenantId: string, id: string, next: Date, ranAt: Date | null) {
  await tx.query(
    'update flow_schedules set next_run_at = $3, last_run_at = coalesce($4, last_run_at) where tenant_id = $1 and id = $2',
    [tenantId, id, next, ranAt],
  );
}

export async function lockDueSchedule(tx: Tx, tenantId: string, id: string) {
  const { rows } = await tx.query<ScheduleRow>(
    `select ${columns} from flow_schedules where tenant_id = $1 and id = $2 and not paused and next_run_at <= now()
     for update skip locked`,
    [tenantId, id],
  );
  return rows[0];
}

export async function dueSchedules(pool: Pool, max: number) {
  const { rows } = await pool.query<{ tenant_id: string; id: string }>('select * from flow_due_schedules($1)', [max]);
  return rows;
}

export async function ensureSchedules(pool: Pool, flowId: string, cron: string, timezone: string, first: Date) {
  await pool.query('select flow_ensure_schedules($1, $2, $3, $4)', [flowId, cron, timezone, first]);
}

export async function insertSchedule(
  tx: Tx,
  tenantId: string,
  schedule: { id: string; flowId: string; cron: string; timezone: string; input: unknown; next: Date },
) {
  const { rows } = await tx.query<ScheduleRow>(
    `insert into flow_schedules (tenant_id, id, flow_id, cron, timezone, input, next_run_at)
     values ($1, $2, $3, $4, $5, $6, $7) returning ${columns}`,
    [
      tenantId,
      schedule.id,
      schedule.flowId,
      schedule.cron,
      schedule.timezone,
      JSON.stringify(schedule.input),
      schedule.next,
    ],
  );
  return rows[0];
}

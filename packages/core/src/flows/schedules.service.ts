import { type FlowScheduleView, newUuid } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { AtriumError, fromConstraintViolation, notFound } from '../shared/errors.ts';
import * as repository from './schedules.repository.ts';

export async function listSchedules(ctx: TenantContext): Promise<FlowScheduleView[]> {
  const rows = await withTenant(ctx.pool, ctx.tenantId, (tx) => repository.listSchedules(tx, ctx.tenantId));
  return rows.map(repository.toSchedule);
}

/** Pausing stops new firings; resuming fires next at the expression's next time after now (no catch-up). */
export async function setSchedulePaused(ctx: TenantContext, id: string, paused: boolean): Promise<FlowScheduleView> {
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const row = await repository.setPaused(tx, ctx.tenantId, id, paused);
    if (!row) throw notFound('flow schedule');
    if (!paused) {
      row.next_run_at = repository.nextFire(row.cron, row.timezone, new Date());
      await repository.setNextRun(tx, ctx.tenantId, id, row.next_run_at, null);
    }
    const schedule = repository.toSchedule(row);
    await recordAudit(tx, ctx, {
      action: paused ? 'flow_schedule.paused' : 'flow_schedule.resumed',
      resourceType: 'flow_schedule',
      resourceId: schedule.id,
    });
    return schedule;
  });
}

export interface ScheduleInput {
  flow_id: string;
  cron: string;
  timezone?: string | undefined;
  input?: Record<string, unknown> | undefined;
}

/** A tenant's own schedule of a flow (one per flow); the expression and zone are checked before anything is written. */
export async function createSchedule(ctx: TenantContext, body: ScheduleInput): Promise<FlowScheduleView> {
  const timezone = body.timezone ?? 'UTC';
  let next: Date;
  try {
    next = repository.nextFire(body.cron, timezone, new Date());
  } catch (err) {
    throw new AtriumError('validation_failed', 'the cron expression or time zone is not valid', [
      { path: '/cron', message: err instanceof Error ? err.message : String(err) },
    ]);
  }
  try {
    return await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      const row = await repository.insertSchedule(tx, ctx.tenantId, {
        id: newUuid(),
        flowId: body.flow_id,
        cron: body.cron,
        timezone,
        input: body.input ?? {},
        next,
      });
      const schedule = repository.toSchedule(row as repository.ScheduleRow);
      await recordAudit(tx, ctx, {
        action: 'flow_schedule.created',
        resourceType: 'flow_schedule',
        resourceId: schedule.id,
        data: { flow_id: body.flow_id, cron: body.cron, timezone },
      });
      return schedule;
    });
  } catch (err) {
    throw fromConstraintViolation(err, {
      flow_schedules_flow_key: new AtriumError('conflict', 'this flow already has a schedule in this organization'),
    });
  }
}

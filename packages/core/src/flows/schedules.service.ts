import type { FlowScheduleView } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { notFound } from '../shared/errors.ts';
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

import { defineFlow } from '../definition.ts';

/**
 * Finished runs are kept for `retentionDays` (ATRIUM_FLOW_RETENTION_DAYS), then deleted with their steps and
 * attempts (cascade), daily per organization: unbounded retention of finished jobs is a common complaint about
 * job queues. Dead runs are kept until redriven or the same age, so they can still be inspected.
 */
export function retentionFlow(retentionDays: number) {
  return defineFlow<{ scheduled_for?: string }>({
    id: 'flows.retention',
    version: 1,
    schedule: { cron: '30 3 * * *', timezone: 'UTC' },
    run: (ctx) =>
      ctx.withTenant(async (tx) => {
        const { rowCount } = await tx.query(
          `delete from flow_runs where tenant_id = $1
             and status in ('succeeded', 'cancelled', 'dead', 'timed_out')
             and finished_at < now() - make_interval(days => $2)`,
          [ctx.tenantId, retentionDays],
        );
        return { deleted: rowCount ?? 0 };
      }),
  });
}

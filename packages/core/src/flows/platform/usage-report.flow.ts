import type { Tx } from '@atrium/db';
import { defineFlow } from '../definition.ts';

/** What a day's report counts, per organization: activity recorded in the tenant's own tables. */
async function measure(tx: Tx, tenantId: string, day: string) {
  const { rows } = await tx.query<{ metric: string; value: number }>(
    `select 'audit_events' as metric, count(*)::int as value from audit_logs
       where tenant_id = $1 and occurred_at >= $2::date and occurred_at < $2::date + 1
     union all
     select 'flow_runs_finished', count(*)::int from flow_runs
       where tenant_id = $1 and finished_at >= $2::date and finished_at < $2::date + 1
     union all
     select 'workspaces', count(*)::int from workspaces where tenant_id = $1
     union all
     select 'projects', count(*)::int from projects where tenant_id = $1`,
    [tenantId, day],
  );
  return rows;
}

/** The previous day's usage per organization, stored (idempotent per day) and downloadable as CSV. */
export const usageReportFlow = defineFlow<{ scheduled_for?: string; day?: string }>({
  id: 'usage.daily-report',
  version: 1,
  schedule: { cron: '0 1 * * *', timezone: 'UTC' },
  run: (ctx) => {
    const at = new Date(ctx.input.scheduled_for ?? Date.now());
    const day = ctx.input.day ?? new Date(at.getTime() - 86_400_000).toISOString().slice(0, 10);
    return ctx.transactionalStep('store', async (tx) => {
      const rows = await measure(tx, ctx.tenantId, day);
      await tx.query(
        `insert into usage_reports (tenant_id, id, day, rows) values ($1, gen_random_uuid(), $2, $3)
         on conflict (tenant_id, day) do update set rows = excluded.rows, created_at = now()`,
        [ctx.tenantId, day, JSON.stringify(rows)],
      );
      return { day, metrics: rows.length };
    });
  },
});

export function toCsv(rows: Array<{ day: string; metric: string; value: number }>) {
  const quoteCsv = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = rows.map((row) => `${row.day},${quoteCsv(row.metric)},${row.value}`);
  return `${['day,metric,value', ...lines].join('\n')}\n`;
}

import { toPublicId } from '@atrium/contracts';
import { AtriumError } from '@atrium/core';
import { createPool } from '@atrium/db';
import type { Config } from './config.ts';

/** An organization's flow limits; null: the process-wide default applies. */
export interface FlowLimits {
  concurrency: number | null;
  queueQuota: number | null;
}

/** What to change: a number sets a limit, null returns it to the default, undefined leaves it as it is. */
export type FlowLimitsChange = { [K in keyof FlowLimits]?: FlowLimits[K] };

/**
 * `atrium flows limits`: reads or sets one organization's override of ATRIUM_FLOW_TENANT_CONCURRENCY and
 * ATRIUM_FLOW_TENANT_QUEUE_QUOTA (flow_tenant_limits, docs/flows.md). The runtime role may only read that table,
 * so an organization can never raise its own limits: this runs as the owner role (DATABASE_URL). Workers and the
 * API read the limit in the statement that applies it, so a change holds from the next claim or enqueue on.
 */
export async function flowLimits(
  config: Config,
  ownerUrl: string,
  tenantId: string,
  change: FlowLimitsChange,
  print: (line: string) => void,
): Promise<FlowLimits> {
  const pool = createPool({ connectionString: ownerUrl, max: 1, applicationName: 'atrium-flow-limits' });
  try {
    const organization = await pool.query('select 1 from organizations where id = $1', [tenantId]);
    if (organization.rowCount === 0) {
      throw new AtriumError('not_found', `no organization ${toPublicId('organization', tenantId)}`);
    }
    const setConcurrency = change.concurrency !== undefined;
    const setQuota = change.queueQuota !== undefined;
    const { rows } = await pool.query<{ concurrency: number | null; queue_quota: number | null }>(
      setConcurrency || setQuota
        ? `insert into flow_tenant_limits as l (tenant_id, concurrency, queue_quota) values ($1, $2, $3)
           on conflict (tenant_id) do update set
             concurrency = case when $4 then excluded.concurrency else l.concurrency end,
             queue_quota = case when $5 then excluded.queue_quota else l.queue_quota end,
             updated_at = now()
           returning concurrency, queue_quota`
        : 'select concurrency, queue_quota from flow_tenant_limits where tenant_id = $1',
      setConcurrency || setQuota
        ? [tenantId, change.concurrency ?? null, change.queueQuota ?? null, setConcurrency, setQuota]
        : [tenantId],
    );
    const limits = { concurrency: rows[0]?.concurrency ?? null, queueQuota: rows[0]?.queue_quota ?? null };
    const shown = (value: number | null, fallback: number) =>
      value === null ? `default (${fallback})` : `${value} (default ${fallback})`;
    print(
      `${toPublicId('organization', tenantId)}: concurrency ${shown(limits.concurrency, config.flowTenantConcurrency)}, ` +
        `queue quota ${shown(limits.queueQuota, config.flowTenantQueueQuota)}`,
    );
    return limits;
  } finally {
    await pool.end();
  }
}

import { type DailyUsageReport, type FlowRun, newUuid, type OrganizationExport, toPublicId } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { recordAudit } from '../../shared/audit.ts';
import type { TenantContext } from '../../shared/context.ts';
import { AtriumError, notFound } from '../../shared/errors.ts';
import { enqueue } from '../enqueue.ts';
import { findRun, toFlowRun } from '../runs.repository.ts';
import { toCsv } from './usage-report.flow.ts';

interface ReportRow {
  id: string;
  day: Date | string;
  rows: Array<{ metric: string; value: number }>;
  created_at: Date;
}

const dayOf = (day: Date | string) => (typeof day === 'string' ? day : day.toISOString().slice(0, 10));

export async function listDailyUsageReports(ctx: TenantContext): Promise<DailyUsageReport[]> {
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<ReportRow>(
      `select id, to_char(day, 'YYYY-MM-DD') as day, rows, created_at from usage_reports
       where tenant_id = $1 order by day desc limit 100`,
      [ctx.tenantId],
    ),
  );
  return rows.map((row) => ({
    id: toPublicId('usageReport', row.id),
    day: dayOf(row.day),
    rows: row.rows,
    created_at: row.created_at.toISOString(),
  }));
}

export async function usageReportCsv(ctx: TenantContext, from: string, to: string): Promise<string> {
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<ReportRow>(
      `select to_char(day, 'YYYY-MM-DD') as day, rows from usage_reports
       where tenant_id = $1 and day between $2::date and $3::date order by day`,
      [ctx.tenantId, from, to],
    ),
  );
  return toCsv(rows.flatMap((report) => report.rows.map((row) => ({ day: dayOf(report.day), ...row }))));
}

interface ExportRow {
  id: string;
  run_id: string | null;
  status: 'pending' | 'ready';
  created_at: Date;
}

const toExport = (row: ExportRow): OrganizationExport => ({
  id: toPublicId('organizationExport', row.id),
  status: row.status,
  run_id: row.run_id ? toPublicId('flowRun', row.run_id) : null,
  created_at: row.created_at.toISOString(),
});

/** A GDPR export: the archive is built by the organization.export flow; poll the export until it is ready. */
export async function requestExport(ctx: TenantContext): Promise<OrganizationExport> {
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const id = newUuid();
    const { runId } = await enqueue(
      tx,
      'organization.export',
      { export_id: id },
      {
        tenantId: ctx.tenantId,
        trigger: 'api',
      },
    );
    const { rows } = await tx.query<ExportRow>(
      `insert into organization_exports (tenant_id, id, run_id) values ($1, $2, $3)
       returning id, run_id, status, created_at`,
      [ctx.tenantId, id, runId],
    );
    const created = toExport(rows[0] as ExportRow);
    await recordAudit(tx, ctx, {
      action: 'organization.export_requested',
      resourceType: 'organization_export',
      resourceId: created.id,
    });
    return created;
  });
}

export async function getExport(ctx: TenantContext, id: string): Promise<OrganizationExport> {
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<ExportRow>(
      'select id, run_id, status, created_at from organization_exports where tenant_id = $1 and id = $2',
      [ctx.tenantId, id],
    ),
  );
  if (!rows[0]) throw notFound('organization export');
  return toExport(rows[0]);
}

export async function exportArchive(ctx: TenantContext, id: string): Promise<unknown> {
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<{ status: string; archive: unknown }>(
      'select status, archive from organization_exports where tenant_id = $1 and id = $2',
      [ctx.tenantId, id],
    ),
  );
  const row = rows[0];
  if (!row) throw notFound('organization export');
  if (row.status !== 'ready') throw new AtriumError('flow_run_state', 'the export is still being prepared');
  return row.archive;
}

/** Deletes the organization after `delaySeconds`; cancelling the returned run keeps it. */
export async function scheduleDeletion(ctx: TenantContext, delaySeconds: number): Promise<FlowRun> {
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const { runId } = await enqueue(
      tx,
      'organization.delete',
      {},
      {
        tenantId: ctx.tenantId,
        runAt: new Date(Date.now() + delaySeconds * 1000),
        trigger: 'api',
      },
    );
    const row = await findRun(tx, ctx.tenantId, runId);
    if (!row) throw new Error('the deletion run just enqueued is missing');
    const run = toFlowRun(row);
    await recordAudit(tx, ctx, {
      action: 'organization.deletion_scheduled',
      resourceType: 'flow_run',
      resourceId: run.id,
      data: { run_at: run.run_at },
    });
    return run;
  });
}

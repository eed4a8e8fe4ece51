import type { Flow, FlowRun, FlowRunDetail } from '@atrium/contracts';
import { type Tx, withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { AtriumError, notFound } from '../shared/errors.ts';
import { idempotent, type Stored } from '../shared/idempotency.ts';
import { decodeCursor, type Page, type PageRequest, toPage } from '../shared/pagination.ts';
import { findDefinition, flowsForEvent, listDefinitions } from './definitions.repository.ts';
import { enqueue } from './enqueue.ts';
import * as repository from './runs.repository.ts';

export async function listFlows(ctx: TenantContext): Promise<Flow[]> {
  const rows = await withTenant(ctx.pool, ctx.tenantId, (tx) => listDefinitions(tx));
  return rows.map((row) => ({
    id: row.id,
    version: row.version,
    events: row.events,
    schedule: row.schedule_cron ? { cron: row.schedule_cron, timezone: row.schedule_timezone ?? 'UTC' } : null,
  }));
}

export interface StartRunInput {
  input?: Record<string, unknown> | undefined;
  priority?: number | undefined;
  run_at?: string | undefined;
}

/** Starts a run through the API; the Idempotency-Key makes a retried request return the same run. */
export async function startRun(
  ctx: TenantContext,
  flowId: string,
  body: StartRunInput,
  options: { idempotencyKey?: string | undefined; queueQuota?: number | undefined } = {},
): Promise<Stored<FlowRun>> {
  const key = options.idempotencyKey;
  const request = key ? { key, operation: `flows.start:${flowId}`, payload: body } : undefined;
  return withTenant(ctx.pool, ctx.tenantId, (tx) =>
    idempotent(tx, ctx.tenantId, request, async () => {
      if (!(await findDefinition(tx, flowId))) throw notFound('flow');
      const { runId } = await enqueue(tx, flowId, body.input ?? {}, {
        tenantId: ctx.tenantId,
        idempotencyKey: key,
        priority: body.priority,
        runAt: body.run_at ? new Date(body.run_at) : undefined,
        trigger: 'api',
        queueQuota: options.queueQuota,
      });
      const row = await repository.findRun(tx, ctx.tenantId, runId);
      if (!row) throw new Error('the run just enqueued is missing');
      const run = repository.toFlowRun(row);
      await recordAudit(tx, ctx, {
        action: 'flow_run.started',
        resourceType: 'flow_run',
        resourceId: run.id,
        data: { flow_id: flowId },
      });
      return { status: 201, body: run };
    }),
  );
}

/** Starts one run of every flow that listens to `event`, in the caller's transaction. */
export async function emitEvent(tx: Tx, event: string, payload: unknown, options: { tenantId: string; id: string }) {
  const flows = await flowsForEvent(tx, event);
  for (const flowId of flows) {
    await enqueue(tx, flowId, payload, {
      tenantId: options.tenantId,
      idempotencyKey: `event:${event}:${options.id}`,
      trigger: 'event',
    });
  }
  return flows.length;
}

export async function getRun(ctx: TenantContext, id: string): Promise<FlowRunDetail> {
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const row = await repository.findRun(tx, ctx.tenantId, id);
    if (!row) throw notFound('flow run');
    return repository.runDetail(tx, ctx.tenantId, row);
  });
}

export async function listRuns(
  ctx: TenantContext,
  filter: { flowId?: string | undefined; status?: string | undefined },
  page: PageRequest,
): Promise<Page<FlowRun>> {
  const after = decodeCursor(page.cursor);
  const rows = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    repository.listRuns(tx, ctx.tenantId, filter, after, page.limit),
  );
  return toPage(rows, page.limit, repository.toFlowRun);
}

export async function cancelRun(ctx: TenantContext, id: string): Promise<FlowRun> {
  return changeRun(ctx, id, 'cancel', repository.cancelRun, 'only a queued or running run can be cancelled');
}

export async function redriveRun(ctx: TenantContext, id: string): Promise<FlowRun> {
  return changeRun(ctx, id, 'redrive', repository.redriveRun, 'only a dead or timed-out run can be redriven');
}

async function changeRun(
  ctx: TenantContext,
  id: string,
  action: string,
  change: (tx: Tx, tenantId: string, id: string) => Promise<repository.RunRow | undefined>,
  refusal: string,
) {
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const row = await change(tx, ctx.tenantId, id);
    if (!row) {
      const existing = await repository.findRun(tx, ctx.tenantId, id);
      if (!existing) throw notFound('flow run');
      throw new AtriumError('flow_run_state', `${refusal}; this one is ${existing.status}`);
    }
    const run = repository.toFlowRun(row);
    await recordAudit(tx, ctx, { action: `flow_run.${action}`, resourceType: 'flow_run', resourceId: run.id });
    return run;
  });
}

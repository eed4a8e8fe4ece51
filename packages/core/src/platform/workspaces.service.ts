import { newUuid, toPublicId, type Workspace } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { AtriumError, fromConstraintViolation, notFound } from '../shared/errors.ts';
import { idempotent, type Stored } from '../shared/idempotency.ts';
import { decodeCursor, type Page, type PageRequest, toPage } from '../shared/pagination.ts';
import * as repository from './workspaces.repository.ts';

const constraintErrors = {
  workspaces_name_key: new AtriumError('conflict', 'a workspace with this name already exists'),
  projects_workspace_fkey: new AtriumError(
    'resource_in_use',
    'the workspace still has projects; delete or move them first',
  ),
};

export interface WorkspaceInput {
  name: string;
  description?: string | null | undefined;
}

export async function createWorkspace(
  ctx: TenantContext,
  input: WorkspaceInput,
  idempotencyKey?: string,
): Promise<Stored<Workspace>> {
  const request = idempotencyKey ? { key: idempotencyKey, operation: 'workspaces.create', payload: input } : undefined;
  try {
    return await withTenant(ctx.pool, ctx.tenantId, (tx) =>
      idempotent(tx, ctx.tenantId, request, async () => {
        const row = await repository.insertWorkspace(tx, ctx.tenantId, {
          id: newUuid(),
          name: input.name,
          description: input.description ?? null,
        });
        if (!row) throw new Error('insert returned no row');
        const workspace = repository.toWorkspace(row);
        await recordAudit(tx, ctx, {
          action: 'workspace.created',
          resourceType: 'workspace',
          resourceId: workspace.id,
          data: { name: input.name },
        });
        return { status: 201, body: workspace };
      }),
    );
  } catch (err) {
    throw fromConstraintViolation(err, constraintErrors);
  }
}

export async function getWorkspace(ctx: TenantContext, id: string): Promise<Workspace> {
  const row = await withTenant(ctx.pool, ctx.tenantId, (tx) => repository.findWorkspace(tx, ctx.tenantId, id));
  if (!row) throw notFound('workspace');
  return repository.toWorkspace(row);
}

export async function listWorkspaces(ctx: TenantContext, page: PageRequest): Promise<Page<Workspace>> {
  const after = decodeCursor(page.cursor);
  const rows = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    repository.listWorkspaces(tx, ctx.tenantId, after, page.limit),
  );
  return toPage(rows, page.limit, repository.toWorkspace);
}

export async function updateWorkspace(
  ctx: TenantContext,
  id: string,
  patch: Partial<WorkspaceInput>,
): Promise<Workspace> {
  try {
    return await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      const row = await repository.updateWorkspace(tx, ctx.tenantId, id, patch);
      if (!row) throw notFound('workspace');
      const workspace = repository.toWorkspace(row);
      await recordAudit(tx, ctx, {
        action: 'workspace.updated',
        resourceType: 'workspace',
        resourceId: workspace.id,
        data: { changes: patch },
      });
      return workspace;
    });
  } catch (err) {
    throw fromConstraintViolation(err, constraintErrors);
  }
}

export async function deleteWorkspace(ctx: TenantContext, id: string): Promise<void> {
  try {
    await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      if (!(await repository.deleteWorkspace(tx, ctx.tenantId, id))) throw notFound('workspace');
      await recordAudit(tx, ctx, {
        action: 'workspace.deleted',
        resourceType: 'workspace',
        resourceId: toPublicId('workspace', id),
      });
    });
  } catch (err) {
    throw fromConstraintViolation(err, constraintErrors);
  }
}

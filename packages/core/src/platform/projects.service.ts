import { newUuid, type Project, toPublicId } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { AtriumError, fromConstraintViolation, notFound } from '../shared/errors.ts';
import { idempotent, type Stored } from '../shared/idempotency.ts';
import { decodeCursor, type Page, type PageRequest, toPage } from '../shared/pagination.ts';
import * as repository from './projects.repository.ts';

const constraintErrors = {
  projects_name_key: new AtriumError('conflict', 'a project with this name already exists in the workspace'),
  // The foreign key includes tenant_id, so another tenant's workspace id fails exactly like an unknown one.
  projects_workspace_fkey: new AtriumError('not_found', 'workspace was not found'),
};

export interface CreateProjectInput {
  workspaceId: string;
  name: string;
  description?: string | null | undefined;
}

export async function createProject(
  ctx: TenantContext,
  input: CreateProjectInput,
  idempotencyKey?: string,
): Promise<Stored<Project>> {
  const request = idempotencyKey ? { key: idempotencyKey, operation: 'projects.create', payload: input } : undefined;
  try {
    return await withTenant(ctx.pool, ctx.tenantId, (tx) =>
      idempotent(tx, ctx.tenantId, request, async () => {
        const row = await repository.insertProject(tx, ctx.tenantId, {
          id: newUuid(),
          workspaceId: input.workspaceId,
          name: input.name,
          description: input.description ?? null,
        });
        if (!row) throw new Error('insert returned no row');
        const project = repository.toProject(row);
        await recordAudit(tx, ctx, {
          action: 'project.created',
          resourceType: 'project',
          resourceId: project.id,
          data: { name: input.name, workspace_id: project.workspace_id },
        });
        return { status: 201, body: project };
      }),
    );
  } catch (err) {
    throw fromConstraintViolation(err, constraintErrors);
  }
}

export async function getProject(ctx: TenantContext, id: string): Promise<Project> {
  const row = await withTenant(ctx.pool, ctx.tenantId, (tx) => repository.findProject(tx, ctx.tenantId, id));
  if (!row) throw notFound('project');
  return repository.toProject(row);
}

export async function listProjects(
  ctx: TenantContext,
  filter: { workspaceId: string | null },
  page: PageRequest,
): Promise<Page<Project>> {
  const after = decodeCursor(page.cursor);
  const rows = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    repository.listProjects(tx, ctx.tenantId, filter, after, page.limit),
  );
  return toPage(rows, page.limit, repository.toProject);
}

export async function updateProject(
  ctx: TenantContext,
  id: string,
  patch: { name?: string | undefined; description?: string | null | undefined },
): Promise<Project> {
  try {
    return await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      const row = await repository.updateProject(tx, ctx.tenantId, id, patch);
      if (!row) throw notFound('project');
      const project = repository.toProject(row);
      await recordAudit(tx, ctx, {
        action: 'project.updated',
        resourceType: 'project',
        resourceId: project.id,
        data: { changes: patch },
      });
      return project;
    });
  } catch (err) {
    throw fromConstraintViolation(err, constraintErrors);
  }
}

export async function deleteProject(ctx: TenantContext, id: string): Promise<void> {
  await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    if (!(await repository.deleteProject(tx, ctx.tenantId, id))) throw notFound('project');
    await recordAudit(tx, ctx, {
      action: 'project.deleted',
      resourceType: 'project',
      resourceId: toPublicId('project', id),
    });
  });
}

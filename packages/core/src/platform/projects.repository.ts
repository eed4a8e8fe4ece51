import { type Project, toPublicId } from '@atrium/contracts';
import type { Tx } from '@atrium/db';

interface ProjectRow {
  id: string;
  workspace_id: string;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

const columns = 'id, workspace_id, name, description, created_at, updated_at';

export function toProject(row: ProjectRow): Project {
  return {
    id: toPublicId('project', row.id),
    workspace_id: toPublicId('workspace', row.workspace_id),
    name: row.name,
    description: row.description,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export async function insertProject(
  tx: Tx,
  tenantId: string,
  row: { id: string; workspaceId: string; name: string; description: string | null },
) {
  const { rows } = await tx.query<ProjectRow>(
    `insert into projects (tenant_id, id, workspace_id, name, description) values ($1, $2, $3, $4, $5)
     returning ${columns}`,
    [tenantId, row.id, row.workspaceId, row.name, row.description],
  );
  return rows[0];
}

export async function findProject(tx: Tx, tenantId: string, id: string) {
  const { rows } = await tx.query<ProjectRow>(`select ${columns} from projects where tenant_id = $1 and id = $2`, [
    tenantId,
    id,
  ]);
  return rows[0];
}

export async function listProjects(
  tx: Tx,
  tenantId: string,
  filter: { workspaceId: string | null },
  after: string | null,
  limit: number,
) {
  const { rows } = await tx.query<ProjectRow>(
    `select ${columns} from projects
     where tenant_id = $1 and ($2::uuid is null or workspace_id = $2) and ($3::uuid is null or id < $3)
     order by id desc limit $4`,
    [tenantId, filter.workspaceId, after, limit + 1],
  );
  return rows;
}

export async function updateProject(
  tx: Tx,
  tenantId: string,
  id: string,
  patch: { name?: string | undefined; description?: string | null | undefined },
) {
  const { rows } = await tx.query<ProjectRow>(
    `update projects set name = coalesce($3, name),
       description = case when $4 then $5 else description end, updated_at = now()
     where tenant_id = $1 and id = $2 returning ${columns}`,
    [tenantId, id, patch.name ?? null, patch.description !== undefined, patch.description ?? null],
  );
  return rows[0];
}

export async function deleteProject(tx: Tx, tenantId: string, id: string) {
  const { rowCount } = await tx.query('delete from projects where tenant_id = $1 and id = $2', [tenantId, id]);
  return rowCount === 1;
}

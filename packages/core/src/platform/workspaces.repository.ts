import { toPublicId, type Workspace } from '@atrium/contracts';
import type { Tx } from '@atrium/db';

interface WorkspaceRow {
  id: string;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

const columns = 'id, name, description, created_at, updated_at';

export function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: toPublicId('workspace', row.id),
    name: row.name,
    description: row.description,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export async function insertWorkspace(
  tx: Tx,
  tenantId: string,
  row: { id: string; name: string; description: string | null },
) {
  const { rows } = await tx.query<WorkspaceRow>(
    `insert into workspaces (tenant_id, id, name, description) values ($1, $2, $3, $4) returning ${columns}`,
    [tenantId, row.id, row.name, row.description],
  );
  return rows[0];
}

export async function findWorkspace(tx: Tx, tenantId: string, id: string) {
  const { rows } = await tx.query<WorkspaceRow>(`select ${columns} from workspaces where tenant_id = $1 and id = $2`, [
    tenantId,
    id,
  ]);
  return rows[0];
}

export async function listWorkspaces(tx: Tx, tenantId: string, after: string | null, limit: number) {
  const { rows } = await tx.query<WorkspaceRow>(
    `select ${columns} from workspaces where tenant_id = $1 and ($2::uuid is null or id < $2)
     order by id desc limit $3`,
    [tenantId, after, limit + 1],
  );
  return rows;
}

/** `description` may be set to null on purpose, so "not given" is passed as a separate flag. */
export async function updateWorkspace(
  tx: Tx,
  tenantId: string,
  id: string,
  patch: { name?: string | undefined; description?: string | null | undefined },
) {
  const { rows } = await tx.query<WorkspaceRow>(
    `update workspaces set name = coalesce($3, name),
       description = case when $4 then $5 else description end, updated_at = now()
     where tenant_id = $1 and id = $2 returning ${columns}`,
    [tenantId, id, patch.name ?? null, patch.description !== undefined, patch.description ?? null],
  );
  return rows[0];
}

export async function deleteWorkspace(tx: Tx, tenantId: string, id: string) {
  const { rowCount } = await tx.query('delete from workspaces where tenant_id = $1 and id = $2', [tenantId, id]);
  return rowCount === 1;
}

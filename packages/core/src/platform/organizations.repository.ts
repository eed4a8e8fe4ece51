import { type Organization, toPublicId } from '@atrium/contracts';
import type { Tx } from '@atrium/db';

interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
  updated_at: Date;
}

const columns = 'id, slug, name, created_at, updated_at';

export function toOrganization(row: OrganizationRow): Organization {
  return {
    id: toPublicId('organization', row.id),
    slug: row.slug,
    name: row.name,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export async function insertOrganization(tx: Tx, row: { id: string; slug: string; name: string }) {
  const { rows } = await tx.query<OrganizationRow>(
    `insert into organizations (id, slug, name) values ($1, $2, $3) returning ${columns}`,
    [row.id, row.slug, row.name],
  );
  return rows[0];
}

export async function findOrganization(tx: Tx, id: string) {
  const { rows } = await tx.query<OrganizationRow>(`select ${columns} from organizations where id = $1`, [id]);
  return rows[0];
}

/** Row-level security shows a caller only the organization of its tenant context. */
export async function listOrganizations(tx: Tx, after: string | null, limit: number) {
  const { rows } = await tx.query<OrganizationRow>(
    `select ${columns} from organizations where ($1::uuid is null or id < $1) order by id desc limit $2`,
    [after, limit + 1],
  );
  return rows;
}

export async function updateOrganization(tx: Tx, id: string, patch: { slug?: string; name?: string }) {
  const { rows } = await tx.query<OrganizationRow>(
    `update organizations set slug = coalesce($2, slug), name = coalesce($3, name), updated_at = now()
     where id = $1 returning ${columns}`,
    [id, patch.slug ?? null, patch.name ?? null],
  );
  return rows[0];
}

export async function deleteOrganization(tx: Tx, id: string) {
  const { rowCount } = await tx.query('delete from organizations where id = $1', [id]);
  return rowCount === 1;
}

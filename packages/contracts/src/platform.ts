import Type, { type Static } from 'typebox';
import { Description, Name, PublicId, Slug, Timestamp } from './common.ts';

export const Organization = Type.Object({
  id: PublicId('organization'),
  slug: Slug,
  name: Name,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Organization = Static<typeof Organization>;

export const CreateOrganization = Type.Object(
  { name: Name, slug: Type.Optional(Slug) },
  { additionalProperties: false },
);
export const UpdateOrganization = Type.Object(
  { name: Type.Optional(Name), slug: Type.Optional(Slug) },
  { additionalProperties: false, minProperties: 1, examples: [{ name: 'Renamed organization' }] },
);

export const Workspace = Type.Object({
  id: PublicId('workspace'),
  name: Name,
  description: Description,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Workspace = Static<typeof Workspace>;

export const CreateWorkspace = Type.Object(
  { name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export const UpdateWorkspace = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description) },
  { additionalProperties: false, minProperties: 1, examples: [{ name: 'Renamed workspace' }] },
);

export const Project = Type.Object({
  id: PublicId('project'),
  workspace_id: PublicId('workspace'),
  name: Name,
  description: Description,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Project = Static<typeof Project>;

export const CreateProject = Type.Object(
  { workspace_id: PublicId('workspace'), name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export const UpdateProject = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description) },
  { additionalProperties: false, minProperties: 1, examples: [{ description: 'Changed by someone' }] },
);

export const AuditLog = Type.Object({
  id: PublicId('auditLog'),
  occurred_at: Timestamp,
  actor: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  action: Type.String(),
  resource: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  request_id: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditLog = Static<typeof AuditLog>;

export const AuditLogQuery = {
  action: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z_.]+$' })),
  resource_type: Type.Optional(Type.String({ maxLength: 50, pattern: '^[a-z_]+$' })),
  resource_id: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z]+_[0-9a-f]{32}$' })),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
};

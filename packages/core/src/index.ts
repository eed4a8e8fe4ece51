export * as auditLogs from './platform/audit-logs.service.ts';
export * as organizations from './platform/organizations.service.ts';
export * as projects from './platform/projects.service.ts';
export * as workspaces from './platform/workspaces.service.ts';
export { type AuditEvent, recordAudit } from './shared/audit.ts';
export type { Actor, ActorType, TenantContext } from './shared/context.ts';
export { AtriumError, type FieldError, notFound } from './shared/errors.ts';
export type { Stored } from './shared/idempotency.ts';
export type { Page, PageRequest } from './shared/pagination.ts';

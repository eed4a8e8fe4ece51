export * from './flows/index.ts';
export { type AccessClaims, AccessTokens } from './identity/access-tokens.ts';
export * as apiKeys from './identity/api-keys.service.ts';
export { atLeast, type EmailEnqueuer, type IdentityDeps, type Role, roleOrder } from './identity/identity.ts';
export * as members from './identity/members.service.ts';
export * as mfa from './identity/mfa.service.ts';
export { OidcSignIn, type TrustedIssuer } from './identity/oidc.service.ts';
export { SecretBox } from './identity/secrets.ts';
export * as sessions from './identity/sessions.service.ts';
export * as licenseAnalytics from './licensing/analytics.service.ts';
export type { JournalEntry } from './licensing/journal.repository.ts';
export { fromSessionHandle, generateLicenseKey, hashLicenseKey, toSessionHandle } from './licensing/keys.ts';
export type { LeaseService, LicenseCaller, LicensingObserver } from './licensing/leases.service.ts';
export type { LicenseAdmin } from './licensing/licenses.service.ts';
export {
  createLicensing,
  createSeatReconciler,
  type Licensing,
  type LicensingOptions,
} from './licensing/licensing.ts';
export {
  type AwsKmsClient,
  type AwsKmsCommands,
  AwsKmsRootSigner,
  type GcpKmsClient,
  GcpKmsRootSigner,
} from './licensing/root-signer.kms.ts';
export { LocalRootSigner, type RootSigner } from './licensing/root-signer.ts';
export {
  type LicenseReconciliation,
  type ReconcileScope,
  SeatReconciler,
} from './licensing/seat-reconcile.service.ts';
export { PostgresSeatStore } from './licensing/seat-store.postgres.ts';
export { type OpenLeases, RedisSeatStore } from './licensing/seat-store.redis.ts';
export type { AcquireOutcome, Lease, LicenseRef, SeatStore } from './licensing/seat-store.ts';
export { type SigningAlgorithm, SigningKeyRing } from './licensing/signing-keys.ts';
export * as auditLogs from './platform/audit-logs.service.ts';
export * as organizations from './platform/organizations.service.ts';
export * as projects from './platform/projects.service.ts';
export * as workspaces from './platform/workspaces.service.ts';
export { type AuditEvent, recordAudit } from './shared/audit.ts';
export { BatchWriter } from './shared/batch-writer.ts';
export type { Actor, ActorType, TenantContext } from './shared/context.ts';
export { AtriumError, type FieldError, notFound } from './shared/errors.ts';
export type { Stored } from './shared/idempotency.ts';
export type { Page, PageRequest } from './shared/pagination.ts';
export type { RedisClient } from './shared/redis.ts';

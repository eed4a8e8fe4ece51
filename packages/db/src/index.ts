export { appliedVersion, loadMigrations, type MigrationResult, migrate, migrationsDir } from './migrate.ts';
export {
  createPool,
  isConnectionError,
  type Pool,
  type PoolClient,
  type PoolOptions,
  withCredentials,
} from './pool.ts';
export {
  InvalidTenantError,
  type TenantTransactionOptions,
  type Tx,
  tenantStatementInOneRoundTrip,
  uuidLiteral,
  withEachTenant,
  withoutTenant,
  withTenant,
  withUser,
} from './tenant.ts';

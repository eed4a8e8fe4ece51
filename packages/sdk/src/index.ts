export { defaultFingerprint } from './fingerprint.ts';
export {
  LicenseApiError,
  LicenseClient,
  type LicenseClientEvents,
  type LicenseClientOptions,
} from './license-client.ts';
export type {
  AcquireResponse,
  HeartbeatResponse,
  LeaseView,
  LicenseStatus,
  LicenseTokenClaims,
  Seats,
} from './types.ts';
export { TokenVerificationError, type VerifyOptions, verifyLicenseToken } from './verify.ts';

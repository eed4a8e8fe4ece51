import type { LicensePolicy } from '@atrium/contracts';
import { AtriumError } from '../shared/errors.ts';

export interface PolicyInput {
  mode?: 'floating' | 'node_locked' | undefined;
  session_ttl_seconds?: number | undefined;
  heartbeat_interval_seconds?: number | undefined;
  grace_seconds?: number | undefined;
  max_fingerprints?: number | null | undefined;
  token_ttl_seconds?: number | undefined;
}

/** DESIGN.md §1: a 6-minute TTL with a heartbeat every TTL/3, so one missed beat never costs the seat. */
export const defaultSessionTtlSeconds = 360;
export const defaultTokenTtlSeconds = 86_400;

/**
 * Fills the defaults in and checks what a schema cannot: the heartbeat must come well inside the TTL. When the
 * TTL changes and the interval is not given, the interval follows the new TTL.
 */
export function resolvePolicy(input: PolicyInput | undefined, current?: LicensePolicy): LicensePolicy {
  const ttl = input?.session_ttl_seconds ?? current?.session_ttl_seconds ?? defaultSessionTtlSeconds;
  const ttlChanged = input?.session_ttl_seconds !== undefined;
  const interval =
    input?.heartbeat_interval_seconds ??
    (ttlChanged || !current ? Math.max(1, Math.floor(ttl / 3)) : current.heartbeat_interval_seconds);
  const policy: LicensePolicy = {
    mode: input?.mode ?? current?.mode ?? 'floating',
    session_ttl_seconds: ttl,
    heartbeat_interval_seconds: interval,
    grace_seconds: input?.grace_seconds ?? current?.grace_seconds ?? 0,
    max_fingerprints:
      input?.max_fingerprints !== undefined ? input.max_fingerprints : (current?.max_fingerprints ?? null),
    token_ttl_seconds: input?.token_ttl_seconds ?? current?.token_ttl_seconds ?? defaultTokenTtlSeconds,
  };
  if (policy.heartbeat_interval_seconds >= policy.session_ttl_seconds && policy.session_ttl_seconds > 1) {
    throw new AtriumError('validation_failed', 'heartbeat_interval_seconds must be shorter than session_ttl_seconds', [
      { path: '/body/policy/heartbeat_interval_seconds', message: 'must be less than session_ttl_seconds' },
    ]);
  }
  return policy;
}

/** How long a lease lives past its last acquire or heartbeat. */
export function leaseLifetimeMs(policy: LicensePolicy): number {
  return (policy.session_ttl_seconds + policy.grace_seconds) * 1000;
}

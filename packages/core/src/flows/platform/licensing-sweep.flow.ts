import { defineFlow, type FlowContext } from '../definition.ts';

export type LicensingSweep = (ctx: FlowContext<unknown>) => Promise<unknown>;

/**
 * Every minute, per organization, expired leases are swept and journaled. The processes that have licensing
 * (`atrium start`, `atrium worker`) pass `LeaseService.sweepTenant` as the sweep.
 */
export function licensingSweepFlow(sweep: LicensingSweep | null) {
  return defineFlow({
    id: 'licensing.sweep',
    version: 1,
    // Scheduled only once licensing provides a sweep: a no-op run per organization per minute helps nobody.
    ...(sweep ? { schedule: { cron: '0 * * * * *', timezone: 'UTC' } } : {}),
    retry: { maxAttempts: 2, initialDelayMs: 1000 },
    run: async (ctx) => (sweep ? sweep(ctx) : { skipped: 'licensing is not installed in this build' }),
  });
}

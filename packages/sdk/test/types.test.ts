import type * as contracts from '@atrium/contracts';
import { describe, expectTypeOf, it } from 'vitest';
import type * as sdk from '../src/index.ts';

/**
 * The SDK writes out the server's licensing wire types (src/types.ts) so that its published declarations need
 * neither @atrium/contracts nor TypeBox. These assertions are checked by the type-check (`npm run typecheck`),
 * which fails when the two differ; at run time they pass trivially.
 */
describe('the SDK wire types', () => {
  it('are the types of @atrium/contracts', () => {
    expectTypeOf<sdk.AcquireResponse>().toEqualTypeOf<contracts.AcquireResponse>();
    expectTypeOf<sdk.HeartbeatResponse>().toEqualTypeOf<contracts.HeartbeatResponse>();
    expectTypeOf<sdk.LicenseStatus>().toEqualTypeOf<contracts.LicenseStatus>();
    expectTypeOf<sdk.LeaseView>().toEqualTypeOf<contracts.LicenseStatus['sessions'][number]>();
    expectTypeOf<sdk.LicenseTokenClaims>().toEqualTypeOf<contracts.LicenseTokenClaims>();
  });
});

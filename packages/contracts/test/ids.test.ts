import { describe, expect, it } from 'vitest';
import { fromPublicId, isUuid, newUuid, toPublicId } from '../src/ids.ts';

describe('newUuid', () => {
  it('makes distinct, time-ordered UUIDv7s across many refills of its random pool', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5000 }, newUuid);
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe('7'); // version
      expect('89ab').toContain(id[19]); // RFC 9562 variant
    }
    const first = Number.parseInt(ids[0]?.replaceAll('-', '').slice(0, 12) ?? '', 16);
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(after);
  });

  it('spends its random bits: the random parts of consecutive ids differ', () => {
    const tails = Array.from({ length: 600 }, () => newUuid().slice(24));
    expect(new Set(tails).size).toBe(tails.length);
  });

  it('round-trips through public ids', () => {
    const id = newUuid();
    expect(fromPublicId('license', toPublicId('license', id))).toBe(id);
  });
});

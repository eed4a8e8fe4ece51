import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { LeaseMetadata } from '../src/licensing.ts';

/** The metadata schema itself, as the server's body validator compiles it (Ajv, `u` patterns). */
describe('LeaseMetadata', () => {
  const valid = new Ajv({ strict: false }).compile(LeaseMetadata);

  it('refuses what PostgreSQL jsonb cannot hold: NUL and lone surrogates, in keys and values', () => {
    for (const metadata of [{ note: 'a\u0000b' }, { note: 'a\ud800b' }, { note: 'a\udc00' }, { 'k\ud83d': 'v' }]) {
      expect(valid(metadata), JSON.stringify(metadata)).toBe(false);
    }
  });

  it('accepts surrogate pairs and other non-ASCII text', () => {
    expect(valid({ 'host-😀': 'build 🚀 ünïcode ✓', cores: 8 })).toBe(true);
  });
});

import { V7Generator } from 'uuidv7';

/** Type prefixes of public ids: `org_…` in the API, a UUIDv7 in storage (DESIGN.md §4). */
export const idPrefixes = {
  organization: 'org',
  workspace: 'wsp',
  project: 'prj',
  auditLog: 'aud',
  flowRun: 'frn',
  flowAttempt: 'fat',
  flowSchedule: 'fsc',
  usageReport: 'urp',
  organizationExport: 'oex',
  user: 'usr',
  membership: 'mem',
  invitation: 'inv',
  apiKey: 'key',
  license: 'lic',
  fingerprint: 'fpr',
} as const;

export type IdKind = keyof typeof idPrefixes;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Random words for UUIDv7, drawn from crypto.getRandomValues 256 at a time. The library's default draws 8 at a
 * time, a refill every two or three ids; each costs about a microsecond, and an acquire makes several ids.
 */
class PooledRandom {
  private readonly words = new Uint32Array(256);
  private cursor = this.words.length;

  nextUint32(): number {
    if (this.cursor === this.words.length) {
      globalThis.crypto.getRandomValues(this.words);
      this.cursor = 0;
    }
    return this.words[this.cursor++] as number;
  }
}

const uuids = new V7Generator(new PooledRandom());

export function newUuid(): string {
  return uuids.generate().toString();
}

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** `org_0193…` ← `0193…-…`: the prefix plus the 32 hex digits of the UUID. */
export function toPublicId(kind: IdKind, uuid: string): string {
  return `${idPrefixes[kind]}_${uuid.replaceAll('-', '')}`;
}

/** A UUID as 32 hex digits (no dashes), the form embedded in keys and tokens. */
export function uuidToHex(uuid: string): string {
  return uuid.replaceAll('-', '');
}

export function hexToUuid(hex: string): string | null {
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The UUID behind a public id, or null when the id is not of that kind. */
export function fromPublicId(kind: IdKind, publicId: string): string | null {
  const prefix = `${idPrefixes[kind]}_`;
  if (!publicId.startsWith(prefix) || publicId.length !== prefix.length + 32) return null;
  return hexToUuid(publicId.slice(prefix.length));
}

/** JSON-schema pattern for a public id of one kind, used by the route contracts. */
export function publicIdPattern(kind: IdKind): string {
  return `^${idPrefixes[kind]}_[0-9a-f]{32}$`;
}

/** The id kind a schema pattern made by publicIdPattern stands for, or null. */
export function idKindOfPattern(pattern: string): IdKind | null {
  for (const [kind, prefix] of Object.entries(idPrefixes)) {
    if (pattern === `^${prefix}_[0-9a-f]{32}$`) return kind as IdKind;
  }
  return null;
}

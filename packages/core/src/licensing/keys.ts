import { createHash, randomBytes } from 'node:crypto';

/** `lk_` + 256 random bits in base64url. Only its SHA-256 is stored; the key itself is shown once. */
export function generateLicenseKey(): string {
  return `lk_${randomBytes(32).toString('base64url')}`;
}

export function hashLicenseKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Enough of the key to tell two keys apart in a list, far too little to guess the rest. */
export function licenseKeyPrefix(key: string): string {
  return key.slice(0, 9);
}

const hex32 = /^[0-9a-f]{32}$/;

function hex(uuid: string): string {
  return uuid.replaceAll('-', '');
}

function uuid(hexDigits: string): string {
  return `${hexDigits.slice(0, 8)}-${hexDigits.slice(8, 12)}-${hexDigits.slice(12, 16)}-${hexDigits.slice(16, 20)}-${hexDigits.slice(20)}`;
}

/** The public session handle carries its license so heartbeats need no lookup: `ses_<session hex><license hex>`. */
export function toSessionHandle(sessionId: string, licenseId: string): string {
  return `ses_${hex(sessionId)}${hex(licenseId)}`;
}

export function fromSessionHandle(handle: string): { sessionId: string; licenseId: string } | null {
  if (!handle.startsWith('ses_') || handle.length !== 68) return null;
  const session = handle.slice(4, 36);
  const license = handle.slice(36);
  if (!hex32.test(session) || !hex32.test(license)) return null;
  return { sessionId: uuid(session), licenseId: uuid(license) };
}

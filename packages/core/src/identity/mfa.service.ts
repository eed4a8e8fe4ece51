import { randomBytes } from 'node:crypto';
import { withoutTenant } from '@atrium/db';
import { generateSecret, generateURI, verify } from 'otplib';
import { AtriumError } from '../shared/errors.ts';
import type { IdentityDeps } from './identity.ts';
import { hashToken } from './secrets.ts';
import * as users from './users.repository.ts';

const recoveryCodeCount = 10;
/** One 30-second step either side, for clocks that drift a little. */
const toleranceSeconds = 30;

function newRecoveryCode(): string {
  const hex = randomBytes(6).toString('hex');
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8)}`;
}

const wrongCode = () => new AtriumError('unauthenticated', 'the code is wrong or has expired');

/** Starts TOTP enrolment: the secret is stored sealed but not enabled until a first code confirms it. */
export async function enrolTotp(deps: IdentityDeps, userId: string) {
  return withoutTenant(deps.pool, async (tx) => {
    const user = await users.findUser(tx, userId);
    if (!user) throw new AtriumError('unauthenticated', 'this account no longer exists');
    if (user.totp_enabled_at) throw new AtriumError('conflict', 'two-factor authentication is already on');
    const secret = generateSecret();
    await users.setTotp(tx, userId, deps.secrets.seal(secret), false);
    return { secret, otpauth_url: generateURI({ secret, label: user.email, issuer: 'Atrium' }) };
  });
}

/** Confirms enrolment with a first code, turns TOTP on and returns recovery codes, shown this once. */
export async function confirmTotp(deps: IdentityDeps, userId: string, code: string) {
  return withoutTenant(deps.pool, async (tx) => {
    const user = await users.findUser(tx, userId);
    if (!user?.totp_secret_encrypted) throw new AtriumError('conflict', 'start enrolment first');
    if (user.totp_enabled_at) throw new AtriumError('conflict', 'two-factor authentication is already on');
    const secret = deps.secrets.open(user.totp_secret_encrypted);
    if (!(await verify({ secret, token: code, epochTolerance: toleranceSeconds })).valid) throw wrongCode();
    const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode);
    await users.setTotp(tx, userId, user.totp_secret_encrypted, true);
    await users.replaceRecoveryCodes(tx, userId, codes.map(hashToken));
    return { recovery_codes: codes };
  });
}

export async function disableTotp(deps: IdentityDeps, userId: string, code: string) {
  await withoutTenant(deps.pool, async (tx) => {
    const user = await users.findUser(tx, userId);
    if (!user?.totp_enabled_at) throw new AtriumError('conflict', 'two-factor authentication is not on');
    await checkCode(deps, tx, user, code);
    await users.setTotp(tx, userId, null, false);
    await users.replaceRecoveryCodes(tx, userId, []);
  });
}

/** A current TOTP code or an unused recovery code (which is then used up). */
export async function verifySecondFactor(deps: IdentityDeps, user: users.UserRow, code: string) {
  await withoutTenant(deps.pool, (tx) => checkCode(deps, tx, user, code));
}

async function checkCode(deps: IdentityDeps, tx: import('@atrium/db').Tx, user: users.UserRow, code: string) {
  if (/^\d{6}$/.test(code) && user.totp_secret_encrypted) {
    const secret = deps.secrets.open(user.totp_secret_encrypted);
    if ((await verify({ secret, token: code, epochTolerance: toleranceSeconds })).valid) return;
  } else if (await users.consumeRecoveryCode(tx, user.id, hashToken(code.trim().toLowerCase()))) {
    return;
  }
  throw wrongCode();
}

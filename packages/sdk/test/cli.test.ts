import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';

/** The `atrium-license` CLI as a user runs it: a child process against a real server on a free port. */

const bin = fileURLToPath(new URL('../bin/atrium-license.js', import.meta.url));
let t: TestApp;
let baseUrl: string;
let org: string;
let dir: string;
let rootFile: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  org = await createOrganization(t.app, 'CLI');
  dir = await mkdtemp(join(tmpdir(), 'atrium-cli-'));
  const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  rootFile = join(dir, 'root.jwk.json');
  await writeFile(rootFile, JSON.stringify(jwks.keys.find((k) => k.alg === 'RS256')));
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, ATRIUM_URL: baseUrl, ATRIUM_LICENSE_KEY: '' }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('atrium-license', () => {
  it('acquires, shows status, verifies the token offline and releases', async () => {
    const license = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 2 }, { tenant: org });
    const key = license.body.license_key as string;

    const acquired = await cli('acquire', '--key', key, '--fingerprint', 'cli-1');
    expect(acquired.code, acquired.stderr).toBe(0);
    const lease = JSON.parse(acquired.stdout);
    expect(lease).toMatchObject({ seats: { used: 1, max: 2 } });
    expect(lease.session_id).toMatch(/^ses_/);

    const status = await cli('status', '--key', key);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ valid: true, seats: { used: 1, max: 2 } });

    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${lease.token}\n`);
    const verified = await cli('verify-offline', '--token-file', tokenFile, '--root', rootFile);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, claims: { sid: lease.session_id } });

    const released = await cli('release', '--key', key, '--session', lease.session_id);
    expect(released.code, released.stderr).toBe(0);
    expect(JSON.parse(released.stdout)).toEqual({ released: true });
    expect(JSON.parse((await cli('status', '--key', key)).stdout).seats).toEqual({ used: 0, max: 2 });
  });

  it('refuses a forged token offline, and an unknown key, with status 1 and the reason', async () => {
    const license = await call(t.app, 'POST', '/api/v1/licenses', { max_seats: 1 }, { tenant: org });
    const lease = JSON.parse(
      (await cli('acquire', '--key', license.body.license_key, '--fingerprint', 'cli-2')).stdout,
    );
    const [header, payload, signature] = (lease.token as string).split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, max: 1000 })).toString('base64url')}.${signature}`;
    const refused = await cli('verify-offline', '--token', forged, '--root', rootFile);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^atrium-license: /);

    const unknown = await cli('status', '--key', `lk_${'A'.repeat(43)}`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^atrium-license: /);
  });

  it('prints its usage for --help (status 0) and for usage errors (status 2)', async () => {
    for (const args of [['--help'], ['-h'], []]) {
      const help = await cli(...args);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: atrium-license <command>');
    }
    for (const args of [['frobnicate'], ['status'], ['status', '--nope'], ['release', '--key', 'lk_x']]) {
      const wrong = await cli(...args);
      expect(wrong.code, args.join(' ')).toBe(2);
      expect(wrong.stderr).toContain('Usage: atrium-license <command>');
    }
    const badPeriod = await cli('verify-offline', '--token', 'a.b.c', '--root', rootFile, '--offline-seconds', 'soon');
    expect(badPeriod.code).toBe(2);
  });
});

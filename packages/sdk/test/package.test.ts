import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as an npm user gets it: `npm pack` (prepack builds dist/), the tarball installed into a fresh
 * project outside the repository, then imported with plain node, its bin run, and its declarations type-checked.
 * Inside the repository everything runs from the sources, so only this test sees a broken build or manifest.
 */

const sdkDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const tscBin = join(repoRoot, 'node_modules/typescript/bin/tsc');

// The children see neither this repository's npm context (prefix, workspace, lifecycle) nor NODE_OPTIONS: only what
// a user's shell would have, and this Node first on PATH.
const keptNpmConfig =
  /^npm_config_(cache|registry|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile)$/i;
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => name !== 'NODE_OPTIONS' && (!/^npm_/i.test(name) || keptNpmConfig.test(name)),
    ),
  ),
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
};

function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Packed {
  filename: string;
  size: number;
  files: { path: string }[];
}

let dir: string;
let consumer: string;
let packed: Packed;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atrium-sdk-package-'));
  const pack = await run('npm', ['pack', '--json', '--ignore-scripts=false', '--pack-destination', dir], sdkDir);
  expect(pack.code, pack.stderr).toBe(0);
  [packed] = JSON.parse(pack.stdout) as [Packed];

  consumer = join(dir, 'consumer');
  await mkdir(consumer);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // A TypeScript consumer of a Node.js library has @types/node; the repository's version is in the npm cache.
  const typesNode = JSON.parse(await readFile(join(repoRoot, 'node_modules/@types/node/package.json'), 'utf8'));
  const install = await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(dir, packed.filename),
      `@types/node@${typesNode.version}`,
    ],
    consumer,
  );
  expect(install.code, install.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the published @atrium/sdk', () => {
  it('holds the build, the bin and the README, not the sources', async () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'bin/atrium-license.js', 'package.json']));
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/cli.js']));
    expect(
      files.filter(
        (f) => !/^(dist\/[\w-]+\.(js|d\.ts)|bin\/atrium-license\.js|LICENSE|README\.md|package\.json)$/.test(f),
      ),
    ).toEqual([]);

    const installed = join(consumer, 'node_modules/@atrium/sdk');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['jose']);
    // The license the manifest names, word for word the repository's.
    expect(manifest.license).toBe('Apache-2.0');
    expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toBe(await readFile(join(repoRoot, 'LICENSE'), 'utf8'));
    // Every export target is in the tarball (none points at the sources, which are not).
    const targets = Object.values(manifest.exports['.'] as Record<string, string>).map((t) => t.replace(/^\.\//, ''));
    expect(files).toEqual(expect.arrayContaining(targets));
    // The declarations stand alone: they import nothing from the private workspace packages.
    for (const file of (await readdir(join(installed, 'dist'))).filter((f) => f.endsWith('.d.ts'))) {
      expect(await readFile(join(installed, 'dist', file), 'utf8'), file).not.toMatch(/['"]@atrium\//);
    }
  });

  it('imports with plain node and verifies (and refuses) a token', async () => {
    const script = `
      const sdk = await import('@atrium/sdk');
      const kinds = Object.fromEntries(Object.entries(sdk).map(([name, value]) => [name, typeof value]));
      const refusal = await sdk.verifyLicenseToken('not-a-token', { rootJwk: {} }).catch((err) => err);
      console.log(JSON.stringify({ kinds, refused: refusal instanceof sdk.TokenVerificationError, message: refusal.message }));
    `;
    const result = await run(process.execPath, ['--input-type=module', '-e', script], consumer);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      kinds: {
        LicenseApiError: 'function',
        LicenseClient: 'function',
        TokenVerificationError: 'function',
        defaultFingerprint: 'function',
        verifyLicenseToken: 'function',
      },
      refused: true,
      message: 'not a JWT',
    });
  });

  it('runs atrium-license from node_modules/.bin', async () => {
    const bin = join(consumer, 'node_modules/.bin/atrium-license');
    const help = await run(bin, ['--help'], consumer);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: atrium-license <command> [options]');
    const wrong = await run(bin, ['frobnicate'], consumer);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("unknown command 'frobnicate'");
  });

  it('type-checks a TypeScript consumer against its declarations', async () => {
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2024',
          lib: ['es2024'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          types: ['node'],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['consumer.ts'],
      }),
    );
    await writeFile(
      join(consumer, 'consumer.ts'),
      `import { type AcquireResponse, LicenseApiError, LicenseClient, type LicenseStatus, verifyLicenseToken } from '@atrium/sdk';

const client = new LicenseClient({ baseUrl: 'https://licenses.example.com', licenseKey: 'lk_example', tokenPath: '/tmp/t' });
client.on('acquired', (lease: AcquireResponse) => console.log(lease.session_id, lease.seats.used));
client.on('lost', ({ reason }) => console.log(reason));

export async function check(token: string): Promise<number> {
  const claims = await verifyLicenseToken(token, { rootJwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, offlinePeriodSeconds: 60 });
  const status: LicenseStatus = await client.status();
  // @ts-expect-error a license id is a string: fails if the declarations degrade to any
  const wrong: number = status.license_id;
  return claims.exp + status.seats.max + status.sessions.length + (wrong ? 0 : 1);
}

export const exhausted = (err: unknown) => err instanceof LicenseApiError && err.code === 'seats_exhausted';
`,
    );
    const result = await run(process.execPath, [tscBin, '-p', join(consumer, 'tsconfig.json')], consumer);
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.code).toBe(0);
  });
});

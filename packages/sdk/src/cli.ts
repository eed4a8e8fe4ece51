import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LicenseClient } from './license-client.ts';
import { verifyLicenseToken } from './verify.ts';

const usage = `Usage: atrium-license <command> [options]

  acquire          take a seat and print the session (JSON); --hold keeps it, heartbeating, until Ctrl-C
  status           validity, seats in use and live sessions
  release          give back the seat of --session
  verify-offline   verify --token (or --token-file) against the pinned --root (a JWK file), no network

Options: --url (ATRIUM_URL), --key (ATRIUM_LICENSE_KEY), --fingerprint, --session, --token, --token-file,
         --root, --offline-seconds (Default: 86400), --hold`;

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env.ATRIUM_URL ?? 'http://localhost:8080' },
      key: { type: 'string', default: process.env.ATRIUM_LICENSE_KEY },
      fingerprint: { type: 'string' },
      session: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      root: { type: 'string' },
      'offline-seconds': { type: 'string', default: '86400' },
      hold: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (command === 'verify-offline') {
    if (!values.root) throw new Error('--root <jwk file> is required');
    const token = values.token ?? (values['token-file'] ? await readFile(values['token-file'], 'utf8') : undefined);
    if (!token) throw new Error('--token or --token-file is required');
    const claims = await verifyLicenseToken(token.trim(), {
      rootJwk: JSON.parse(await readFile(values.root, 'utf8')),
      offlinePeriodSeconds: Number(values['offline-seconds']),
    });
    print({ valid: true, claims });
    return;
  }
  if (!values.key) throw new Error('--key (or ATRIUM_LICENSE_KEY) is required');
  const client = new LicenseClient({
    baseUrl: values.url,
    licenseKey: values.key,
    ...(values.fingerprint ? { fingerprint: values.fingerprint } : {}),
  });
  switch (command) {
    case 'acquire': {
      if (!values.hold) return print(await client.acquire());
      client.on('renewed', (r) => print({ renewed: r.expires_at }));
      client.on('lost', (r) => print({ lost: r.reason }));
      print(await client.start());
      process.once('SIGINT', () => void client.stop().then(() => process.exit(0)));
      setInterval(() => {}, 1 << 30);
      return;
    }
    case 'status':
      return print(await client.status());
    case 'release': {
      if (!values.session) throw new Error('--session is required');
      const response = await fetch(new URL('/api/v1/licenses/release', values.url), {
        method: 'DELETE',
        headers: { authorization: `License ${values.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: values.session }),
      });
      return print({ released: response.status === 204, status: response.status });
    }
    default:
      process.stderr.write(`${usage}\n`);
      process.exitCode = command === undefined || command === 'help' ? 0 : 2;
  }
}

function print(value: unknown) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`atrium-license: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

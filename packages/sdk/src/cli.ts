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
         --root, --offline-seconds (Default: 86400), --hold, --help

Prints JSON on stdout. Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 a usage error.`;

const commands = new Set(['acquire', 'status', 'release', 'verify-offline']);

class UsageError extends Error {}

const options = {
  url: { type: 'string', default: process.env.ATRIUM_URL ?? 'http://localhost:8080' },
  key: { type: 'string', default: process.env.ATRIUM_LICENSE_KEY },
  fingerprint: { type: 'string' },
  session: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  root: { type: 'string' },
  'offline-seconds': { type: 'string', default: '86400' },
  hold: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

async function main() {
  const { positionals, values } = parse();
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (!commands.has(command)) throw new UsageError(`unknown command '${command}'`);
  if (command === 'verify-offline') {
    if (!values.root) throw new UsageError('--root <jwk file> is required');
    const token = values.token ?? (values['token-file'] ? await readFile(values['token-file'], 'utf8') : undefined);
    if (!token) throw new UsageError('--token or --token-file is required');
    const offlineSeconds = Number(values['offline-seconds']);
    if (!Number.isSafeInteger(offlineSeconds) || offlineSeconds < 0) {
      throw new UsageError('--offline-seconds must be a whole number of seconds');
    }
    const claims = await verifyLicenseToken(token.trim(), {
      rootJwk: JSON.parse(await readFile(values.root, 'utf8')),
      offlinePeriodSeconds: offlineSeconds,
    });
    print({ valid: true, claims });
    return;
  }
  if (!values.key) throw new UsageError('--key (or ATRIUM_LICENSE_KEY) is required');
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
      if (!values.session) throw new UsageError('--session is required');
      await client.release(values.session);
      return print({ released: true });
    }
  }
}

function print(value: unknown) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`atrium-license: ${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof UsageError) process.stderr.write(`\n${usage}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});

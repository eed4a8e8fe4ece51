import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from './processes.ts';

export interface Account {
  sub: string;
  email: string;
  email_verified: boolean;
  name?: string;
}

export interface TestIssuer {
  issuer: string;
  clientId: string;
  /** Runs a real authorization-code flow (login + consent forms, code exchange) and returns the ID token. */
  idTokenFor(accountId: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (npm oidc-provider, a certified implementation) on a free local port, with
 * its development login and consent screens driven by plain HTTP, as a browser would.
 */
export async function startTestIssuer(
  accounts: Record<string, Account>,
  clientId = 'atrium-test',
): Promise<TestIssuer> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const redirectUri = 'http://127.0.0.1/callback';
  const clientSecret = randomBytes(16).toString('hex');
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    async findAccount(_ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ ...account }) };
    },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    // Put the email claims in the ID token itself, as Google and most providers do.
    conformIdTokenClaims: false,
  });
  // Keep the provider's own logs out of test output.
  provider.on('server_error', () => {});
  const server: Server = createServer(provider.callback());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');

  async function idTokenFor(accountId: string) {
    const jar = new Map<string, string>();
    const request = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(new URL(url, issuer), {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string>),
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        },
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(';');
        const [name, ...value] = (pair ?? '').split('=');
        if (name) jar.set(name, value.join('='));
      }
      return response;
    };
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      scope: 'openid email profile',
      redirect_uri: redirectUri,
      state: 's',
      nonce: 'n',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    let location = (await request(`/auth?${query}`)).headers.get('location') ?? '';
    for (const prompt of ['login', 'consent']) {
      const form = new URLSearchParams({ prompt, login: accountId, password: 'any' });
      const submitted = await request(location, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      const resumed = await request(submitted.headers.get('location') ?? '');
      location = resumed.headers.get('location') ?? '';
      if (location.startsWith(redirectUri)) break;
    }
    const code = new URL(location).searchParams.get('code');
    if (!code) throw new Error(`no authorization code; ended at ${location}`);
    const token = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }),
    });
    const body = (await token.json()) as { id_token?: string };
    if (!body.id_token) throw new Error(`no id_token: ${JSON.stringify(body)}`);
    return body.id_token;
  }

  return {
    issuer,
    clientId,
    idTokenFor,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

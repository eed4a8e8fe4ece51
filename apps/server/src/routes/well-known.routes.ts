import type { AccessTokens } from '@atrium/core';
import type { App } from './shared.ts';

/** Key discovery, so other services (and the SDK) can verify Atrium's access tokens themselves. */
export function wellKnownRoutes(
  app: App,
  tokens: AccessTokens,
  publicUrl: string,
  licenseKeys: () => Array<Record<string, unknown>>,
) {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Public keys: of access tokens, and of license tokens (the RSA-4096 license root, marked ' +
          '`atrium_use: license-root`, and each signing key with its root-signed `atrium_certificate`)',
      },
    },
    async (_r, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      const access = await tokens.jwks();
      return { keys: [...access.keys, ...licenseKeys()] };
    },
  );

  app.get(
    '/.well-known/openid-configuration',
    { schema: { tags: ['auth'], summary: 'OpenID Connect discovery' } },
    async () => ({
      issuer: tokens.issuer,
      jwks_uri: `${publicUrl}/.well-known/jwks.json`,
      token_endpoint: `${publicUrl}/api/v1/auth/login`,
      userinfo_endpoint: `${publicUrl}/api/v1/me`,
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['none'],
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      scopes_supported: ['openid', 'email', 'profile'],
    }),
  );
}

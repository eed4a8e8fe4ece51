import { ApiKey, CreateApiKeyBody, fromPublicId, IdParams } from '@atrium/contracts';
import { apiKeys, type IdentityDeps } from '@atrium/core';
import Type from 'typebox';
import { type ApiKeyCache, tenantContext } from '../plugins/auth.ts';
import { type App, problems, tenantRouteProblems } from './shared.ts';

const tags = ['api keys'];

export function apiKeyRoutes(app: App, { pool }: IdentityDeps, cache: ApiKeyCache) {
  app.post(
    '/api/v1/api-keys',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create an API key for machines; the key is in this response only',
        body: CreateApiKeyBody,
        response: {
          201: Type.Object({ ...ApiKey.properties, key: Type.String() }),
          ...problems(...tenantRouteProblems, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      const created = await apiKeys.createApiKey(
        tenantContext(request, pool),
        principal?.role ?? 'readonly',
        request.body,
        principal?.userId ?? null,
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/api-keys',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: "The organization's API keys",
        response: { 200: Type.Array(ApiKey), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => apiKeys.listApiKeys(tenantContext(request, pool)),
  );

  app.delete(
    '/api/v1/api-keys/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Revoke an API key',
        params: IdParams('apiKey'),
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request, reply) => {
      const keyId = fromPublicId('apiKey', request.params.id) as string;
      await apiKeys.revokeApiKey(tenantContext(request, pool), keyId);
      cache.forget(keyId);
      return reply.code(204).send(null);
    },
  );
}

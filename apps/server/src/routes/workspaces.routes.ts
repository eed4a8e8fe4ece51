import {
  CreateWorkspace,
  fromPublicId,
  IdParams,
  Page,
  PageQuery,
  UpdateWorkspace,
  Workspace,
} from '@atrium/contracts';
import { workspaces } from '@atrium/core';
import Type from 'typebox';
import { tenantContext } from '../plugins/auth.ts';
import { type App, IdempotencyHeaders, problems, type RouteDeps, sendStored, tenantRouteProblems } from './shared.ts';

const tags = ['workspaces'];
const Params = IdParams('workspace');

export function workspaceRoutes(app: App, { pool }: RouteDeps) {
  const uuid = (id: string) => fromPublicId('workspace', id) as string;

  app.post(
    '/api/v1/workspaces',
    {
      schema: {
        tags,
        summary: 'Create a workspace',
        headers: IdempotencyHeaders,
        body: CreateWorkspace,
        response: { 201: Workspace, ...problems(...tenantRouteProblems, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const ctx = tenantContext(request, pool);
      return sendStored(reply, await workspaces.createWorkspace(ctx, request.body, request.headers['idempotency-key']));
    },
  );

  app.get(
    '/api/v1/workspaces',
    {
      schema: {
        tags,
        summary: 'List workspaces, newest first',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Workspace), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => workspaces.listWorkspaces(tenantContext(request, pool), { limit: 20, ...request.query }),
  );

  app.get(
    '/api/v1/workspaces/:id',
    {
      schema: {
        tags,
        summary: 'Get a workspace',
        params: Params,
        response: { 200: Workspace, ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => workspaces.getWorkspace(tenantContext(request, pool), uuid(request.params.id)),
  );

  app.patch(
    '/api/v1/workspaces/:id',
    {
      schema: {
        tags,
        summary: 'Change a workspace',
        params: Params,
        body: UpdateWorkspace,
        response: { 200: Workspace, ...problems(...tenantRouteProblems, 404, 409, 413, 415) },
      },
    },
    async (request) => workspaces.updateWorkspace(tenantContext(request, pool), uuid(request.params.id), request.body),
  );

  app.delete(
    '/api/v1/workspaces/:id',
    {
      schema: {
        tags,
        summary: 'Delete a workspace that has no projects',
        params: Params,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404, 409) },
      },
    },
    async (request, reply) => {
      await workspaces.deleteWorkspace(tenantContext(request, pool), uuid(request.params.id));
      return reply.code(204).send(null);
    },
  );
}

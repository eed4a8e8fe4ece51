import {
  CreateProject,
  fromPublicId,
  IdParams,
  Page,
  PageQuery,
  Project,
  PublicId,
  UpdateProject,
} from '@atrium/contracts';
import { projects } from '@atrium/core';
import Type from 'typebox';
import { tenantContext } from '../plugins/auth.ts';
import { type App, IdempotencyHeaders, problems, type RouteDeps, sendStored, tenantRouteProblems } from './shared.ts';

const tags = ['projects'];
const Params = IdParams('project');

export function projectRoutes(app: App, { pool }: RouteDeps) {
  const uuid = (id: string) => fromPublicId('project', id) as string;

  app.post(
    '/api/v1/projects',
    {
      schema: {
        tags,
        summary: 'Create a project in a workspace',
        headers: IdempotencyHeaders,
        body: CreateProject,
        response: { 201: Project, ...problems(...tenantRouteProblems, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { workspace_id, ...rest } = request.body;
      const input = { ...rest, workspaceId: fromPublicId('workspace', workspace_id) as string };
      const stored = await projects.createProject(
        tenantContext(request, pool),
        input,
        request.headers['idempotency-key'],
      );
      return sendStored(reply, stored);
    },
  );

  app.get(
    '/api/v1/projects',
    {
      schema: {
        tags,
        summary: 'List projects, newest first, optionally of one workspace',
        querystring: Type.Object(
          { ...PageQuery, workspace_id: Type.Optional(PublicId('workspace', 'Only projects of this workspace')) },
          { additionalProperties: false },
        ),
        response: { 200: Page(Project), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => {
      const { workspace_id, ...page } = request.query;
      const filter = { workspaceId: workspace_id ? fromPublicId('workspace', workspace_id) : null };
      return projects.listProjects(tenantContext(request, pool), filter, { limit: 20, ...page });
    },
  );

  app.get(
    '/api/v1/projects/:id',
    {
      schema: {
        tags,
        summary: 'Get a project',
        params: Params,
        response: { 200: Project, ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => projects.getProject(tenantContext(request, pool), uuid(request.params.id)),
  );

  app.patch(
    '/api/v1/projects/:id',
    {
      schema: {
        tags,
        summary: 'Change a project',
        params: Params,
        body: UpdateProject,
        response: { 200: Project, ...problems(...tenantRouteProblems, 404, 409, 413, 415) },
      },
    },
    async (request) => projects.updateProject(tenantContext(request, pool), uuid(request.params.id), request.body),
  );

  app.delete(
    '/api/v1/projects/:id',
    {
      schema: {
        tags,
        summary: 'Delete a project',
        params: Params,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request, reply) => {
      await projects.deleteProject(tenantContext(request, pool), uuid(request.params.id));
      return reply.code(204).send(null);
    },
  );
}

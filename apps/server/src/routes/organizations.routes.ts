import {
  CreateOrganization,
  fromPublicId,
  IdParams,
  Organization,
  Page,
  PageQuery,
  UpdateOrganization,
} from '@atrium/contracts';
import { members, organizations } from '@atrium/core';
import Type from 'typebox';
import { currentUser, tenantContext } from '../plugins/auth.ts';
import { type App, IdempotencyHeaders, problems, type RouteDeps, sendStored, tenantRouteProblems } from './shared.ts';

const tags = ['organizations'];
const Params = IdParams('organization');

export function organizationRoutes(app: App, { pool }: RouteDeps) {
  const uuid = (id: string) => fromPublicId('organization', id) as string;

  app.post(
    '/api/v1/organizations',
    {
      config: { auth: 'actor' },
      schema: {
        tags,
        summary: 'Create an organization (a new tenant); you become its owner',
        headers: IdempotencyHeaders,
        body: CreateOrganization,
        response: { 201: Organization, ...problems(...tenantRouteProblems, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { userId } = currentUser(request);
      const creator = { pool, actor: request.principal?.actor ?? { type: 'user', id: null }, requestId: request.id };
      const key = request.headers['idempotency-key'];
      const stored = await organizations.createOrganization(
        creator,
        request.body,
        key,
        members.ownerMembership(userId),
      );
      return sendStored(reply, stored);
    },
  );

  app.get(
    '/api/v1/organizations',
    {
      schema: {
        tags,
        summary: 'List the organizations visible to the caller',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Organization), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => organizations.listOrganizations(tenantContext(request, pool), { limit: 20, ...request.query }),
  );

  app.get(
    '/api/v1/organizations/:id',
    {
      schema: {
        tags,
        summary: 'Get an organization',
        params: Params,
        response: { 200: Organization, ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => organizations.getOrganization(tenantContext(request, pool), uuid(request.params.id)),
  );

  app.patch(
    '/api/v1/organizations/:id',
    {
      schema: {
        tags,
        summary: 'Rename an organization or change its slug',
        params: Params,
        body: UpdateOrganization,
        response: { 200: Organization, ...problems(...tenantRouteProblems, 404, 409, 413, 415) },
      },
    },
    async (request) =>
      organizations.updateOrganization(tenantContext(request, pool), uuid(request.params.id), request.body),
  );

  app.delete(
    '/api/v1/organizations/:id',
    {
      schema: {
        tags,
        summary: 'Delete an organization and everything it owns',
        params: Params,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request, reply) => {
      await organizations.deleteOrganization(tenantContext(request, pool), uuid(request.params.id));
      return reply.code(204).send(null);
    },
  );
}

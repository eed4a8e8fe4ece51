import {
  AcceptInvitationBody,
  ChangeRoleBody,
  CreateInvitationBody,
  fromPublicId,
  Invitation,
  Member,
  PublicId,
} from '@atrium/contracts';
import { type IdentityDeps, members } from '@atrium/core';
import Type from 'typebox';
import { currentUser, type Role, tenantContext } from '../plugins/auth.ts';
import { type App, problems, tenantRouteProblems } from './shared.ts';

const tags = ['members'];
const OrgParams = Type.Object({ id: PublicId('organization') }, { additionalProperties: false });
const MemberParams = Type.Object(
  { id: PublicId('organization'), member_id: PublicId('membership') },
  { additionalProperties: false },
);
const InvitationParams = Type.Object(
  { id: PublicId('organization'), invitation_id: PublicId('invitation') },
  { additionalProperties: false },
);
const admin = { role: 'admin' as const };

export function memberRoutes(app: App, identity: IdentityDeps) {
  const { pool } = identity;
  const org = (id: string) => fromPublicId('organization', id) as string;
  const callerRole = (request: { principal: { role: Role | null } | null }) => request.principal?.role ?? 'readonly';
  const userOf = (request: Parameters<typeof currentUser>[0]) => request.principal?.userId ?? null;

  app.get(
    '/api/v1/organizations/:id/members',
    {
      schema: {
        tags,
        summary: 'Members and their roles',
        params: OrgParams,
        response: { 200: Type.Array(Member), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => {
      const ctx = tenantContext(request, pool);
      members.assertOwnOrganization(ctx, org(request.params.id));
      return members.listMembers(ctx);
    },
  );

  app.patch(
    '/api/v1/organizations/:id/members/:member_id',
    {
      config: admin,
      schema: {
        tags,
        summary: "Change a member's role",
        params: MemberParams,
        body: ChangeRoleBody,
        response: { 200: Member, ...problems(...tenantRouteProblems, 404, 409) },
      },
    },
    async (request) => {
      const ctx = tenantContext(request, pool);
      members.assertOwnOrganization(ctx, org(request.params.id));
      const membership = fromPublicId('membership', request.params.member_id) as string;
      return members.changeRole(ctx, callerRole(request), membership, request.body.role);
    },
  );

  app.delete(
    '/api/v1/organizations/:id/members/:member_id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Remove a member; their sessions in this organization end at once',
        params: MemberParams,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404, 409) },
      },
    },
    async (request, reply) => {
      const ctx = tenantContext(request, pool);
      members.assertOwnOrganization(ctx, org(request.params.id));
      await members.removeMember(
        ctx,
        callerRole(request),
        fromPublicId('membership', request.params.member_id) as string,
      );
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/organizations/:id/invitations',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Invite someone by email; the token is in the response (shown once) and in the email',
        params: OrgParams,
        body: CreateInvitationBody,
        response: {
          201: Type.Object({ ...Invitation.properties, token: Type.String() }),
          ...problems(...tenantRouteProblems, 404, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const ctx = tenantContext(request, pool);
      members.assertOwnOrganization(ctx, org(request.params.id));
      const invitation = await members.invite(identity, ctx, callerRole(request), request.body, userOf(request));
      return reply.code(201).send(invitation);
    },
  );

  app.get(
    '/api/v1/organizations/:id/invitations',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Invitations, newest first',
        params: OrgParams,
        response: { 200: Type.Array(Invitation), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => {
      const ctx = tenantContext(request, pool);
      members.assertOwnOrganization(ctx, org(request.params.id));
      return members.listInvitations(ctx);
    },
  );

  app.delete(
    '/api/v1/organizations/:id/invitations/:invitation_id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Revoke an invitation',
        params: InvitationParams,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request, reply) => {
      const ctx = tenantContext(request, pool);
      members.assertOwnOrganization(ctx, org(request.params.id));
      await members.revokeInvitation(ctx, fromPublicId('invitation', request.params.invitation_id) as string);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/invitations/accept',
    {
      config: { auth: 'actor' },
      schema: {
        tags,
        summary: 'Accept an invitation sent to your email address',
        body: AcceptInvitationBody,
        response: {
          200: Type.Object({ organization: Type.Object({ id: PublicId('organization') }), role: Type.String() }),
          ...problems(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => members.acceptInvitation(identity, currentUser(request).userId, request.body.token),
  );
}

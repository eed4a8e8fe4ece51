import {
  LoginBody,
  Me,
  OidcBody,
  RefreshBody,
  RegisterBody,
  RegisterResponse,
  TokenPair,
  TotpCode,
} from '@atrium/contracts';
import { type IdentityDeps, mfa, type OidcSignIn, sessions } from '@atrium/core';
import Type from 'typebox';
import { currentUser } from '../plugins/auth.ts';
import { type App, problems } from './shared.ts';

const tags = ['auth'];
const signIn = { auth: 'public' as const, rateLimit: 'auth' as const };

export function authRoutes(app: App, identity: IdentityDeps, oidc: OidcSignIn) {
  app.post(
    '/api/v1/auth/register',
    {
      config: signIn,
      schema: {
        tags,
        summary: 'Sign up: creates the account, its organization (you are owner) and a session',
        body: RegisterBody,
        response: { 201: RegisterResponse, ...problems(400, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => reply.code(201).send(await sessions.register(identity, request.body, request.id)),
  );

  app.post(
    '/api/v1/auth/login',
    {
      config: signIn,
      schema: {
        tags,
        summary: 'Sign in with email and password (and a TOTP code when two-factor is on)',
        body: LoginBody,
        response: { 200: TokenPair, ...problems(400, 401, 413, 415, 429) },
      },
    },
    async (request) => sessions.login(identity, request.body),
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      config: signIn,
      schema: {
        tags,
        summary: 'Trade a refresh token for a new pair; a reused one revokes its whole session',
        body: RefreshBody,
        response: { 200: TokenPair, ...problems(400, 401, 413, 415, 429) },
      },
    },
    async (request) => sessions.refresh(identity, request.body.refresh_token),
  );

  app.post(
    '/api/v1/auth/oidc',
    {
      config: signIn,
      schema: {
        tags,
        summary: 'Sign in with an ID token from a trusted OpenID Connect provider (links by verified email)',
        body: OidcBody,
        response: { 200: TokenPair, ...problems(400, 401, 413, 415, 429) },
      },
    },
    async (request) => oidc.signIn(identity, request.body.id_token, request.body.organization),
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { auth: 'actor' },
      schema: { tags, summary: 'End this session', response: { 204: Type.Null(), ...problems(401, 403, 429) } },
    },
    async (request, reply) => {
      await sessions.logout(identity, currentUser(request).sessionId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/me',
    {
      config: { auth: 'actor' },
      schema: { tags, summary: 'You and your memberships', response: { 200: Me, ...problems(401, 403, 429) } },
    },
    async (request) => sessions.me(identity, currentUser(request).userId),
  );

  app.post(
    '/api/v1/me/mfa/totp',
    {
      config: { auth: 'actor' },
      schema: {
        tags,
        summary: 'Start TOTP enrolment: returns the secret and an otpauth:// URL for an authenticator app',
        response: {
          200: Type.Object({ secret: Type.String(), otpauth_url: Type.String() }),
          ...problems(401, 403, 409, 429),
        },
      },
    },
    async (request) => mfa.enrolTotp(identity, currentUser(request).userId),
  );

  app.post(
    '/api/v1/me/mfa/totp/confirm',
    {
      config: { auth: 'actor' },
      schema: {
        tags,
        summary: 'Confirm enrolment with a first code; returns recovery codes, shown only now',
        body: TotpCode,
        response: {
          200: Type.Object({ recovery_codes: Type.Array(Type.String()) }),
          ...problems(400, 401, 403, 409, 429),
        },
      },
    },
    async (request) => mfa.confirmTotp(identity, currentUser(request).userId, request.body.code),
  );

  app.delete(
    '/api/v1/me/mfa/totp',
    {
      config: { auth: 'actor' },
      schema: {
        tags,
        summary: 'Turn two-factor off (needs a current code or a recovery code)',
        body: TotpCode,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      await mfa.disableTotp(identity, currentUser(request).userId, request.body.code);
      return reply.code(204).send(null);
    },
  );
}

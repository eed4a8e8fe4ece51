import {
  AcquireRequest,
  AcquireResponse,
  HeartbeatResponse,
  LicenseStatus,
  SessionRequest,
  StatusQuery,
} from '@atrium/contracts';
import type { LicenseCaller, Licensing } from '@atrium/core';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { type App, problems, tenantRouteProblems } from './shared.ts';

const tags = ['licensing'];

/**
 * The acquire response as it is written. Its token is a compact JWS (base64url parts joined by dots, tokens.ts), so
 * it never holds a character JSON escapes; fast-json-stringify's `unsafe` format writes it as is instead of scanning
 * its ~2 KB for one (4 µs of an acquire's ~135 µs, bench/README.md). The API documentation shows the contract's
 * AcquireResponse (the route's `swaggerTransform`).
 */
export const AcquireResponseWritten = Type.Object({
  ...AcquireResponse.properties,
  token: Type.String({ format: 'unsafe' }),
});

/** The caller of a machine route; a license-key principal is bound to its own license (plugins/auth.ts). */
export function licenseCaller(request: FastifyRequest): LicenseCaller {
  const principal = request.principal;
  if (!principal?.tenantId) throw new Error(`route ${request.url} used a tenant without requiring one`);
  return {
    tenantId: principal.tenantId,
    actor: principal.actor,
    requestId: request.id,
    licenseId: principal.licenseId,
  };
}

/** Acquire, heartbeat, release, status (seed 001's license endpoints). The keys are in /.well-known/jwks.json. */
export function leaseRoutes(app: App, { licensing }: { licensing: Licensing }) {
  const { leases } = licensing;

  app.post(
    '/api/v1/licenses/acquire',
    {
      config: {
        auth: 'license',
        swaggerTransform: ({ schema, url }) => ({
          schema: {
            ...schema,
            response: { ...(schema.response as object), 200: AcquireResponse, 201: AcquireResponse },
          },
          url,
        }),
      },
      schema: {
        tags,
        summary: 'Take a seat (or get back the live lease this fingerprint already holds)',
        body: AcquireRequest,
        response: {
          200: AcquireResponseWritten,
          201: AcquireResponseWritten,
          ...problems(...tenantRouteProblems, 404, 409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const { status, body } = await leases.acquire(licenseCaller(request), request.body);
      return reply.code(status).send(body);
    },
  );

  app.post(
    '/api/v1/licenses/heartbeat',
    {
      config: { auth: 'license' },
      schema: {
        tags,
        summary: 'Extend a live lease by its TTL',
        body: SessionRequest,
        response: { 200: HeartbeatResponse, ...problems(...tenantRouteProblems, 404, 413, 415) },
      },
    },
    async (request) => leases.heartbeat(licenseCaller(request), request.body),
  );

  app.delete(
    '/api/v1/licenses/release',
    {
      config: { auth: 'license' },
      schema: {
        tags,
        summary: 'Give a seat back (idempotent)',
        body: SessionRequest,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 413, 415) },
      },
    },
    async (request, reply) => {
      await leases.release(licenseCaller(request), request.body);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/licenses/status',
    {
      config: { auth: 'license' },
      schema: {
        tags,
        summary: 'Validity, seats in use and live sessions of a license',
        querystring: StatusQuery,
        response: { 200: LicenseStatus, ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => leases.status(licenseCaller(request), request.query.license_key),
  );
}

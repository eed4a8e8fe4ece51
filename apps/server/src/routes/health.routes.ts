import { readFile } from 'node:fs/promises';
import { appliedVersion } from '@atrium/db';
import Type from 'typebox';
import { sendProblem } from '../plugins/problem.ts';
import { type App, problems, type RouteDeps } from './shared.ts';

const errorsDoc = new URL('../../../../docs/errors.md', import.meta.url);

export function healthRoutes(app: App, { pool, expectedMigration }: RouteDeps & { expectedMigration: number }) {
  app.get(
    '/health',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database answers and its schema is current',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), migration: Type.Integer() }),
          ...problems(503),
        },
      },
    },
    async (request, reply) => {
      const version = await appliedVersion((sql) => pool.query(sql));
      if (version !== expectedMigration) {
        const detail = `database schema is at migration ${version ?? 'none'}, this build needs ${expectedMigration}`;
        return sendProblem(request, reply, 'service_unavailable', detail);
      }
      return { status: 'ready' as const, migration: version };
    },
  );

  app.get('/errors', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/markdown; charset=utf-8').send(await readFile(errorsDoc, 'utf8')),
  );
}

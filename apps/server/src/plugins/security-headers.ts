import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * Helmet's headers on every response. The middleware is built once here: @fastify/helmet rebuilds it (and
 * re-parses the CSP) on every request, which showed up in the licensing hot path's profile.
 */
export function installSecurityHeaders(app: FastifyInstance) {
  const middleware = helmet({
    // The API answers JSON; the only HTML is the docs UI, whose assets are served from this origin.
    // upgrade-insecure-requests is left out: it would break the docs UI on http://localhost.
    contentSecurityPolicy: {
      directives: { 'img-src': ["'self'", 'data:'], 'script-src': ["'self'"], 'upgrade-insecure-requests': null },
    },
  });
  app.addHook('onRequest', (request, reply, done) => {
    middleware(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined));
  });
}

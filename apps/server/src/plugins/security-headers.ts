import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * Helmet's headers on every response. Helmet's header values depend only on its options, not on the request, so
 * its middleware runs once at start-up against a recording response and every reply gets the recorded headers in
 * one `reply.headers()` call (the per-request middleware chain showed up in the licensing hot path's profile).
 */
export function securityHeaders(): Record<string, string> {
  const middleware = helmet({
    // The API answers JSON; the only HTML is the docs UI, whose assets are served from this origin.
    // upgrade-insecure-requests is left out: it would break the docs UI on http://localhost.
    contentSecurityPolicy: {
      directives: { 'img-src': ["'self'", 'data:'], 'script-src': ["'self'"], 'upgrade-insecure-requests': null },
    },
  });
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let called = false;
  middleware({} as never, recorder as unknown as ServerResponse, () => {
    called = true;
  });
  if (!called) throw new Error('helmet did not finish synchronously; its headers cannot be precomputed');
  return headers;
}

/** Security headers and the request id (`x-request-id`) on every response, in one synchronous hook. */
export function installSecurityHeaders(app: FastifyInstance) {
  const headers = securityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    done();
  });
}

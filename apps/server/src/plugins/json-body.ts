import { AtriumError } from '@atrium/core';
import type { FastifyInstance } from 'fastify';

/** A `\uD800`–`\uDFFF` escape: only a body with one needs the full check. Escaped backslashes are sorted out there. */
const surrogateEscape = /\\u[dD][89a-fA-F]/;

/**
 * JSON bodies are I-JSON (RFC 7493 §2.1): a string may not hold an unpaired surrogate, such as `"\ud800"` without
 * its low half. JSON.parse accepts one, but PostgreSQL refuses it in jsonb (one such lease metadata value or flow
 * input failed its whole batch with a 500) and writes U+FFFD in its place in text columns. Fastify's own parser
 * (prototype-poisoning checks included) does the parsing; strings are checked only when the text has such an
 * escape, so ordinary bodies pay one regular-expression test.
 */
export function installJsonBodyParser(app: FastifyInstance) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string; // parseAs: 'string'
    parse(request, text, (err: Error | null, value?: unknown) => {
      if (err) return done(err);
      if (surrogateEscape.test(text) && !wellFormed(value)) {
        return done(
          new AtriumError(
            'malformed_json',
            'the body holds an unpaired surrogate (a \\ud800-\\udfff escape without its pair); JSON bodies must be I-JSON (RFC 7493)',
          ),
        );
      }
      done(null, value);
    });
  });
}

/** Every string and key is well-formed UTF-16; walked with a stack, as a body may nest deeply. */
export function wellFormed(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (!next.isWellFormed()) return false;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (next !== null && typeof next === 'object') {
      for (const [key, item] of Object.entries(next)) {
        if (!key.isWellFormed()) return false;
        pending.push(item);
      }
    }
  }
  return true;
}

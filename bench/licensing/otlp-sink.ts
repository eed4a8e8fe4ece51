import { createServer } from 'node:http';

/**
 * A stand-in for an OpenTelemetry Collector's OTLP/HTTP receiver (ab.sh tracing): accepts JSON trace exports on
 * /v1/traces, counts their spans and drops them. GET /count answers `{"exports": n, "spans": n}`, so the bench can
 * show that the traced server really sent what it measured.
 */
let exports = 0;
let spans = 0;
const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/count') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ exports, spans }));
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/v1/traces') return void response.writeHead(404).end();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }>;
    };
    exports += 1;
    for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans += scope.spans.length;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(Number(process.env.PORT ?? 4318), '127.0.0.1');

import Fastify from 'fastify';

/** The reference: a Fastify hello-world on the same machine, measured in the same run (DESIGN.md §6). */
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 18600) });

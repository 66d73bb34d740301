import Fastify from 'fastify';

/**
 * The baseline server: bare Fastify (no logger, no plugins, no validation)
 * answering the single-lookup route with a constant JSON body, the same bytes
 * Signet answered for a cached md5. Started by the bench as
 * `node bare-fastify.mjs` with PORT and BARE_BODY.
 */

const body = process.env.BARE_BODY ?? '{}';
const port = Number(process.env.PORT ?? '0');

const app = Fastify({ logger: false });

app.get('/v1/signatures/:md5', async (_request, reply) => {
  reply.type('application/json; charset=utf-8');
  return body;
});

app.get('/readyz', async () => ({ status: 'ready' }));

await app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

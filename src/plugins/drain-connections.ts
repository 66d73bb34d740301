import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * While the instance drains, every answer closes its connection: a keep-alive
 * client would otherwise hold the server open until its own idle timeout, and
 * it should reconnect to another instance anyway.
 */
async function drainConnectionsPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (app.lifecycle.state === 'stopping') reply.header('connection', 'close');
    done(null, payload);
  });
}

export const drainConnections = fp(drainConnectionsPlugin, { name: 'signet-drain-connections', dependencies: ['signet-lifecycle'] });

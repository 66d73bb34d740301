import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
}

/**
 * While the instance drains, every answer closes its connection: a keep-alive
 * client would otherwise hold the server open until its own idle timeout, and
 * it should reconnect to another instance anyway.
 *
 * When the close begins, every connection that is not carrying a fully received
 * request still being answered is destroyed: idle keep-alive connections, and
 * those whose request is incomplete (headers not all there, or a body still
 * arriving, perhaps after its early 401). Node's own `server.close()` closes
 * only the idle ones, so one half-sent request would hold the shutdown until
 * the grace ran out. A request whose body is not all there has not reached its
 * handler (the body is parsed first), so no work is lost.
 */
async function drainConnectionsPlugin(app: FastifyInstance): Promise<void> {
  const open = new Set<Socket>();
  const current = new Map<Socket, Exchange>();
  let stopping = false;

  const answering = (socket: Socket): boolean => {
    const exchange = current.get(socket);
    return exchange !== undefined && exchange.req.complete && !exchange.res.writableFinished;
  };
  const sweep = (socket: Socket): void => {
    if (!socket.destroyed && !answering(socket)) socket.destroy();
  };

  app.server.on('connection', (socket: Socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      current.delete(socket);
    });
  });
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const exchange = { req, res };
    current.set(socket, exchange);
    res.once('finish', () => {
      if (current.get(socket) === exchange) current.delete(socket);
      // The answer is out: whatever the connection still does (a body still arriving, keep-alive) can go.
      if (stopping) setImmediate(() => sweep(socket));
    });
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    if (app.lifecycle.state === 'stopping') reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('preClose', async () => {
    stopping = true;
    for (const socket of open) sweep(socket);
  });
}

export const drainConnections = fp(drainConnectionsPlugin, { name: 'signet-drain-connections', dependencies: ['signet-lifecycle'] });

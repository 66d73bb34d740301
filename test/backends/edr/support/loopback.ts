import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** A real server on 127.0.0.1, for what a mock dispatcher cannot fake: sockets, TLS, stalls, truncation, pooling. */
export interface LoopbackServer {
  url: string;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections(): number;
  /** Requests received so far. */
  requests(): number;
  /**
   * Sockets that carried a request and have closed since: an aborted request
   * shows up here. (After an abort, undici may open and drop one more idle
   * connection; counting only sockets that carried a request ignores it.)
   */
  closedRequestSockets(): number;
  close(): Promise<void>;
}

export async function startLoopbackServer(handler: http.RequestListener, tls?: { key: string; cert: string }): Promise<LoopbackServer> {
  let connections = 0;
  let requests = 0;
  let closedRequestSockets = 0;
  const requestSockets = new WeakSet<Socket>();
  const counting: http.RequestListener = (req, res) => {
    requests += 1;
    if (!requestSockets.has(req.socket)) {
      requestSockets.add(req.socket);
      req.socket.once('close', () => (closedRequestSockets += 1));
    }
    handler(req, res);
  };
  const server = tls === undefined ? http.createServer(counting) : https.createServer(tls, counting);
  const sockets = new Set<Socket>();
  // For TLS servers 'connection' is the raw TCP socket, which is what closing must destroy.
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A failed TLS handshake is expected in some tests; keep it from surfacing as an unhandled error.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    connections: () => connections,
    requests: () => requests,
    closedRequestSockets: () => closedRequestSockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on: bound, then released. */
export async function closedLoopbackPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls until `check` holds; for effects that land a tick after a promise settles (a socket closing). */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

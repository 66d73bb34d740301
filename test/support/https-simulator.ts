import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SimulatorControl, SimulatorInstance, SimulatorOptions } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';

export interface HttpsSimulator {
  instance: SimulatorInstance;
  /** Stats and faults (`instance.simulator`). */
  control: SimulatorControl;
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The Carbon Black simulator behind TLS, on 127.0.0.1. buildSimulator makes a
 * plain Fastify instance with no TLS option, so its router (`routing`, the
 * same handler Fastify mounts on its own server) serves a node:https server
 * holding the given key and certificate.
 */
export async function startHttpsSimulator(options: SimulatorOptions, tls: { key: string; cert: string }): Promise<HttpsSimulator> {
  const simulator = await buildSimulator(options);
  await simulator.ready();
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => simulator.routing(req, res));
  // 'connection' is the raw TCP socket, which closing must destroy (hung searches keep theirs open).
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that refuses the certificate aborts the handshake; that is expected here.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    instance: simulator,
    control: simulator.simulator,
    port,
    url: `https://127.0.0.1:${port}`,
    async close() {
      await simulator.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

/*
 * The real process under 1000 clients that stall: half of them never finish
 * their headers, half send headers and part of a body after authenticating.
 * Every socket must be answered 408 and closed by the timeouts, and the
 * service must keep answering while they hang.
 */

const TOKEN = 'stalled-token';
const KEY = 'stalled-key-0123456789abcdef';
const SOCKETS = 1000;
let simulator: SimulatorInstance;
let server: ServerProcess;

beforeAll(async () => {
  simulator = await buildSimulator({ token: TOKEN });
  const simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
  server = await startServerProcess({
    CB_URL: simulatorUrl,
    CB_API_TOKEN: TOKEN,
    API_KEYS: `test:${KEY}`,
    HTTP_HEADERS_TIMEOUT_MS: '2000',
    HTTP_REQUEST_TIMEOUT_MS: '3000',
  });
}, 30_000);
afterAll(async () => {
  server.child.kill('SIGKILL');
  await server.exit;
  await simulator.close();
});

function stall(port: number, bytes: string): Promise<{ closedAfterMs: number; answer: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ closedAfterMs: Date.now() - started, answer }));
    socket.write(bytes);
  });
}

describe('1000 stalled sockets', () => {
  it('are all answered 408 and closed by the timeouts, while the service keeps answering', async () => {
    const port = Number(new URL(server.url).port);
    const stalls = Array.from({ length: SOCKETS }, (_, i) =>
      stall(
        port,
        i % 2 === 0
          ? 'GET /healthz HTTP/1.1\r\nHost: x\r\n'
          : `POST /v1/signatures/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"items":[`,
      ),
    );
    // While they stall, the service answers.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const results = await Promise.all(stalls);
    const slowest = Math.max(...results.map((r) => r.closedAfterMs));
    // Node checks the timeouts every second (connectionsCheckingInterval), so a 3 s timeout closes by about 4 s.
    expect(slowest).toBeLessThan(8000);
    expect(results.filter((r) => /^HTTP\/1\.1 408 /.test(r.answer))).toHaveLength(SOCKETS);
    expect(results.every((r) => r.answer.includes('application/problem+json'))).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 30_000);
});

import { existsSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import { populationMd5, populationName } from '../../src/simulator/population.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

/*
 * The close of the real process under traffic that does not behave: requests
 * sent halfway, a stdout nobody reads, an upstream that never answers. Every
 * case must end in an exit well inside the grace, with the snapshot written.
 */

const TOKEN = 'shutdown-traffic-token';
const KEY = 'shutdown-traffic-key-0123456789';
const GRACE_MS = 10_000;
let slow: SimulatorInstance;
let slowUrl: string;
let hung: SimulatorInstance;
let hungUrl: string;
let dir: string;
let files = 0;

beforeAll(async () => {
  slow = await buildSimulator({ token: TOKEN, population: 10, latencyMs: 1500 });
  slowUrl = await slow.listen({ host: '127.0.0.1', port: 0 });
  hung = await buildSimulator({ token: TOKEN, population: 10, faults: { hangRate: 1 } });
  hungUrl = await hung.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'signet-shutdown-'));
});
afterAll(async () => {
  await slow.close();
  await hung.close();
});

async function start(extra: Record<string, string> = {}, snapshot = true): Promise<{ server: ServerProcess; file: string }> {
  const file = join(dir, `cache-${++files}.snap`);
  const server = await startServerProcess({
    CB_URL: slowUrl,
    CB_API_TOKEN: TOKEN,
    API_KEYS: `test:${KEY}`,
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    ...(snapshot && { CACHE_SNAPSHOT_FILE: file }),
    ...extra,
  });
  // Readiness waits for the (absent) snapshot's restore: the final write must not race it.
  await until(async () => (await fetch(`${server.url}/readyz`)).status === 200);
  expect(existsSync(file)).toBe(false);
  return { server, file };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** SIGTERM, then how long the process took to exit and how. */
async function terminate(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  server.child.kill('SIGTERM');
  // A process that hangs is killed after twice the grace, so the test fails on its assertions, not its timeout.
  const killer = setTimeout(() => server.child.kill('SIGKILL'), 2 * GRACE_MS);
  const exited = await server.exit;
  clearTimeout(killer);
  return { ...exited, ms: Date.now() - started };
}

/** A raw connection that has sent `bytes` and then nothing more. */
async function halfSent(server: ServerProcess, bytes: string): Promise<{ socket: Socket; received: () => string }> {
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(bytes);
  // Long enough for the server to have read and parsed what was sent.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { socket, received: () => received };
}

function logged(server: ServerProcess, message: string): boolean {
  return server.lines.some((line) => line.includes(message));
}

describe('shutdown of the real process under misbehaving traffic', () => {
  it('does not wait for a request whose headers never end', async () => {
    const { server, file } = await start();
    const { socket } = await halfSent(server, `GET /v1/signatures/${populationMd5(0)} HTTP/1.1\r\nHost: signet\r\nX-Partial: yes`);

    const exited = await terminate(server);
    socket.destroy();
    console.log(`half-sent headers: exit ${exited.code} after ${exited.ms} ms`);
    expect(exited).toMatchObject({ code: 0, signal: null });
    expect(exited.ms).toBeLessThan(3000);
    expect(existsSync(file)).toBe(true);
    expect(logged(server, 'cache snapshot written')).toBe(true);
  });

  it('does not wait for a body that stopped arriving after its 401', async () => {
    const { server, file } = await start();
    const { socket, received } = await halfSent(
      server,
      'POST /v1/signatures/batch HTTP/1.1\r\nHost: signet\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"items":[',
    );
    // No key: authentication answers before the body is read, and the connection then waits for the rest.
    await until(() => received().startsWith('HTTP/1.1 401'));

    const exited = await terminate(server);
    socket.destroy();
    console.log(`body in progress: exit ${exited.code} after ${exited.ms} ms`);
    expect(exited).toMatchObject({ code: 0, signal: null });
    expect(exited.ms).toBeLessThan(3000);
    expect(existsSync(file)).toBe(true);
  });

  it('still answers a complete slow request, next to a half-sent one, before exiting', async () => {
    const { server, file } = await start();
    const { socket } = await halfSent(server, 'GET /healthz HTTP/1.1\r\nHost: sig');
    const answer = fetch(`${server.url}/v1/signatures/${populationMd5(1)}?name=${populationName(1)}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    await until(() => slow.simulator.stats.inFlight > 0);

    const exited = terminate(server);
    const response = await answer;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { md5: string }).md5).toBe(populationMd5(1));
    expect(response.headers.get('connection')).toBe('close');
    const { ms, ...how } = await exited;
    socket.destroy();
    console.log(`slow request in flight: exit ${how.code} after ${ms} ms`);
    expect(how).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(3000);
    expect(existsSync(file)).toBe(true);
  });

  it.each([
    ['without a snapshot file', false],
    ['with a snapshot file', true],
  ])('exits when stdout and stderr are a pipe nobody reads any more (%s)', async (what, snapshot) => {
    const { server, file } = await start({}, snapshot);
    // The parent's read ends go: every later write of the process fails with EPIPE. Nothing is
    // logged before the SIGTERM, so the first failed write is the close's own: pino's exit flush
    // used to retry it forever, deaf to any further signal.
    server.child.stdout!.destroy();
    server.child.stderr!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const exited = await terminate(server);
    console.log(`closed stdout/stderr pipe (${what}): exit ${exited.code} after ${exited.ms} ms`);
    expect(exited).toMatchObject({ code: 0, signal: null });
    expect(exited.ms).toBeLessThan(3000);
    expect(existsSync(file)).toBe(snapshot);
  });

  it('when the grace runs out, still writes the snapshot, then exits 1', async () => {
    const { server, file } = await start({
      CB_URL: hungUrl,
      SHUTDOWN_GRACE_MS: '1000',
      CB_TIMEOUT_MS: '60000',
      CB_DEADLINE_MS: '60000',
      CB_RETRIES: '0',
    });
    const answer = fetch(`${server.url}/v1/signatures/${populationMd5(2)}?name=${populationName(2)}`, {
      headers: { authorization: `Bearer ${KEY}` },
    }).catch((error: unknown) => error);
    await until(() => hung.simulator.stats.inFlight > 0);

    const exited = await terminate(server);
    console.log(`grace exceeded: exit ${exited.code} after ${exited.ms} ms`);
    expect(exited).toMatchObject({ code: 1, signal: null });
    expect(exited.ms).toBeGreaterThanOrEqual(1000);
    expect(exited.ms).toBeLessThan(4000);
    expect(existsSync(file)).toBe(true);
    expect(logged(server, 'shutdown grace of 1000 ms expired')).toBe(true);
    expect(logged(server, 'cache snapshot written')).toBe(true);
    // The request that could not finish lost its connection rather than an answer it never had.
    expect(await answer).toBeInstanceOf(Error);
  });

  it('exits at once on a second SIGTERM while the close waits', async () => {
    const { server } = await start({ CB_URL: hungUrl, CB_TIMEOUT_MS: '60000', CB_DEADLINE_MS: '60000', CB_RETRIES: '0' });
    const answer = fetch(`${server.url}/v1/signatures/${populationMd5(3)}?name=${populationName(3)}`, {
      headers: { authorization: `Bearer ${KEY}` },
    }).catch((error: unknown) => error);
    await until(() => hung.simulator.stats.inFlight > 0);
    server.child.kill('SIGTERM');
    await until(() => logged(server, 'shutting down'));

    const exited = await terminate(server);
    console.log(`second SIGTERM: exit ${exited.code} after ${exited.ms} ms`);
    expect(exited).toMatchObject({ code: 1, signal: null });
    expect(exited.ms).toBeLessThan(1000);
    await answer;
  });
});

/**
 * `signet health`: both probes on stdout, a line on stderr, exit 0 only when
 * the instance is ready (a proxy stands in for one that is stopping).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliStack, Proxy } from './support.js';
import { cliEnv, runCli, startCliStack, startProxy } from './support.js';

let stack: CliStack;
let stopping: Proxy;
beforeAll(async () => {
  stack = await startCliStack();
  stopping = await startProxy(stack.url, (request, response) => {
    if (request.path !== '/readyz') return false;
    response
      .writeHead(503, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'stopping', carbonBlack: { breaker: 'closed', inFlight: 0, queued: 0 } }));
    return true;
  });
});
afterAll(async () => {
  await stopping.close();
  await stack.close();
});

describe('signet health', () => {
  it('ready: exit 0, both probes as JSON, the Carbon Black state in words', async () => {
    const run = await runCli(['health', '--json'], { env: cliEnv(stack) });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      healthz: { status: 200, body: { status: 'ok' } },
      readyz: {
        status: 200,
        body: { status: 'ready', carbonBlack: { breaker: 'closed', inFlight: 0, queued: 0 }, sharedCache: 'disabled' },
      },
    });
    expect(run.stderr).toBe('signet: ready (Carbon Black breaker closed, 0 in flight, 0 queued)\n');
  });

  it('live but not ready: exit 3', async () => {
    const run = await runCli(['health'], { env: cliEnv(stopping) });
    expect(run.status).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ healthz: { status: 200 }, readyz: { status: 503, body: { status: 'stopping' } } });
    expect(run.stderr).toContain('signet: not ready: /readyz answered 503 stopping');
  });

  it('unreachable: exit 3, the failure on stdout and stderr', async () => {
    await stopping.close();
    const run = await runCli(['health'], { env: cliEnv(stopping) });
    expect(run.status).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ healthz: { status: null, error: { code: 'SIGNET_UNREACHABLE', retryable: true } } });
    expect(run.stderr).toMatch(/^signet: not live: SIGNET_UNREACHABLE \(retryable\)/);
  });
});

import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/*
 * A batch whose items fail (Carbon Black down) logs one line, with one example
 * error and the count per code, not one line with a stack per item: at outage
 * rates the per-item lines piled up faster than the log drained (the outage
 * soak's heap passed 800 MiB).
 */

const lines: Array<Record<string, unknown>> = [];
const stream = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  },
});

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: { CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '1000', CB_BREAKER_MIN_CALLS: '1000' },
    simulator: { faults: { errorRate: 1, errorStatus: 500 } },
    deps: { logger: createLogger({ level: 'warn', pretty: false, destination: stream }) },
  });
});
afterAll(() => stack.close());

describe('a batch whose items fail', () => {
  it('logs one line per batch, with an example error and the count per code', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ md5: i.toString(16).padStart(32, 'a'), name: 'x' }));
    const response = await stack.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } });
    expect(response.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const batchLines = lines.filter((line) => typeof line.msg === 'string' && String(line.msg).startsWith('batch item'));
    expect(batchLines).toHaveLength(1);
    expect(batchLines[0]).toMatchObject({ msg: 'batch items failed', failures: { CB_SERVER_ERROR: 40 } });
    expect(batchLines[0]!.err).toBeDefined();
  });
});

import { requestCount } from '../support/stack.js';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createCarbonBlackClient } from '../../src/backends/edr/client.js';
import { loadConfig } from '../../src/config.js';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';

const TOKEN = 'recovery-test-token';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function simulatorOn(port: number): Promise<{ simulator: SimulatorInstance; port: number }> {
  const simulator = await buildSimulator({ token: TOKEN });
  await simulator.listen({ host: '127.0.0.1', port });
  const address = simulator.server.address();
  return { simulator, port: typeof address === 'object' && address ? address.port : port };
}

describe('Carbon Black down, then back', () => {
  it('answers 502 while it is down, caches nothing, and asks again once it is back', async () => {
    const first = await simulatorOn(0);
    const { port } = first;
    await first.simulator.close();

    const config = loadConfig({ CB_URL: `http://127.0.0.1:${port}`, CB_API_TOKEN: TOKEN, AUTH_DISABLED: 'true', CB_RETRIES: '0' });
    const carbonBlack = createCarbonBlackClient({
      baseUrl: config.carbonBlack.url,
      token: TOKEN,
      joinField: 'digsig_prog_name',
      timeoutMs: 5000,
    });
    const app = await buildApp(config, { carbonBlack });
    cleanups.push(
      () => carbonBlack.close(),
      () => app.close(),
    );

    const down = await app.inject(`/v1/signatures/${samples.signed.md5}?name=git`);
    expect(down.statusCode).toBe(502);
    expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(down.json()).toMatchObject({ status: 502, code: 'CB_UNREACHABLE', title: 'Carbon Black is unreachable', retryable: true });
    expect(down.body).not.toContain('signed');
    expect(app.signatures.stats().size).toBe(0);

    const back = await simulatorOn(port);
    cleanups.push(() => back.simulator.close());
    const recovered = await app.inject(`/v1/signatures/${samples.signed.md5}?name=git`);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.json()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    expect(requestCount(back.simulator.simulator.stats)).toBe(1);
  });
});

import { requestCount } from '../support/stack.js';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { carbonBlackClientFromConfig } from '../../src/backends/edr/client-from-config.js';
import { loadConfig } from '../../src/config.js';
import { samples } from '../../src/simulator/fixtures.js';
import type { TlsFixture } from '../backends/edr/support/tls-fixture.js';
import { createTlsFixture } from '../backends/edr/support/tls-fixture.js';
import type { HttpsSimulator } from '../support/https-simulator.js';
import { startHttpsSimulator } from '../support/https-simulator.js';

/*
 * Signet talking to Carbon Black over HTTPS, configured the way an operator
 * does it: the simulator serves a certificate for 127.0.0.1/localhost issued
 * by a throwaway CA (made with openssl at test time), and the app is built
 * from the environment with the same client factory `npm start` uses.
 *   - CB_CA_FILE names the CA: lookups succeed;
 *   - no CA: 502 CB_TLS_UNTRUSTED, saying the certificate was not trusted,
 *     the search never reaches the server and nothing is cached;
 *   - CB_TLS_INSECURE=true: lookups succeed without the CA, and the real
 *     entry point warns about it at start.
 */

const TOKEN = 'tls-test-token-0123456789abcdef';
const API_KEY = 'tls-test-api-key-0123456789abcdef';

let fixture: TlsFixture;
let simulator: HttpsSimulator;
/** Issued by the trusted CA, but for cb.internal only. */
let wrongName: HttpsSimulator;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  fixture = createTlsFixture();
  simulator = await startHttpsSimulator({ token: TOKEN }, fixture.leaf);
  wrongName = await startHttpsSimulator({ token: TOKEN }, fixture.wrongName);
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  simulator.control.resetStats();
});
afterAll(async () => {
  await simulator?.close();
  await wrongName?.close();
  fixture?.cleanup();
});

async function signet(env: Record<string, string>, url = simulator.url): Promise<FastifyInstance> {
  const config = loadConfig({ CB_URL: url, CB_API_TOKEN: TOKEN, AUTH_DISABLED: 'true', CB_RETRIES: '0', ...env });
  const carbonBlack = carbonBlackClientFromConfig(config.carbonBlack);
  const app = await buildApp(config, { carbonBlack });
  closers.push(async () => {
    await app.close();
    await carbonBlack.close();
  });
  await app.ready();
  return app;
}

const lookup = (app: FastifyInstance, sample: { md5: string; name: string } = samples.signed) =>
  app.inject(`/v1/signatures/${sample.md5}?name=${encodeURIComponent(sample.name)}`);

describe('with CB_CA_FILE naming the CA', () => {
  it('looks up over TLS', async () => {
    const app = await signet({ CB_CA_FILE: fixture.caFile });
    const signed = await lookup(app);
    expect(signed.statusCode, signed.body).toBe(200);
    expect(signed.json()).toMatchObject({ md5: samples.signed.md5, signed: true });
    const unsigned = await lookup(app, samples.unsigned);
    expect(unsigned.json()).toMatchObject({ signed: false });
    expect(requestCount(simulator.control.stats)).toBe(2);
  });

  it('also by the name localhost, which the certificate names too', async () => {
    const app = await signet({ CB_CA_FILE: fixture.caFile }, `https://localhost:${simulator.port}`);
    const response = await lookup(app);
    expect(response.statusCode, response.body).toBe(200);
  });

  it('still checks the name: a certificate from the same CA for another host is refused', async () => {
    const app = await signet({ CB_CA_FILE: fixture.caFile }, wrongName.url);
    const response = await lookup(app);
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ code: 'CB_TLS_UNTRUSTED' });
    expect(requestCount(wrongName.control.stats)).toBe(0);
  });
});

describe('without CB_CA_FILE', () => {
  it('answers 502 CB_TLS_UNTRUSTED saying the certificate was not trusted, and caches nothing', async () => {
    const app = await signet({});
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await lookup(app);
      expect(response.statusCode).toBe(502);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json() as Record<string, string>;
      expect(problem).toMatchObject({ status: 502, code: 'CB_TLS_UNTRUSTED', type: 'urn:signet:problem:cb-tls-untrusted' });
      expect(problem.title).toMatch(/TLS certificate is not trusted/);
      expect(problem.detail).toMatch(/not trusted/);
      expect(problem.detail).toContain('CB_CA_FILE');
      expect(JSON.stringify(problem)).not.toContain(TOKEN);
    }
    expect(app.signatures.stats().size).toBe(0);
    // The handshake failed, so no search reached the server.
    expect(requestCount(simulator.control.stats)).toBe(0);
  });

  it('gives a batch item the same error', async () => {
    const app = await signet({});
    const response = await app.inject({
      method: 'POST',
      url: '/v1/signatures/batch',
      payload: { items: [{ md5: samples.signed.md5, name: 'git' }] },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ results: [{ error: { status: 502, code: 'CB_TLS_UNTRUSTED' } }] });
    expect(app.signatures.stats().size).toBe(0);
  });
});

describe('with CB_TLS_INSECURE=true', () => {
  it('looks up without the CA', async () => {
    const app = await signet({ CB_TLS_INSECURE: 'true' });
    const response = await lookup(app);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ signed: true });
  });

  it('looks up even when the certificate names another host', async () => {
    const app = await signet({ CB_TLS_INSECURE: 'true' }, wrongName.url);
    expect((await lookup(app)).statusCode).toBe(200);
  });
});

describe('npm start with CB_TLS_INSECURE=true', () => {
  let child: ChildProcessWithoutNullStreams | undefined;

  afterEach(() => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it('warns at start, serves lookups, and exits cleanly on SIGTERM', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: new URL('../..', import.meta.url),
      env: {
        PATH: process.env.PATH ?? '',
        CB_URL: simulator.url,
        CB_API_TOKEN: TOKEN,
        CB_TLS_INSECURE: 'true',
        API_KEYS: `ops:${API_KEY}:admin`,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        SHUTDOWN_GRACE_MS: '2000',
      },
    });
    const proc = child;
    const stderr: string[] = [];
    proc.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const entries: Array<Record<string, unknown>> = [];
    const lines = createInterface({ input: proc.stdout });

    // Read the JSON log lines until the listening line (or the process ends, or a bound passes).
    const listening = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 15 s; stderr: ${stderr.join('')}`)), 15_000);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code} before listening; stderr: ${stderr.join('')}`));
      });
      lines.on('line', (line) => {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        entries.push(entry);
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg ?? ''));
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });

    const warnings = entries.filter((entry) => entry.level === 40);
    expect(warnings.map((entry) => entry.msg)).toEqual(expect.arrayContaining([expect.stringContaining('CB_TLS_INSECURE')]));
    // The warning comes before the server is listening, i.e. at start.
    const warnedAt = entries.findIndex((entry) => entry.level === 40 && String(entry.msg).includes('CB_TLS_INSECURE'));
    const listenedAt = entries.findIndex((entry) => String(entry.msg).startsWith('Server listening'));
    expect(warnedAt).toBeLessThan(listenedAt);

    const response = await fetch(`${listening}/v1/signatures/${samples.signed.md5}?name=git`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { signed: boolean }).signed).toBe(true);

    const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    proc.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stderr.join('')).not.toContain(TOKEN);
  }, 30_000);
});

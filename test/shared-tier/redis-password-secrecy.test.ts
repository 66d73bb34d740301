import type * as childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildSimulator, type SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

/*
 * The Redis password reaches Redis and nothing else: the real server process
 * (src/server.ts), given it in REDIS_PASSWORD or REDIS_PASSWORD_FILE, connects
 * and shares its verdicts, and neither its stdout nor its stderr ever holds
 * the password (the settings line shows "[redacted]"). Given a wrong one, it
 * stays ready with the shared cache down, answers lookups alone, and repeats
 * neither the wrong password nor the right one while Redis refuses it.
 */

/*
 * startServerProcess keeps stdout's lines but not stderr's: every child's
 * stderr is also collected here, from its first byte, by wrapping spawn.
 */
const stderrOf = vi.hoisted(() => new Map<ChildProcess, string[]>());
vi.mock('node:child_process', async (importOriginal) => {
  const original = await importOriginal<typeof childProcess>();
  const spawn = ((...args: Parameters<typeof original.spawn>) => {
    const child = original.spawn(...args);
    const chunks: string[] = [];
    stderrOf.set(child, chunks);
    child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    return child;
  }) as typeof original.spawn;
  return { ...original, default: { ...original, spawn }, spawn };
});

const PASSWORD = `RedisPw-${randomBytes(12).toString('hex')}`;
const WRONG_PASSWORD = `WrongPw-${randomBytes(12).toString('hex')}`;
const API_KEY = `k${randomBytes(16).toString('hex')}`;

let redis: RedisServer;
let simulator: SimulatorInstance;
let simulatorEnv: Record<string, string>;
let dir: string;
const running = new Set<ServerProcess>();

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  const token = `sim-${randomBytes(12).toString('hex')}`;
  simulator = await buildSimulator({ token });
  simulatorEnv = { CB_URL: await simulator.listen({ host: '127.0.0.1', port: 0 }), CB_API_TOKEN: token, API_KEYS: `tester:${API_KEY}` };
  dir = mkdtempSync(join(tmpdir(), 'signet-redis-secret-'));
});
afterEach(async () => {
  for (const server of running) await stop(server);
});
afterAll(async () => {
  await simulator?.close();
  await redis?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<{ server: ServerProcess; prefix: string }> {
  const prefix = `secret-${randomBytes(4).toString('hex')}:`;
  const server = await startServerProcess({
    ...simulatorEnv,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    REDIS_TIMEOUT_MS: '1000',
    ...env,
  });
  running.add(server);
  return { server, prefix };
}

async function stop(server: ServerProcess): Promise<void> {
  running.delete(server);
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
  expect(await server.exit).toEqual({ code: 0, signal: null });
}

/** Every line the process wrote, stdout and stderr. */
function output(server: ServerProcess): string[] {
  expect(stderrOf.has(server.child), "the child's stderr is collected").toBe(true);
  return [...server.lines, ...(stderrOf.get(server.child) ?? []).join('').split('\n')];
}

/** The password, or any 12-character piece of it: a clipped or sliced leak is still a leak. */
function leaks(lines: readonly string[], secret: string): string[] {
  const pieces = Array.from({ length: secret.length - 11 }, (_, i) => secret.slice(i, i + 12));
  return lines.filter((line) => pieces.some((piece) => line.includes(piece)));
}

async function readiness(server: ServerProcess): Promise<{ status: number; sharedCache: string }> {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, sharedCache: ((await response.json()) as { sharedCache: string }).sharedCache };
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function lookup(server: ServerProcess, md5: string, name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function settingsLine(server: ServerProcess): Record<string, unknown> {
  const line = server.lines.find((each) => each.includes('"settings in force"'));
  expect(line, 'the settings line').toBeDefined();
  return (JSON.parse(line!) as { settings: Record<string, unknown> }).settings;
}

/** Lookups answered, and (when the shared tier is up) the verdicts now in Redis under the process's prefix. */
async function expectLookups(server: ServerProcess, prefix: string, shared: boolean): Promise<void> {
  const signed = await lookup(server, samples.signed.md5, samples.signed.name);
  expect(signed.status).toBe(200);
  expect(signed.body.verdict).toBe('signed');
  const unknownMd5 = randomBytes(16).toString('hex');
  const unknown = await lookup(server, unknownMd5, 'tool.exe');
  expect(unknown.status).toBe(200);
  expect(unknown.body.verdict).toBe('unknown');
  const stored = await redis.command('GET', `${prefix}verdict:${samples.signed.md5}`);
  if (shared) expect(JSON.parse(stored)).toMatchObject({ v: 1, basis: 'binary-record', hashes: [samples.signed.md5] });
  else expect(stored).toBe('');
}

describe('the Redis password', () => {
  it('from REDIS_PASSWORD: connects, shares verdicts, and never appears in the output', async () => {
    const { server, prefix } = await start({ REDIS_PASSWORD: PASSWORD });
    await eventually(async () => (await readiness(server)).sharedCache === 'up', 'the shared cache up');
    await expectLookups(server, prefix, true);
    expect(settingsLine(server)).toMatchObject({ REDIS_URL: redis.url, REDIS_PASSWORD: '[redacted]' });
    await stop(server);
    expect(leaks(output(server), PASSWORD)).toEqual([]);
  });

  it('from REDIS_PASSWORD_FILE: connects, shares verdicts, and never appears in the output', async () => {
    const file = join(dir, 'redis-password');
    writeFileSync(file, `${PASSWORD}\n`);
    const { server, prefix } = await start({ REDIS_PASSWORD_FILE: file });
    await eventually(async () => (await readiness(server)).sharedCache === 'up', 'the shared cache up');
    await expectLookups(server, prefix, true);
    const settings = settingsLine(server);
    expect(settings).toMatchObject({ REDIS_PASSWORD_FILE: file });
    expect(settings).not.toHaveProperty('REDIS_PASSWORD');
    await stop(server);
    expect(leaks(output(server), PASSWORD)).toEqual([]);
  });

  it.each([
    ['REDIS_PASSWORD', (): Record<string, string> => ({ REDIS_PASSWORD: WRONG_PASSWORD })],
    [
      'REDIS_PASSWORD_FILE',
      (): Record<string, string> => {
        const file = join(dir, 'wrong-password');
        writeFileSync(file, ` ${WRONG_PASSWORD} \n`);
        return { REDIS_PASSWORD_FILE: file };
      },
    ],
  ])('wrong, from %s: ready with the shared cache down, lookups answered alone, neither password in the output', async (_, env) => {
    const { server, prefix } = await start(env());
    // Refused over and over (ioredis reconnects): each refusal is a chance to log the password.
    for (let i = 0; i < 10; i++) {
      expect(await readiness(server)).toEqual({ status: 200, sharedCache: 'down' });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await expectLookups(server, prefix, false);
    expect(await readiness(server)).toEqual({ status: 200, sharedCache: 'down' });
    await stop(server);
    const lines = output(server);
    expect(leaks(lines, WRONG_PASSWORD)).toEqual([]);
    expect(leaks(lines, PASSWORD)).toEqual([]);
  });
});

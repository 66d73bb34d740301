/**
 * The shared tier's test helper itself (test/support/redis-server.ts): a real
 * redis-server on a free loopback port that tests can stop, kill and start
 * again on the same port, and that never outlives the test process.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const execFileAsync = promisify(execFile);
const helper = fileURLToPath(new URL('../support/redis-server.ts', import.meta.url));

/** Whether something accepts TCP connections on 127.0.0.1:port. */
async function accepts(port: number): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** Waits (up to 5 s) until nothing listens on the port any more. */
async function closedWithin5s(port: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!(await accepts(port))) return true;
    await sleep(50);
  }
  return false;
}

const servers: RedisServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

describe('startRedis', () => {
  it('serves commands on a loopback port named by its URL', async () => {
    const redis = await startRedis();
    servers.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.password).toBeUndefined();
    expect(await redis.command('PING')).toBe('PONG');
    expect(await redis.command('SET', 'signet:test', 'value with spaces')).toBe('OK');
    expect(await redis.command('GET', 'signet:test')).toBe('value with spaces');
    // No persistence: nothing would survive a restart.
    expect(await redis.command('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nno');
    expect(await redis.command('CONFIG', 'GET', 'save')).toBe('save');
  });

  it('requires the password when given one, and authenticates its own commands with it', async () => {
    const redis = await startRedis({ password: 'test-redis-password-0123' });
    servers.push(redis);
    expect(redis.password).toBe('test-redis-password-0123');
    expect(new URL(redis.url).password).toBe('');
    const anonymous = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), 'PING'], { encoding: 'utf8' });
    expect(anonymous.stdout).toMatch(/NOAUTH/);
    expect(await redis.command('PING')).toBe('PONG');
  });

  it('gives two servers two ports', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    servers.push(a, b);
    expect(a.port).not.toBe(b.port);
    await a.command('SET', 'k', 'a');
    expect(await b.command('GET', 'k')).toBe('');
  });
});

describe('kill, stop and restart', () => {
  it('kill() takes Redis away at once; restart() brings it back empty on the same port', async () => {
    const redis = await startRedis({ password: 'test-redis-password-4567' });
    servers.push(redis);
    const { port } = redis;
    await redis.command('SET', 'verdict', 'signed');
    await redis.kill();
    expect(await accepts(port)).toBe(false);
    await expect(redis.command('PING')).rejects.toThrow();
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(await accepts(port)).toBe(true);
    expect(await redis.command('PING')).toBe('PONG');
    // Killed without persistence: the key is gone.
    expect(await redis.command('GET', 'verdict')).toBe('');
  });

  it('stop() waits for the process to exit; restart() after it serves again', async () => {
    const redis = await startRedis();
    servers.push(redis);
    await redis.stop();
    expect(await accepts(redis.port)).toBe(false);
    await redis.restart();
    expect(await redis.command('PING')).toBe('PONG');
    // restart() of a running server stops it first.
    await redis.command('SET', 'k', 'v');
    await redis.restart();
    expect(await redis.command('GET', 'k')).toBe('');
  });

  it('kill() and stop() of a server that is not running do nothing', async () => {
    const redis = await startRedis();
    servers.push(redis);
    await redis.kill();
    await expect(redis.kill()).resolves.toBeUndefined();
    await expect(redis.stop()).resolves.toBeUndefined();
  });
});

describe('no server outlives the test process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signet-redis-support-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A Node process that starts a server, prints its port, then does `then`. */
  async function childWith(then: string): Promise<{ port: number; child: ReturnType<typeof spawn>; exited: Promise<unknown> }> {
    const script = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
    writeFileSync(
      script,
      [
        `import { startRedis } from ${JSON.stringify(pathToFileURL(helper).href)};`,
        'const redis = await startRedis();',
        'console.log(`port ${redis.port}`);',
        then,
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Listened for at once: the child may exit before its port line is read.
    const exited = once(child, 'exit');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let closed = false;
    child.once('close', () => (closed = true));
    const deadline = Date.now() + 15_000;
    while (!/port (\d+)/.test(stdout)) {
      // 'close' comes after the last of its output has been read.
      if (closed || Date.now() > deadline) throw new Error(`the child did not start Redis: ${stdout}${stderr}`);
      await sleep(20);
    }
    return { port: Number(/port (\d+)/.exec(stdout)?.[1]), child, exited };
  }

  it('kills the server when the process exits without stopping it', { timeout: 30_000 }, async () => {
    const { port, exited } = await childWith('process.exit(0);');
    await exited;
    expect(await closedWithin5s(port)).toBe(true);
  });

  it('kills the server when the process is SIGKILLed (no exit handler runs)', { timeout: 30_000 }, async () => {
    const { port, child, exited } = await childWith('setInterval(() => undefined, 1000);');
    expect(await accepts(port)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    expect(await closedWithin5s(port)).toBe(true);
  });
});

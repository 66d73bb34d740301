import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './children.js';

/**
 * A real Redis for the fleet scenario: Debian's `redis-server` (on PATH; CI
 * installs it) on a free loopback port, without persistence. It is not a
 * node child, so children.ts cannot start it; it is killed the same way when
 * the bench exits (children.ts turns SIGINT/SIGTERM/SIGHUP into an exit), and a
 * watchdog shell kills it should the bench die without running its exit
 * handlers (SIGKILL). Commands go over a plain socket in RESP, so nothing
 * beyond redis-server is needed (no redis-cli, no client library).
 */

export interface BenchRedis {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  port: number;
  pid: number | undefined;
  /** One command on a fresh connection; the reply (a string, a number, null, or an array of those), or throws on an error reply. */
  command(...args: string[]): Promise<RespValue>;
  /** SIGTERM, SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export type RespValue = string | number | null | RespValue[];

const READY_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** A `sh` that SIGKILLs `pid` once its stdin (a pipe from this process) closes, however this process ends. */
function watchdog(pid: number): ChildProcess {
  const guard = spawn('sh', ['-c', 'cat >/dev/null; kill -9 "$1" 2>/dev/null', 'sh', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  guard.on('error', () => undefined);
  guard.unref();
  (guard.stdin as unknown as { _handle?: { unref?: () => void } } | null)?._handle?.unref?.();
  return guard;
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Parses one RESP2 reply at `at`; undefined while incomplete. */
function parse(buffer: Buffer, at: number): { value: RespValue | Error; next: number } | undefined {
  const end = buffer.indexOf('\r\n', at);
  if (end === -1) return undefined;
  const type = String.fromCharCode(buffer[at]!);
  const line = buffer.toString('utf8', at + 1, end);
  switch (type) {
    case '+':
      return { value: line, next: end + 2 };
    case '-':
      return { value: new Error(line), next: end + 2 };
    case ':':
      return { value: Number(line), next: end + 2 };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: end + 2 };
      if (buffer.length < end + 2 + length + 2) return undefined;
      return { value: buffer.toString('utf8', end + 2, end + 2 + length), next: end + 2 + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: end + 2 };
      const items: RespValue[] = [];
      let next = end + 2;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, next);
        if (item === undefined) return undefined;
        if (item.value instanceof Error) return item;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      return { value: new Error(`unexpected RESP reply type ${JSON.stringify(type)}`), next: buffer.length };
  }
}

/** One command to 127.0.0.1:`port` on a fresh connection. */
export function redisCommand(port: number, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      outcome();
    };
    socket.setTimeout(timeoutMs, () => settle(() => reject(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`))));
    socket.once('error', (error) => settle(() => reject(error)));
    socket.once('close', () => settle(() => reject(new Error(`redis ${args[0]}: connection closed before a reply`))));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const reply = parse(buffer, 0);
      if (reply === undefined) return;
      const { value } = reply;
      settle(() => (value instanceof Error ? reject(value) : resolve(value)));
    });
    socket.write(encode(args));
  });
}

export async function startRedis(): Promise<BenchRedis> {
  installExitHook();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let failure: Error | undefined;
  child.once('error', (error) => {
    failure =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? new Error('redis-server is not on PATH: the fleet scenario needs a real Redis (Debian: apt-get install redis-server)')
        : error;
  });
  live.add(child);
  const guard = child.pid === undefined ? undefined : watchdog(child.pid);
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      live.delete(child);
      guard?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      resolve();
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null && failure === undefined;

  async function untilPong(): Promise<void> {
    const deadline = performance.now() + READY_TIMEOUT_MS;
    let last = '';
    for (;;) {
      // A spawn failure (ENOENT) is reported on the next tick: give it one.
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (failure !== undefined) throw failure;
      if (!running())
        throw new Error(
          `redis-server on 127.0.0.1:${port} exited (${child.exitCode ?? child.signalCode}) before answering PING:\n${output}`,
        );
      try {
        const reply = await redisCommand(port, ['PING'], 1000);
        if (reply === 'PONG') return;
        last = String(reply);
      } catch (error) {
        last = (error as Error).message;
      }
      if (performance.now() > deadline) {
        throw new Error(
          `redis-server on 127.0.0.1:${port} did not answer PING within ${READY_TIMEOUT_MS / 1000} s (last: ${last}):\n${output}`,
        );
      }
    }
  }

  try {
    await untilPong();
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    command: (...commandArgs) => redisCommand(port, commandArgs),
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

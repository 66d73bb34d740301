import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * A real Redis for the shared tier's integration tests: Debian's `redis-server`
 * (on PATH; .ci/run installs it) on a free loopback port, without persistence,
 * driven through `redis-cli`. It can be stopped, killed mid-run and started
 * again on the same port, so that tests can take Redis away from a running
 * Signet and give it back.
 *
 * A server never outlives the test process: it is killed when the process
 * exits, and a watchdog kills it should the process die without running its
 * exit handlers (a signal, SIGKILL).
 */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, without the password (Signet refuses one in REDIS_URL). */
  url: string;
  port: number;
  password: string | undefined;
  /** Runs `redis-cli <args...>` against it and returns its stdout, trimmed (an error reply is returned as text too). */
  command(...args: string[]): Promise<string>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for the process to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (stopping it first if it runs) and waits until it answers PING. */
  restart(): Promise<void>;
  /** SIGKILL, for "Redis dies mid-run": no shutdown, connections reset. Waits for the process to exit. */
  kill(): Promise<void>;
}

export interface RedisServerOptions {
  /** Sets `requirepass`; `command` authenticates with it. */
  password?: string;
}

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Every server still running, killed when the test process exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** A port the kernel says is free on 127.0.0.1 now (it may be taken again before redis-server binds it; rare). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/**
 * A `sh` that waits for its stdin to close and then SIGKILLs `pid`. Its stdin is
 * a pipe from this process, closed by the kernel however this process ends.
 */
function watchdog(pid: number): ChildProcess {
  const guard = spawn('sh', ['-c', 'cat >/dev/null; kill -9 "$1" 2>/dev/null', 'sh', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  guard.on('error', () => undefined);
  // Neither the watchdog nor its pipe may keep the test process alive.
  guard.unref();
  (guard.stdin as unknown as { _handle?: { unref?: () => void } } | null)?._handle?.unref?.();
  return guard;
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  installExitHook();
  const { password } = options;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'signet-redis-'));
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const cli = async (args: string[]): Promise<string> => {
    const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args], {
      encoding: 'utf8',
      timeout: READY_TIMEOUT_MS,
    });
    return stdout.trim();
  };

  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const launch = async (): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    output = '';
    const args = ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--port', String(port), '--dir', dir];
    if (password !== undefined) args.push('--requirepass', password);
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    let failure: Error | undefined;
    started.once('error', (error) => {
      failure =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('redis-server is not on PATH (Debian: apt-get install redis-server)')
          : error;
    });
    const guard = started.pid === undefined ? undefined : watchdog(started.pid);
    exited = new Promise((resolve) =>
      started.once('close', () => {
        running.delete(started);
        guard?.kill('SIGKILL');
        resolve();
      }),
    );
    child = started;
    running.add(started);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = '';
    for (;;) {
      if (failure) throw failure;
      if (started.exitCode !== null || started.signalCode !== null) {
        const status = started.exitCode ?? started.signalCode;
        throw new Error(`redis-server on 127.0.0.1:${port} exited (${String(status)}) before answering PING:\n${output}`);
      }
      try {
        last = await cli(['ping']);
        if (last === 'PONG') return;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(
          `redis-server on 127.0.0.1:${port} did not answer PING within ${READY_TIMEOUT_MS / 1000} s (last: ${last.trim()}):\n${output}`,
        );
      }
      await sleep(50);
    }
  };

  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (!isRunning()) return exited;
    child?.kill(name);
    if (name === 'SIGKILL') return exited;
    const timer = setTimeout(() => child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  await launch();

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    password,
    command: (...args) => cli(args),
    stop: async () => {
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await signal('SIGTERM');
      await launch();
    },
    kill: () => signal('SIGKILL'),
  };
}

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';

/**
 * Child processes of the bench: every server under test runs in its own
 * process so that the load generator (this process) and the server each get
 * a core. Every child is registered and SIGKILLed when this process exits,
 * whatever the reason (normal end, crash, Ctrl-C).
 */

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping every child process`);
    killAll();
    process.exit(130);
  });
}

export interface ChildOptions {
  /** For messages. */
  name: string;
  /** Arguments to `node` (flags, then the script). */
  args: string[];
  env: Record<string, string>;
  /** Where stdout goes: a file path, 'ignore', or 'pipe' (read it from `child.stdout`). Default 'ignore'. */
  stdout?: string;
  cwd?: string;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** performance.now() just before spawn(). */
  readonly spawnedAt: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KB of stderr, for error messages. */
  stderrTail(): string;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const STDERR_TAIL_BYTES = 8192;

/** The environment children start from: only what node needs, never the bench's own environment. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NODE_ENV: 'production' };
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export function startChild(options: ChildOptions): Child {
  const stdoutSpec = options.stdout ?? 'ignore';
  let stdoutFd: number | undefined;
  let stdout: 'ignore' | 'pipe' | number;
  if (stdoutSpec === 'ignore' || stdoutSpec === 'pipe') stdout = stdoutSpec;
  else stdout = stdoutFd = openSync(stdoutSpec, 'w');

  const spawnedAt = performance.now();
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd ?? process.cwd(),
    env: options.env,
    stdio: ['ignore', stdout, 'pipe'],
  });
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  live.add(child);

  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_BYTES);
  });

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });

  return {
    name: options.name,
    process: child,
    spawnedAt,
    exited,
    stderrTail: () => tail,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A free TCP port on 127.0.0.1 (closed again at once; a tiny race with other programs is accepted). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One GET on a fresh connection; the status code, or 0 when the connection failed. */
export function getStatus(url: string, headers: Record<string, string> = {}, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', headers, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

/**
 * Polls `url` every `intervalMs` until it answers 200; returns performance.now()
 * of that answer. Throws if the child exits or `timeoutMs` passes first.
 */
export async function waitFor200(
  child: Child,
  url: string,
  { intervalMs = 10, timeoutMs = 60_000, headers = {} }: { intervalMs?: number; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  for (;;) {
    const status = await getStatus(url, headers);
    if (status === 200) return performance.now();
    if (exited) throw new Error(`${child.name} exited before ${url} answered 200:\n${child.stderrTail()}`);
    if (performance.now() > deadline)
      throw new Error(`${child.name}: ${url} did not answer 200 within ${timeoutMs} ms:\n${child.stderrTail()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms, from
 * /proc/<pid>/stat; NaN where there is no /proc. CPU per request does not
 * depend on how busy the rest of the machine is, unlike requests per second.
 */
export function cpuTimeMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux that Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

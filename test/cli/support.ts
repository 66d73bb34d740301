import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Stack, StackOptions } from '../support/stack.js';
import { startStack } from '../support/stack.js';
import { populationMd5, populationName } from '../../src/simulator/population.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The key the CLI sends; long and distinctive, so a test can tell it never reached an output. */
export const KEY = 'cli-test-key-7f3a9c2e51d84b06';

export interface CliStack extends Stack {
  /** Signet's address on loopback. */
  url: string;
}

/**
 * Signet with authentication on (one key, `KEY`) and the EDR simulator
 * behind it, listening on 127.0.0.1 so that the CLI reaches it as any client
 * would.
 */
export async function startCliStack(options: StackOptions = {}): Promise<CliStack> {
  const stack = await startStack({ ...options, env: { AUTH_DISABLED: 'false', API_KEYS: `cli:${KEY}`, ...options.env } });
  const url = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(stack, { url });
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Variables beside PATH; nothing else of the test's environment leaks in. */
  env?: Record<string, string>;
  /** Written to the CLI's standard input, which is then closed (empty when not given). */
  stdin?: string;
  /** The command to run instead of the sources through tsx (e.g. a built file or the launcher). */
  entry?: string[];
  cwd?: string;
}

/**
 * Runs the CLI as a child process, as a user would, and waits for it. The
 * child is spawned, not run synchronously: the Signet it talks to runs in
 * this process and must keep answering meanwhile.
 */
export async function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  const entry = options.entry ?? ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin ?? '');
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

/** The environment that points the CLI at a stack with the right key. */
export function cliEnv(stack: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { SIGNET_URL: stack.url, SIGNET_API_KEY: KEY, ...extra };
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Items in a batch request's body. */
  items: number | undefined;
  authorization: string | undefined;
}

export interface Proxy {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of Signet that records every request (to count
 * the CLI's batch requests and their sizes) and lets a test answer some
 * requests itself (a 503 Signet would send while shutting down, a /readyz
 * that is not ready) or rewrite their path, before forwarding the rest.
 */
export async function startProxy(
  target: string,
  intercept: (request: RecordedRequest, response: ServerResponse) => boolean = () => false,
): Promise<Proxy> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      let items: number | undefined;
      if (body.length > 0) {
        const parsed = JSON.parse(body.toString('utf8')) as { items?: unknown[] };
        items = parsed.items?.length;
      }
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        items,
        authorization: request.headers.authorization,
      };
      requests.push(recorded);
      if (intercept(recorded, response)) return;
      void forward(target, recorded.path, request, body, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function forward(target: string, path: string, request: IncomingMessage, body: Buffer, response: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) headers.set(name, value);
  }
  const answer = await fetch(new URL(path, target), {
    method: request.method ?? 'GET',
    headers,
    ...(body.length > 0 && { body }),
  });
  const text = Buffer.from(await answer.arrayBuffer());
  const out: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)) out[name] = value;
  });
  response.writeHead(answer.status, out).end(text);
}

/** A problem+json answer as Signet sends it, for a proxy to send in its place. */
export function sendProblem(response: ServerResponse, status: number, code: string, retryable: boolean, retryAfterSeconds?: number): true {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  response.writeHead(status, headers).end(
    JSON.stringify({
      type: `urn:signet:problem:${code.toLowerCase().replaceAll('_', '-')}`,
      title: 'Signet is shutting down',
      status,
      detail: 'This instance is stopping; send the lookup again (another instance will take it).',
      instance: '/v1/signatures/batch',
      code,
      retryable,
    }),
  );
  return true;
}

/** `n` distinct population binaries, as batch items in input order. */
export function populationItems(n: number, from = 0): { md5: string; name: string }[] {
  return Array.from({ length: n }, (_, k) => ({ md5: populationMd5(from + k), name: populationName(from + k) }));
}

export interface InProcessOptions {
  env?: Record<string, string>;
  stdin?: string;
  /** Pretend each stream is a terminal, as the child process's streams never are here. */
  tty?: { stdin?: boolean; stdout?: boolean; stderr?: boolean };
}

/**
 * Runs the client in this process (src/cli/cli.ts's `runCli`, what main.ts
 * calls) with in-memory streams: for what a child process cannot show (a
 * terminal on stdout or stderr) and for coverage, which sees only this
 * process. The Signet it talks to is still the real one, over loopback.
 */
export async function runInProcess(args: string[], options: InProcessOptions = {}): Promise<CliRun> {
  const { runCli: run } = await import('../../src/cli/cli.js');
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [options.stdin]), { isTTY: options.tty?.stdin });
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void, isTTY: boolean | undefined) =>
    Object.assign(
      new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          append(chunk.toString());
          done();
        },
      }),
      { isTTY, columns: 100 },
    );
  const status = await run(args, options.env ?? {}, {
    stdin,
    stdout: sink((text) => (stdout += text), options.tty?.stdout),
    stderr: sink((text) => (stderr += text), options.tty?.stderr),
  });
  return { status, stdout, stderr };
}

import pino from 'pino';
import type { Logger } from 'pino';

/**
 * Header and config paths that may hold a secret. pino censors them before a
 * line is written, whatever logs them.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-auth-token"]',
  'token',
  'apiKey',
  'apiSecret',
  '*.token',
  '*.apiKey',
  '*.apiSecret',
];

export interface LoggerOptions {
  level: string;
  /** Pretty, human-readable lines; only for a terminal. */
  pretty: boolean;
  destination?: pino.DestinationStream;
}

type StdoutDestination = ReturnType<typeof pino.destination>;

/** The asynchronous stdout destinations this module made, by logger, for settleLogs. */
interface GuardedDestination {
  stream: StdoutDestination;
  /** True once a write failed or the destination was abandoned: nothing more will be written. */
  readonly dead: boolean;
  abandon(): void;
}
const destinations = new WeakMap<Logger, GuardedDestination>();

/**
 * sonic-boom's flushSync (which pino runs on process exit) retries a failed
 * write forever unless the error is EAGAIN, and retries EAGAIN forever too:
 * with stdout a pipe whose reader has gone or stopped reading, the exit never
 * ends, and no signal can interrupt it. Once the destination has failed, or
 * settleLogs gave up on it, what is still buffered is dropped instead.
 */
function guardedStdout(): GuardedDestination {
  const stream = pino.destination({ dest: 1, sync: false });
  let dead = false;
  const flushSync = stream.flushSync.bind(stream);
  stream.flushSync = () => {
    if (!dead) flushSync();
  };
  // pino's own listener turns EPIPE into silence; any other write error makes the lines undeliverable too.
  stream.on('error', () => {
    dead = true;
  });
  return {
    stream,
    get dead() {
      return dead;
    },
    abandon: () => {
      dead = true;
    },
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const base: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
  };
  if (options.pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
  // Asynchronous writes to stdout: lines written while one write is in flight go out together in
  // the next, instead of one synchronous write(2) per line on the request path (a sixth of a cached
  // lookup's CPU, measured). What is pending at exit is flushed (settleLogs, then pino's exit hook).
  if (options.destination) return pino(base, options.destination);
  const destination = guardedStdout();
  const logger = pino(base, destination.stream);
  destinations.set(logger, destination);
  return logger;
}

/** What sonic-boom keeps of lines not yet written (not part of its typed API, hence the guard). */
function pendingWrite(stream: StdoutDestination): boolean {
  const internals = stream as unknown as { _writing?: unknown; _len?: unknown };
  return internals._writing === true || (typeof internals._len === 'number' && internals._len > 0);
}

/**
 * Before process.exit: waits up to `timeoutMs` for the lines already logged to
 * reach stdout. A destination that cannot take them in that time (a closed
 * pipe, a reader that stopped reading) is abandoned, so the exit never waits on
 * it. Resolves, never rejects.
 */
export async function settleLogs(logger: Logger, timeoutMs: number): Promise<void> {
  const destination = destinations.get(logger);
  if (!destination) return;
  const { stream } = destination;
  const deadline = Date.now() + timeoutMs;
  while (!destination.dead && pendingWrite(stream) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (pendingWrite(stream)) destination.abandon();
}

/** Makes the exit drop whatever the logger still buffers: for an exit that must not wait at all. */
export function abandonLogs(logger: Logger): void {
  destinations.get(logger)?.abandon();
}

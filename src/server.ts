import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from './app.js';
import { backendClientsFromConfig } from './backends/backend-clients.js';
import { ConfigError, loadConfig, settingsInForce, unknownSettingWarnings } from './config.js';
import { abandonLogs, createLogger, settleLogs } from './logger.js';

/*
 * The only module that touches `process`: it reads the environment, listens,
 * and turns SIGTERM/SIGINT into a graceful close.
 */

/** How long the exit waits for logged lines to reach stdout before dropping them. */
const LOG_SETTLE_MS = 1000;
/** After the grace, how long the final cache snapshot may still take before the exit stops waiting for it. */
const SNAPSHOT_AFTER_GRACE_MS = 10_000;

// stdout or stderr may be a pipe whose reader has gone: a failed write (EPIPE) must neither crash
// the process nor hold its exit. The logger's own destination is guarded in logger.ts.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

function configOrExit() {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`signet: cannot start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = configOrExit();
const logger = createLogger({ level: config.logLevel, pretty: process.stdout.isTTY === true });
for (const warning of unknownSettingWarnings(process.env)) logger.warn(warning);
logger.info({ settings: settingsInForce(process.env) }, 'settings in force');

// See the README's "Runtime on Node 22": its V8 computed wrong results in hot loops under concurrent Turbofan in our tests.
const NODE22_FLAGS = ['--no-concurrent-recompilation', '--no-concurrent-osr'];
if (process.versions.node.startsWith('22.') && !NODE22_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  logger.warn(`Node 22: start with \`node ${NODE22_FLAGS.join(' ')} dist/server.js\`, or use Node 24 (README: Runtime on Node 22)`);
}

if (config.carbonBlack.tlsInsecure) {
  logger.warn('CB_TLS_INSECURE=true: Carbon Black TLS certificates are NOT verified');
}

// Connects in the background: Signet is ready without it, and uses it once it answers. Imported only
// when REDIS_URL is set, so that a replica without one does not load ioredis at start.
const sharedTier = config.sharedTier && new (await import('./shared-tier/shared-tier.js')).SharedTier(config.sharedTier);
if (config.sharedTier) logger.info({ redis: config.sharedTier.url }, 'shared cache (REDIS_URL): connecting');

const backend = backendClientsFromConfig(config.carbonBlack, sharedTier);

const app = await buildApp(config, {
  ...(backend.backend === 'edr' ? { carbonBlack: backend.edr } : { cloud: backend.cloud, budget: backend.budget }),
  logger,
  ...(sharedTier && { sharedTier }),
});

let shutdown: Promise<void> | undefined;

/** Lets the logged lines out (or gives up on a dead stdout), then exits. */
async function exitWith(code: number): Promise<never> {
  await settleLogs(logger, LOG_SETTLE_MS);
  process.exit(code);
}

/** A second signal or error while closing: exit at once, dropping what the logger still buffers. */
function exitNow(reason: string): never {
  logger.error(`${reason} while shutting down: exiting now`);
  abandonLogs(logger);
  process.exit(1);
}

/**
 * The close: stop accepting, drop idle and half-received connections (the
 * drain-connections plugin), let the requests being answered finish, write the
 * cache snapshot (an onClose hook), exit 0. If SHUTDOWN_GRACE_MS runs out first,
 * every connection left is destroyed, the snapshot is still written, and the
 * exit code is 1.
 */
async function close(why: { signal: NodeJS.Signals } | { err: unknown }): Promise<void> {
  if ('err' in why) logger.error({ err: why.err }, 'closing after an unexpected error');
  else logger.info({ signal: why.signal }, 'shutting down');
  const graceMs = config.server.shutdownGraceMs;
  const grace = new AbortController();
  const closed = (async () => {
    await app.close();
    logger.info('http server closed');
    await backend.close();
    logger.info('carbon black client closed');
    await sharedTier?.close();
    return 'closed' as const;
  })().catch((err: unknown) => {
    logger.error({ err }, 'error while closing');
    return 'failed' as const;
  });
  const outcome = await Promise.race([
    closed,
    sleep(graceMs, 'expired' as const, { signal: grace.signal }).catch(() => 'expired' as const),
  ]);
  grace.abort();
  if (outcome === 'expired') {
    logger.error({ graceMs }, `shutdown grace of ${graceMs} ms expired: closing the remaining connections`);
    app.server.closeAllConnections();
    const snapshot = app.cacheSnapshots?.writeFinal() ?? Promise.resolve();
    const waited = await Promise.race([snapshot.then(() => true), sleep(SNAPSHOT_AFTER_GRACE_MS, false, { ref: true })]);
    if (!waited) logger.error(`cache snapshot still not written ${SNAPSHOT_AFTER_GRACE_MS} ms after the grace: exiting without it`);
  }
  await exitWith(outcome === 'closed' && !('err' in why) ? 0 : 1);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (shutdown) exitNow(`second signal (${signal})`);
    shutdown = close({ signal });
  });
}
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err: unknown) => {
    if (shutdown) {
      logger.error({ err }, event);
      exitNow(event);
    }
    shutdown = close({ err });
  });
}

try {
  await app.listen({ host: config.server.host, port: config.server.port });
} catch (err) {
  const taken = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
  logger.fatal(
    { err },
    taken
      ? `cannot listen: ${config.server.host}:${config.server.port} is taken by another process; set PORT (or HOST) to another`
      : 'cannot listen',
  );
  await app.close().catch(() => undefined);
  await exitWith(1);
}

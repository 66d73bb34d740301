import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { carbonBlackClientFromConfig } from './carbon-black/client-from-config.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

/*
 * The only module that touches `process`: it reads the environment, listens,
 * and turns SIGTERM/SIGINT into a graceful close.
 */

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

// See the README's "Runtime on Node 22": its V8 computed wrong results in hot loops under concurrent Turbofan in our tests.
const NODE22_FLAGS = ['--no-concurrent-recompilation', '--no-concurrent-osr'];
if (process.versions.node.startsWith('22.') && !NODE22_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  logger.warn(`Node 22: start with \`node ${NODE22_FLAGS.join(' ')} dist/server.js\`, or use Node 24 (README: Runtime on Node 22)`);
}

if (config.carbonBlack.tlsInsecure) {
  logger.warn('CB_TLS_INSECURE=true: Carbon Black TLS certificates are NOT verified');
}

const carbonBlack = carbonBlackClientFromConfig(config.carbonBlack);

const app = await buildApp(config, { carbonBlack, logger });

closeWithGrace({ delay: config.server.shutdownGraceMs, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'closing after an unexpected error');
  else logger.info({ signal }, 'shutting down');
  await app.close();
  logger.info('http server closed');
  await carbonBlack.close();
  logger.info('carbon black client closed');
});

await app.listen({ host: config.server.host, port: config.server.port });

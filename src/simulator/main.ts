import type { FastifyInstance } from 'fastify';
import { buildSimulator } from './app.js';
import { buildCloudSimulator } from './cloud/app.js';
import { cloudBanner } from './cloud/banner.js';
import type { CloudCredentials } from './cloud/credentials.js';
import { readCloudSimulatorEnvironment, readSimulatorBackend } from './cloud/environment.js';
import { readSimulatorEnvironment, SimulatorEnvironmentError } from './environment.js';
import { samples } from './fixtures.js';

/**
 * `npm run simulator`: a Carbon Black simulator on loopback for playbook
 * authors and manual testing. SIMULATOR_BACKEND picks it: `edr` (the
 * default) or `cloud`. Settings come from SIMULATOR_* variables (see
 * environment.ts and cloud/environment.ts); it prints where it listens, the
 * credentials and the sample binaries, and closes cleanly on SIGINT/SIGTERM.
 */

interface Started {
  app: FastifyInstance;
  host: string;
  port: number;
  banner: (address: string) => string[];
}

async function startEdr(): Promise<Started> {
  const settings = readSimulatorEnvironment(process.env);
  const builtAt = performance.now();
  const app = await buildSimulator({
    token: settings.token,
    population: settings.population,
    latencyMs: settings.latencyMs,
    faults: settings.faults,
  });
  const buildMs = Math.round(performance.now() - builtAt);
  const banner = (address: string): string[] => [
    `Carbon Black EDR simulator listening on ${address}`,
    `  X-Auth-Token: ${settings.token}${settings.tokenGenerated ? '   (generated; set SIMULATOR_TOKEN to choose one)' : ''}`,
    `  population: ${settings.population} generated binaries (built in ${buildMs} ms), latency ${settings.latencyMs} ms`,
    `  faults: ${JSON.stringify(app.simulator.faults)}`,
    '  sample binaries (md5  name  -> digsig_result, found by the seed name join?):',
    ...Object.entries(samples).map(
      ([key, s]) =>
        `    ${s.md5}  ${JSON.stringify(s.name)}  -> ${s.digsigResult ?? 'no record'}, join ${s.joinFindsRow ? 'finds a row' : 'finds nothing'}  [${key}]`,
    ),
    `  try: curl -H 'X-Auth-Token: ${settings.token}' '${address}/api/v1/process?q=process_md5:${samples.signed.md5}%20digsig_prog_name:git&rows=1'`,
    `       curl -H 'X-Auth-Token: ${settings.token}' '${address}/api/v1/binary/${samples.microsoftDriver.md5.toUpperCase()}/summary'`,
    `       curl -H 'X-Auth-Token: ${settings.token}' '${address}/api/v1/binary?q=md5:${samples.signed.md5}%20OR%20md5:${samples.unsigned.md5}'`,
    `  admin: GET|PUT|DELETE ${address}/__simulator/faults, GET ${address}/__simulator/stats, POST ${address}/__simulator/stats/reset`,
  ];
  return { app, host: settings.host, port: settings.port, banner };
}

async function startCloud(): Promise<Started> {
  const settings = readCloudSimulatorEnvironment(process.env);
  const builtAt = performance.now();
  const app = await buildCloudSimulator({
    ...settings.credentials,
    population: settings.population,
    jobDurationMs: settings.jobDurationMs,
    rateLimit: settings.rateLimit,
    faults: settings.faults,
  });
  const buildMs = Math.round(performance.now() - builtAt);
  const keys: (keyof CloudCredentials)[] = ['orgKey', 'apiId', 'apiSecret'];
  const generated = keys.filter((key) => settings.credentials[key] === undefined);
  const banner = (address: string): string[] =>
    cloudBanner(address, app.cloudSimulator, { generated, population: settings.population, buildMs });
  return { app, host: settings.host, port: settings.port, banner };
}

let started: Started;
try {
  started = readSimulatorBackend(process.env) === 'cloud' ? await startCloud() : await startEdr();
} catch (error) {
  if (!(error instanceof SimulatorEnvironmentError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const { app } = started;
let address: string;
try {
  address = await app.listen({ port: started.port, host: started.host });
} catch (error) {
  console.error(`simulator could not listen on ${started.host}:${started.port}: ${(error as Error).message}`);
  process.exit(1);
}

console.log(started.banner(address).join('\n'));

let closing = false;
const shutdown = (signal: NodeJS.Signals): void => {
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing the simulator`);
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`error while closing: ${(error as Error).message}`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);

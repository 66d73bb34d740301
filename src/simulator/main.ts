import { buildSimulator } from './app.js';
import { readSimulatorEnvironment, SimulatorEnvironmentError, type SimulatorSettings } from './environment.js';
import { samples } from './fixtures.js';

/**
 * `npm run simulator`: a Carbon Black EDR simulator on loopback for playbook
 * authors and manual testing. Settings come from SIMULATOR_* variables (see
 * environment.ts); it prints where it listens, the token and the sample
 * binaries, and closes cleanly on SIGINT/SIGTERM.
 */

let settings: SimulatorSettings;
try {
  settings = readSimulatorEnvironment(process.env);
} catch (error) {
  if (!(error instanceof SimulatorEnvironmentError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const builtAt = performance.now();
const app = await buildSimulator({
  token: settings.token,
  population: settings.population,
  latencyMs: settings.latencyMs,
  faults: settings.faults,
});
const buildMs = Math.round(performance.now() - builtAt);

let address: string;
try {
  address = await app.listen({ port: settings.port, host: settings.host });
} catch (error) {
  console.error(`simulator could not listen on ${settings.host}:${settings.port}: ${(error as Error).message}`);
  process.exit(1);
}

const lines = [
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
console.log(lines.join('\n'));

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

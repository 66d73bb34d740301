import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildSimulator } from './simulator/app.js';
import { readSimulatorEnvironment, SimulatorEnvironmentError } from './simulator/environment.js';
import { samples } from './simulator/fixtures.js';

/*
 * `npm run demo`: the Carbon Black simulator in this process and the real
 * service (src/server.ts, exactly as `npm start` runs it) as a child wired to
 * it, then a banner with the Swagger UI address, a key and curl examples.
 * SIMULATOR_* variables (latency, faults, population) shape the simulator;
 * PORT and HOST place the service.
 */

let simulatorSettings;
try {
  // The simulator's own port defaults to any free one, so that the demo never clashes with it.
  simulatorSettings = readSimulatorEnvironment({ SIMULATOR_PORT: '0', ...process.env });
} catch (error) {
  if (!(error instanceof SimulatorEnvironmentError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const simulator = await buildSimulator({
  token: simulatorSettings.token,
  population: simulatorSettings.population,
  latencyMs: simulatorSettings.latencyMs,
  faults: simulatorSettings.faults,
});
const simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: simulatorSettings.port });

const apiKey = `demo-${randomBytes(18).toString('base64url')}`;
const host = process.env.HOST ?? '127.0.0.1';
const port = process.env.PORT ?? '8080';
const serviceUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

const serverEntry = fileURLToPath(new URL('./server.ts', import.meta.url));
const service = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
  stdio: 'inherit',
  env: {
    ...process.env,
    HOST: host,
    PORT: port,
    CB_URL: simulatorUrl,
    CB_API_TOKEN: simulatorSettings.token,
    API_KEYS: `demo:${apiKey}:admin`,
  },
});

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  await simulator.close();
  process.exit(code);
}

service.on('exit', (code, signal) => {
  if (!stopping) console.error(`signet exited (${signal ?? code}); stopping the demo`);
  void stop(code ?? (signal ? 0 : 1));
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping = true;
    service.kill(signal);
  });
}

async function waitUntilReady(deadline: number): Promise<boolean> {
  while (Date.now() < deadline && service.exitCode === null) {
    try {
      if ((await fetch(`${serviceUrl}/readyz`)).ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return false;
}

if (await waitUntilReady(Date.now() + 30_000)) {
  const { signed, unsigned, expired, unseen, renamed, microsoftDriver, powershell } = samples;
  const auth = `-H 'Authorization: Bearer ${apiKey}'`;
  const row = (sample: { md5: string; name: string }, what: string) => `    ${sample.md5}  ${sample.name.padEnd(15)} ${what}`;
  console.log(
    [
      '',
      '  Signet demo is running (Carbon Black simulator embedded).',
      `  Swagger UI:   ${serviceUrl}/docs   (Authorize with the key below)`,
      `  API key:      ${apiKey}   (role admin; made up for this run)`,
      `  Simulator:    ${simulatorUrl}   X-Auth-Token: ${simulatorSettings.token}`,
      '',
      '  Try:',
      `    curl ${auth} '${serviceUrl}/v1/signatures/${signed.md5}?name=${signed.name}'`,
      `    curl ${auth} -H 'Content-Type: application/json' -d '{"items":[{"md5":"${signed.md5}","name":"${signed.name}"},{"md5":"${unseen.md5}","name":"${unseen.name}"}]}' ${serviceUrl}/v1/signatures/batch`,
      '',
      '  Sample md5/name pairs, one per verdict (branch on "verdict"; unknown is not unsigned):',
      row(signed, 'verdict signed, nameMatchesSignature true'),
      row(powershell, `verdict signed, signed as "${powershell.progName}": nameMatchesSignature false`),
      row(microsoftDriver, 'verdict signed by Microsoft, no program name in the signature: nameMatchesSignature false'),
      row(renamed, `verdict signed, but it is ${renamed.progName} renamed: nameMatchesSignature false (masquerading?)`),
      row(unsigned, 'verdict unsigned (digsig_result "Unsigned")'),
      row(expired, 'verdict unsigned (digsig_result "Expired"), though its name matches the signature'),
      row(unseen, 'verdict unknown: Carbon Black has no record of it'),
      '',
      '  Ctrl-C stops both.',
      '',
    ].join('\n'),
  );
} else if (service.exitCode === null) {
  console.error(`signet did not become ready at ${serviceUrl}/readyz within 30 s`);
  service.kill('SIGTERM');
}

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildSimulator } from './simulator/app.js';
import { buildCloudSimulator } from './simulator/cloud/app.js';
import { readCloudSimulatorEnvironment } from './simulator/cloud/environment.js';
import { cloudFixtures, unseenFixture } from './simulator/cloud/fixtures.js';
import { readSimulatorEnvironment, SimulatorEnvironmentError } from './simulator/environment.js';
import { samples } from './simulator/fixtures.js';

/*
 * `npm run demo`: a Carbon Black simulator in this process and the real
 * service (src/server.ts, exactly as `npm start` runs it) as a child wired to
 * it, then a banner with the Swagger UI address, a key and curl examples.
 * `SIGNET_BACKEND=cloud` runs the Carbon Black Cloud simulator and Signet's
 * Cloud backend instead of EDR. SIMULATOR_* variables (latency, faults,
 * population) shape the simulator; PORT and HOST place the service.
 */

interface DemoUpstream {
  url: string;
  /** What Signet needs to reach it, as environment variables. */
  env: Record<string, string>;
  /** Which simulator it is, for the banner. */
  product: string;
  /** Where it listens and how to reach it, for the banner. */
  describe: string;
  /** The header its admin endpoint (`/__simulator/faults`) wants. */
  authHeader: string;
  /** Sample lookups, one per verdict, for the banner: [hash, name, what it shows]. */
  rows: Array<[string, string, string]>;
  batchItems: Array<Record<string, string>>;
  close(): Promise<void>;
}

const backend = process.env.SIGNET_BACKEND ?? 'edr';
if (backend !== 'edr' && backend !== 'cloud') {
  console.error(`SIGNET_BACKEND must be edr or cloud, not ${JSON.stringify(backend)}`);
  process.exit(2);
}

/** The EDR simulator and the sample binaries of each verdict it carries. */
async function edrUpstream(): Promise<DemoUpstream> {
  // The simulator's own port defaults to any free one, so that the demo never clashes with it.
  const settings = readSimulatorEnvironment({ SIMULATOR_PORT: '0', ...process.env });
  const simulator = await buildSimulator({
    token: settings.token,
    population: settings.population,
    latencyMs: settings.latencyMs,
    faults: settings.faults,
  });
  const url = await simulator.listen({ host: '127.0.0.1', port: settings.port });
  const { signed, unsigned, expired, unseen, renamed, microsoftDriver, powershell } = samples;
  return {
    url,
    env: { CB_BACKEND: 'edr', CB_URL: url, CB_API_TOKEN: settings.token },
    product: 'Carbon Black EDR simulator',
    describe: `${url}   X-Auth-Token: ${settings.token}`,
    authHeader: `X-Auth-Token: ${settings.token}`,
    rows: [
      [signed.md5, signed.name, 'verdict signed, nameMatchesSignature true'],
      [powershell.md5, powershell.name, `verdict signed, signed as "${powershell.progName}": nameMatchesSignature false`],
      [
        microsoftDriver.md5,
        microsoftDriver.name,
        'verdict signed by Microsoft, no program name in the signature: nameMatchesSignature false',
      ],
      [renamed.md5, renamed.name, `verdict signed, but it is ${renamed.progName} renamed: nameMatchesSignature false (masquerading?)`],
      [unsigned.md5, unsigned.name, 'verdict unsigned (digsig_result "Unsigned")'],
      [expired.md5, expired.name, 'verdict unsigned (digsig_result "Expired"), though its name matches the signature'],
      [unseen.md5, unseen.name, 'verdict unknown: Carbon Black has no record of it'],
    ],
    batchItems: [
      { md5: signed.md5, name: signed.name },
      { md5: unseen.md5, name: unseen.name },
    ],
    close: () => simulator.close(),
  };
}

/** The Cloud simulator and a sample of each verdict the publisher-state rule gives, by sha256 and by md5. */
async function cloudUpstream(): Promise<DemoUpstream> {
  const settings = readCloudSimulatorEnvironment({ SIMULATOR_PORT: '0', ...process.env });
  const simulator = await buildCloudSimulator({
    ...settings.credentials,
    population: settings.population,
    jobDurationMs: settings.jobDurationMs,
    rateLimit: settings.rateLimit,
    faults: settings.faults,
  });
  const url = await simulator.listen({ host: '127.0.0.1', port: settings.port });
  const { orgKey, apiId, apiSecret } = simulator.cloudSimulator.credentials;
  const { osBinary, catalogSigned, signedUnverified, invalid, unsignedRecorded, unknownState } = cloudFixtures;
  const name = (path: string): string => path.split(/[\\/]/).pop() ?? path;
  return {
    url,
    env: { CB_BACKEND: 'cloud', CB_URL: url, CB_ORG_KEY: orgKey, CB_API_ID: apiId, CB_API_SECRET: apiSecret },
    product: 'Carbon Black Cloud simulator',
    describe: `${url}   org ${orgKey}   X-Auth-Token: ${simulator.cloudSimulator.authToken}   jobs take ${settings.jobDurationMs} ms`,
    authHeader: `X-Auth-Token: ${simulator.cloudSimulator.authToken}`,
    rows: [
      [osBinary.sha256, name(osBinary.name), 'verdict signed: [OS, SIGNED, TRUSTED, VERIFIED] (by sha256)'],
      [catalogSigned.md5, name(catalogSigned.name), 'verdict signed: catalog-signed and verified (by md5)'],
      [signedUnverified.sha256, name(signedUnverified.name), 'verdict unsigned: SIGNED but not VERIFIED'],
      [invalid.sha256, name(invalid.name), 'verdict unsigned: INVALID'],
      [unsignedRecorded.md5, name(unsignedRecorded.name), 'verdict unsigned: NOT_SIGNED'],
      [unknownState.sha256, name(unknownState.name), 'verdict unknown: Cloud reports the state UNKNOWN'],
      [unseenFixture.sha256, name(unseenFixture.name), 'verdict unknown: no process has this hash'],
    ],
    batchItems: [
      { sha256: osBinary.sha256, name: name(osBinary.name) },
      { md5: unsignedRecorded.md5, name: name(unsignedRecorded.name) },
    ],
    close: () => simulator.close(),
  };
}

let upstream: DemoUpstream;
try {
  upstream = backend === 'cloud' ? await cloudUpstream() : await edrUpstream();
} catch (error) {
  if (!(error instanceof SimulatorEnvironmentError)) throw error;
  console.error(error.message);
  process.exit(2);
}

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
    ...upstream.env,
    API_KEYS: `demo:${apiKey}:admin`,
    // Access lines at info would scroll the banner and its key away; LOG_LEVEL=info npm run demo shows them.
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  },
});

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  await upstream.close();
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
  const auth = `-H 'Authorization: Bearer ${apiKey}'`;
  const [first] = upstream.rows;
  const width = Math.max(...upstream.rows.map(([, name]) => name.length));
  console.log(
    [
      '',
      `  Signet demo is running (${upstream.product} embedded).`,
      `  Swagger UI:   ${serviceUrl}/docs   (Authorize with the key below)`,
      `  API key:      ${apiKey}   (role admin; made up for this run)`,
      `  Simulator:    ${upstream.describe}`,
      '',
      '  Try:',
      `    curl ${auth} '${serviceUrl}/v1/signatures/${first![0]}?name=${encodeURIComponent(first![1])}'`,
      `    curl ${auth} -H 'Content-Type: application/json' -d '${JSON.stringify({ items: upstream.batchItems })}' ${serviceUrl}/v1/signatures/batch`,
      '',
      '  Sample binaries, one per verdict (branch on "verdict"; unknown is not unsigned):',
      ...upstream.rows.map(([hash, name, what]) => `    ${hash}  ${name.padEnd(width)}  ${what}`),
      '',
      '  Make Carbon Black flaky (30 % of requests answer 503), then heal it:',
      `    curl -X PUT -H '${upstream.authHeader}' -H 'Content-Type: application/json' -d '{"errorRate":0.3,"errorStatus":503}' ${upstream.url}/__simulator/faults`,
      `    curl -X DELETE -H '${upstream.authHeader}' ${upstream.url}/__simulator/faults`,
      '',
      `  Logs are at ${process.env.LOG_LEVEL ?? 'warn'} (LOG_LEVEL=info npm run demo shows an access line per request).`,
      '',
      '  Ctrl-C stops both.',
      '',
    ].join('\n'),
  );
} else if (service.exitCode === null) {
  console.error(`signet did not become ready at ${serviceUrl}/readyz within 30 s`);
  service.kill('SIGTERM');
}

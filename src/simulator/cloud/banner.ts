import type { CloudSimulatorControl } from './control.js';
import type { CloudCredentials } from './credentials.js';
import { CLOUD_FIXTURE_LIST, fixtureRowFacts, unseenFixture } from './fixtures.js';
import { CREATE_JOB_PATH } from './gate.js';
import { STATE_PREFIX } from './states.js';

/**
 * What `SIMULATOR_BACKEND=cloud npm run simulator` prints once it listens:
 * where, the credentials (the simulator's own, made for the sandbox: printing
 * them is the point), timing and limits, the sample binaries, and curl
 * commands that can be pasted as they are.
 */

export interface BannerInfo {
  /** Which credentials were generated rather than given. */
  generated: readonly (keyof CloudCredentials)[];
  population: number;
  buildMs: number;
}

const VARIABLES: Record<keyof CloudCredentials, string> = {
  orgKey: 'SIMULATOR_CLOUD_ORG_KEY',
  apiId: 'SIMULATOR_CLOUD_API_ID',
  apiSecret: 'SIMULATOR_CLOUD_API_SECRET',
};

/** The five fields Signet's lookup asks for. */
export const LOOKUP_FIELDS = ['process_hash', 'process_sha256', 'process_name', 'process_publisher', 'process_publisher_state'] as const;

const short = (states: readonly string[]): string => `[${states.map((state) => state.slice(STATE_PREFIX.length)).join(', ')}]`;

export function cloudBanner(address: string, control: CloudSimulatorControl, info: BannerInfo): string[] {
  const { orgKey, apiId, apiSecret } = control.credentials;
  const note = (key: keyof CloudCredentials): string =>
    info.generated.includes(key) ? `   (generated; set ${VARIABLES[key]} to choose one)` : '';
  const { limit, windowMs } = control.rateLimit;
  const jobs = `${address}${CREATE_JOB_PATH.replace(':orgKey', orgKey)}`;
  const header = `-H 'X-Auth-Token: ${control.authToken}'`;
  const sample = CLOUD_FIXTURE_LIST[0]?.[1].sha256 ?? unseenFixture.sha256;
  const body = JSON.stringify({ query: `process_hash:${sample}`, fields: LOOKUP_FIELDS, rows: 10, start: 0 });
  const waitSeconds = Math.ceil(control.jobDurationMs / 1000);

  const samples = CLOUD_FIXTURE_LIST.map(([key, fixture]) => {
    const rowStates = Array.from({ length: fixture.rows }, (_, k) => short(fixtureRowFacts(fixture, k).states));
    const distinct = [...new Set(rowStates)];
    const rows = fixture.rows === 1 ? '1 row' : `${fixture.rows} rows`;
    return `    ${fixture.sha256}  ${fixture.md5}  ${fixture.name}  -> ${distinct.join(' / ')}  (${rows})  [${key}]`;
  });

  return [
    `Carbon Black Cloud simulator listening on ${address}`,
    `  org key:      ${orgKey}${note('orgKey')}`,
    `  API ID:       ${apiId}${note('apiId')}`,
    `  API secret:   ${apiSecret}${note('apiSecret')}`,
    `  X-Auth-Token: ${control.authToken}`,
    `  search jobs complete ${control.jobDurationMs} ms after creation; rate limit ${limit} requests per ${windowMs / 1000} s (sliding window, per key)`,
    `  population: ${info.population} generated binaries (built in ${info.buildMs} ms)`,
    `  faults: ${JSON.stringify(control.faults)}`,
    `  sample binaries (sha256  md5  process_name -> process_publisher_state, each ${STATE_PREFIX}*; "/" when rows disagree):`,
    ...samples,
    `    ${unseenFixture.sha256}  ${unseenFixture.md5}  (no rows: never seen)  [unseen]`,
    '  try (create a job, wait for it, read its results):',
    `    JOB=$(curl -s -X POST ${header} -H 'Content-Type: application/json' -d '${body}' '${jobs}' | sed -E 's/.*"job_id":"([^"]+)".*/\\1/')`,
    `    sleep ${waitSeconds}; curl -s ${header} "${jobs}/$JOB/results?start=0&rows=10"`,
    `  admin: GET|PUT|DELETE ${address}/__simulator/faults, GET ${address}/__simulator/stats, POST ${address}/__simulator/stats/reset`,
  ];
}

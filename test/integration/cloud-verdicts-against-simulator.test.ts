import type { DestinationStream } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { cloudFixtures, unseenFixture, type CloudFixtureKey } from '../../src/simulator/cloud/fixtures.js';
import { cloudPopulationMd5, cloudPopulationSha256 } from '../../src/simulator/cloud/population.js';
import { startCloudStack, type CloudStack, type CloudStackOptions } from '../support/cloud-stack.js';

/**
 * Signet on the Cloud backend against the Cloud simulator over loopback:
 * every publisher-state combination the simulator carries, both hashes, the
 * batching of misses into jobs, the request budget and Cloud's own 429.
 */

const S = 'FILE_SIGNATURE_STATE_';
const open: CloudStack[] = [];
afterEach(async () => {
  while (open.length > 0)
    await open
      .pop()!
      .close()
      .catch(() => undefined);
});

async function stack(options: CloudStackOptions = {}): Promise<CloudStack> {
  const started = await startCloudStack(options);
  open.push(started);
  return started;
}

interface Answer {
  md5: string | null;
  sha256: string | null;
  verdict: string;
  signed: boolean;
  signature: { status: string | null; publisher: string | null; states: string[] | null } | null;
  nameMatchesSignature: boolean | null;
  basis: string;
  cache: { status: string };
}

async function lookup(s: CloudStack, hash: string, name = 'x') {
  return s.app.inject({ url: `/v1/signatures/${hash}?name=${encodeURIComponent(name)}` });
}

/** The verdict rule of the README, per fixture: what each recorded or constructed state set must give. */
const expected: Record<CloudFixtureKey, { verdict: 'signed' | 'unsigned' | 'unknown'; status: string | null }> = {
  osBinary: { verdict: 'signed', status: `${S}VERIFIED` },
  signedVerified: { verdict: 'signed', status: `${S}VERIFIED` },
  signedVerifiedChainedTrusted: { verdict: 'signed', status: `${S}VERIFIED` },
  catalogSigned: { verdict: 'signed', status: `${S}VERIFIED` },
  signedUnverified: { verdict: 'unsigned', status: `${S}SIGNED` },
  signedChainedUnverified: { verdict: 'unsigned', status: `${S}SIGNED` },
  invalid: { verdict: 'unsigned', status: `${S}INVALID` },
  signedInvalid: { verdict: 'unsigned', status: `${S}INVALID` },
  unsignedRecorded: { verdict: 'unsigned', status: `${S}NOT_SIGNED` },
  unknownState: { verdict: 'unknown', status: `${S}UNKNOWN` },
  emptyStates: { verdict: 'unknown', status: null },
  trustedOnly: { verdict: 'unknown', status: null },
  disagreeingRows: { verdict: 'unsigned', status: `${S}NOT_SIGNED` },
  popular: { verdict: 'signed', status: `${S}VERIFIED` },
};

describe('Cloud verdicts against the Cloud simulator', () => {
  it.each(Object.keys(expected) as CloudFixtureKey[])('%s: the rule gives the documented verdict, with the raw states', async (key) => {
    const s = await stack();
    const fixture = cloudFixtures[key];
    const response = await lookup(s, fixture.sha256);
    expect(response.statusCode).toBe(200);
    const answer = response.json<Answer>();
    expect(answer).toMatchObject({
      verdict: expected[key].verdict,
      signed: expected[key].verdict === 'signed',
      md5: fixture.md5,
      sha256: fixture.sha256,
      nameMatchesSignature: null,
      basis: 'cloud-process-search',
      cache: { status: 'miss' },
    });
    expect(answer.signature?.status).toBe(expected[key].status);
    expect(new Set(answer.signature?.states)).toEqual(
      new Set([...fixture.states, ...('divergentRows' in fixture ? Object.values(fixture.divergentRows).flatMap((r) => r.states) : [])]),
    );
    const publishers: readonly string[] | undefined = 'publisher' in fixture ? fixture.publisher : undefined;
    expect(answer.signature?.publisher).toBe(publishers?.[0] ?? null);
  });

  it('a hash no process has is unknown, by sha256 and by md5, and is kept for the short lifetime', async () => {
    const s = await stack();
    for (const hash of [unseenFixture.sha256, unseenFixture.md5]) {
      const answer = (await lookup(s, hash)).json<Answer>();
      expect(answer).toMatchObject({ verdict: 'unknown', signed: false, signature: null, basis: 'cloud-process-search' });
    }
    const cached = s.app.signatures.cache;
    expect(cached.ttlFor(cached.getAny(unseenFixture.md5)!)).toBe(600_000);
  });

  it('md5 and sha256 share one cached binary: one job, then a hit by the other hash; forgetting one forgets both', async () => {
    const s = await stack();
    const sim = s.simulator.cloudSimulator;
    const { md5, sha256 } = cloudFixtures.osBinary;
    expect((await lookup(s, md5.toUpperCase())).json<Answer>()).toMatchObject({ md5, sha256, cache: { status: 'miss' } });
    const bySha = await lookup(s, sha256);
    expect(bySha.json<Answer>()).toMatchObject({ verdict: 'signed', md5, sha256, cache: { status: 'hit' } });
    expect(sim.stats.jobsCreated).toBe(1);

    const forgotten = await s.app.inject({ method: 'DELETE', url: `/v1/cache/${sha256}` });
    expect(forgotten.statusCode).toBe(204);
    expect(s.app.signatures.stats().size).toBe(0);
    expect((await lookup(s, md5)).json<Answer>()).toMatchObject({ cache: { status: 'miss' } });
    expect(sim.stats.jobsCreated).toBe(2);
  });

  it('a batch mixing md5 and sha256 items is one job, each item answered', async () => {
    const s = await stack();
    const items = [
      { md5: cloudFixtures.signedVerified.md5, name: 'chrome.exe' },
      { sha256: cloudFixtures.invalid.sha256, name: 'x.exe' },
      { sha256: unseenFixture.sha256, name: 'dropper.exe' },
    ];
    const response = await s.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } });
    const { results } = response.json<{ results: Answer[] }>();
    expect(results.map((r) => r.verdict)).toEqual(['signed', 'unsigned', 'unknown']);
    expect(s.simulator.cloudSimulator.stats.jobsCreated).toBe(1);
  });

  it('a popular binary filling the pages does not make the others in its job unknown', async () => {
    const s = await stack();
    const items = [cloudFixtures.popular, cloudFixtures.signedUnverified, cloudFixtures.catalogSigned].map((f) => ({
      sha256: f.sha256,
      name: 'x',
    }));
    const { results } = (await s.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } })).json<{
      results: Answer[];
    }>();
    expect(results.map((r) => r.verdict)).toEqual(['signed', 'unsigned', 'signed']);
  });

  it('a job not complete by the deadline is an error (504), never unknown, and nothing is cached', async () => {
    const s = await stack({ env: { CB_DEADLINE_MS: '800' }, simulator: { jobDurationMs: 5000 } });
    const response = await lookup(s, cloudFixtures.osBinary.sha256);
    expect(response.statusCode).toBe(504);
    expect(response.json()).toMatchObject({ code: 'UPSTREAM_DEADLINE' });
    expect(s.app.signatures.stats().size).toBe(0);
  });

  it('1000 distinct misses at once stay within the request budget and take at most ceil(1000 / 50) jobs', async () => {
    const s = await stack({ simulator: { population: 2000 }, env: { CB_REQUESTS_PER_5_MINUTES: '200' } });
    const sim = s.simulator.cloudSimulator;
    const items = Array.from({ length: 1000 }, (_, i) => ({
      sha256: i % 2 === 0 ? cloudPopulationSha256(i) : undefined,
      md5: i % 2 === 1 ? cloudPopulationMd5(i) : undefined,
      name: 'x',
    })).map(({ sha256, md5, name }) => (sha256 !== undefined ? { sha256, name } : { md5: md5!, name }));
    const response = await s.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } });
    const { results } = response.json<{ results: Array<Answer & { error?: unknown }> }>();
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    expect(sim.stats.jobsCreated).toBeLessThanOrEqual(Math.ceil(1000 / 50));
    expect(sim.stats.maxHashesPerJob).toBeLessThanOrEqual(50);
    expect(sim.stats.requests).toBeLessThanOrEqual(200);
    expect(sim.stats.rateLimited).toBe(0);
    expect(s.budget.usage().used).toBe(sim.stats.requests);

    // Operators see the same in /metrics: the budget spent and the hashes per job.
    const metrics = (await s.app.inject('/metrics')).body;
    expect(metrics).toContain(`signet_upstream_budget_used ${sim.stats.requests}`);
    expect(metrics).toContain('signet_upstream_budget_limit 200');
    expect(metrics).toContain(`signet_upstream_batch_hashes_count ${sim.stats.jobsCreated}`);
  });

  it('when the budget is spent, a lookup answers 503 UPSTREAM_BUDGET_SPENT with Retry-After, and nothing is sent', async () => {
    const s = await stack({ env: { CB_REQUESTS_PER_5_MINUTES: '3', CB_DEADLINE_MS: '2000' }, simulator: { jobDurationMs: 0 } });
    const sim = s.simulator.cloudSimulator;
    // A job that is complete at once costs a creation and one poll: 2 of the 3 places.
    expect((await lookup(s, cloudFixtures.osBinary.sha256)).statusCode).toBe(200);
    const spent = s.budget.usage().used;
    expect(spent).toBe(2);
    const refused = await lookup(s, cloudFixtures.invalid.sha256);
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'UPSTREAM_BUDGET_SPENT', title: 'Signet is at its Carbon Black request budget' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(200);
    // The creation took the last place; its poll found none within the deadline.
    expect(sim.stats.requests).toBe(3);
    // The first binary, under its md5 and its sha256.
    expect(s.app.signatures.stats().size).toBe(2);
  });

  it("after Cloud's 429, nothing is sent until its Retry-After has passed; the lookup then succeeds", async () => {
    const s = await stack({
      env: { CB_DEADLINE_MS: '8000', CB_RETRIES: '2' },
      simulator: { jobDurationMs: 0, rateLimit: { limit: 2, windowMs: 1500 } },
    });
    const sim = s.simulator.cloudSimulator;
    expect((await lookup(s, cloudFixtures.osBinary.sha256)).statusCode).toBe(200);
    const started = Date.now();
    const answer = await lookup(s, cloudFixtures.unsignedRecorded.sha256);
    expect(answer.statusCode).toBe(200);
    expect(answer.json<Answer>()).toMatchObject({ verdict: 'unsigned' });
    // A call during the wait would have been refused again (and the wait extended): exactly one 429.
    expect(sim.stats.rateLimited).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('the API secret and ID never reach a log line, whatever fails', async () => {
    const lines: string[] = [];
    const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
    const logger = createLogger({ level: 'trace', pretty: false, destination });
    const s = await stack({ env: { CB_RETRIES: '0', CB_TIMEOUT_MS: '300' }, deps: { logger } });
    const sim = s.simulator.cloudSimulator;
    const { apiSecret, apiId } = sim.credentials;
    const faults = [
      { errorRate: 1, errorStatus: 401 as const },
      { errorRate: 1, errorStatus: 500 as const },
      { malformedRate: 1 },
      { hangRate: 1 },
      { resetRate: 1 },
    ];
    for (const [i, fault] of faults.entries()) {
      sim.clearFaults();
      sim.setFaults(fault);
      await lookup(s, cloudPopulationSha256(i + 1));
    }
    sim.clearFaults();
    await lookup(s, cloudFixtures.osBinary.md5);
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(text).not.toContain(apiSecret);
    expect(text).not.toContain(apiId);
  });
});

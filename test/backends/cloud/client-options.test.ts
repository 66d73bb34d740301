import { describe, expect, it } from 'vitest';
import { createCloudClient, type CloudClientOptions } from '../../../src/backends/cloud/client.js';
import { API_ID, API_SECRET, countingBudget, expectNoSecrets, ORG_KEY } from './support/cloud-fixtures.js';

/** Option checks at creation: TypeError, naming the option, never echoing the credentials or the URL. */

const base: CloudClientOptions = {
  baseUrl: 'https://defense.conferdeploy.net',
  orgKey: ORG_KEY,
  apiId: API_ID,
  apiSecret: API_SECRET,
  timeoutMs: 1000,
  budget: countingBudget(),
};

function creationError(options: Partial<CloudClientOptions>): unknown {
  try {
    const client = createCloudClient({ ...base, ...options });
    void client.close();
  } catch (error) {
    return error;
  }
  throw new Error('expected createCloudClient to throw');
}

describe('createCloudClient options', () => {
  it('accepts the defaults', async () => {
    await createCloudClient(base).close();
  });

  it.each([
    ['not a URL', 'defense.conferdeploy.net'],
    ['plain http to a remote host', 'http://defense.conferdeploy.net'],
    ['credentials in the URL', `https://${API_ID}:${API_SECRET}@defense.conferdeploy.net`],
    ['a query string', `https://defense.conferdeploy.net/?key=${API_SECRET}`],
  ])('refuses a base URL with %s, without echoing it', (_label, baseUrl) => {
    const error = creationError({ baseUrl });
    expect(error).toBeInstanceOf(TypeError);
    expectNoSecrets(error);
    expect((error as Error).message).not.toContain(baseUrl);
  });

  it('refuses a bad org key', () => {
    expect(creationError({ orgKey: '../other' })).toBeInstanceOf(TypeError);
  });

  it.each<[string, Partial<CloudClientOptions>]>([
    ['an empty secret', { apiSecret: '' }],
    ['a secret with a slash', { apiSecret: `${API_SECRET}/x` }],
    ['a secret with a space', { apiSecret: `${API_SECRET} ` }],
    ['a secret with a newline (header injection)', { apiSecret: `${API_SECRET}\r\nX-Evil: 1` }],
    ['a non-ASCII secret', { apiSecret: `${API_SECRET}é` }],
    ['an empty ID', { apiId: '' }],
    ['an ID with a slash', { apiId: `x/${API_ID}` }],
    ['an ID with a tab', { apiId: `${API_ID}\t` }],
  ])('refuses %s, without echoing either credential', (_label, options) => {
    const error = creationError(options);
    expect(error).toBeInstanceOf(TypeError);
    expectNoSecrets(error);
  });

  it.each<[string, Partial<CloudClientOptions>]>([
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }],
    ['pollIntervalMs 0', { pollIntervalMs: 0 }],
    ['pollIntervalMs negative', { pollIntervalMs: -5 }],
    ['pollIntervalMs infinite', { pollIntervalMs: Number.POSITIVE_INFINITY }],
    ['maxPollIntervalMs below pollIntervalMs', { pollIntervalMs: 500, maxPollIntervalMs: 400 }],
    ['maxPollIntervalMs NaN', { maxPollIntervalMs: Number.NaN }],
    ['rowsPerPage 0', { rowsPerPage: 0 }],
    ['rowsPerPage fractional', { rowsPerPage: 2.5 }],
    ['rowsPerPage above 10000', { rowsPerPage: 10_001 }],
    ['maxPagesPerJob 0', { maxPagesPerJob: 0 }],
    ['maxPagesPerJob fractional', { maxPagesPerJob: 1.5 }],
  ])('refuses %s', (_label, options) => {
    const error = creationError(options);
    expect(error).toBeInstanceOf(TypeError);
    expectNoSecrets(error);
  });

  it('accepts http to loopback and a path prefix', async () => {
    await createCloudClient({ ...base, baseUrl: 'http://127.0.0.1:9/cbc/' }).close();
    await createCloudClient({ ...base, baseUrl: 'http://localhost:9' }).close();
  });

  it('accepts the extremes of the paging options', async () => {
    await createCloudClient({ ...base, rowsPerPage: 1, maxPagesPerJob: 1, pollIntervalMs: 1, maxPollIntervalMs: 1 }).close();
    await createCloudClient({ ...base, rowsPerPage: 10_000, maxPagesPerJob: 50, pollIntervalMs: 5000 }).close();
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { samples, type Sample } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/*
 * The default mode, CB_VERDICT_SOURCE=binary-record, against the simulator's
 * binary endpoints over loopback, with each way of reading a record.
 */

interface Answer {
  md5: string;
  name: string;
  verdict: string;
  signed: boolean;
  signature: null | {
    status: string;
    publisher: string | null;
    issuer: string | null;
    subject: string | null;
    programName: string | null;
    signedAt: string | null;
  };
  nameMatchesSignature: boolean | null;
  basis: string;
  cache: { status: string; expiresAt: string; storedAt: string };
}

const allSamples = Object.entries(samples as Record<string, Sample>);

describe.each(['search', 'summary'])('binary-record verdicts against the simulator (CB_BINARY_READ=%s)', (binaryRead) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { CB_BINARY_READ: binaryRead } });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.app.signatures.cache.clear();
    stack.simulator.simulator.resetStats();
  });

  const lookup = async (md5: string, name: string) => {
    const response = await stack.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}` });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Answer>();
  };

  it.each(allSamples)('sample %s answers its verdict, status and name test', async (_key, sample) => {
    const answer = await lookup(sample.md5, sample.name);
    expect(answer).toMatchObject({
      md5: sample.md5,
      name: sample.name,
      verdict: sample.verdict,
      signed: sample.verdict === 'signed',
      nameMatchesSignature: sample.nameMatchesSignature,
      basis: 'binary-record',
    });
    if (sample.verdict === 'unknown') expect(answer.signature).toBeNull();
    else expect(answer.signature?.status).toBe(sample.digsigResult);
  });

  it('every digsig_result value is covered, and only Signed is signed', async () => {
    const statuses = new Map<string, string>();
    for (const [, sample] of allSamples) {
      if (sample.verdict === 'unknown') continue;
      const answer = await lookup(sample.md5, sample.name);
      statuses.set(answer.signature!.status, answer.verdict);
    }
    expect(Object.fromEntries(statuses)).toEqual({
      Signed: 'signed',
      Unsigned: 'unsigned',
      Expired: 'unsigned',
      'Bad Signature': 'unsigned',
      'Invalid Signature': 'unsigned',
      'Invalid Chain': 'unsigned',
      'Untrusted Root': 'unsigned',
      'Explicit Distrust': 'unsigned',
      '(Unknown)': 'unsigned',
    });
  });

  it('the Microsoft driver with no program name is signed, and no name matches its signature', async () => {
    const driver = samples.microsoftDriver;
    const answer = await lookup(driver.md5, driver.name);
    expect(answer).toMatchObject({
      verdict: 'signed',
      nameMatchesSignature: false,
      signature: {
        status: 'Signed',
        publisher: 'Microsoft Corporation',
        programName: null,
        issuer: null,
        subject: null,
        signedAt: '2016-04-12T09:21:00Z',
      },
    });
  });

  it('powershell.exe, signed as "Windows PowerShell", is signed (the seed answered unsigned)', async () => {
    expect(await lookup(samples.powershell.md5, 'powershell.exe')).toMatchObject({
      verdict: 'signed',
      nameMatchesSignature: false,
      signature: { programName: 'Windows PowerShell' },
    });
  });

  it('expired and tampered signatures are unsigned with their status, though the name still matches', async () => {
    expect(await lookup(samples.expired.md5, samples.expired.name)).toMatchObject({
      verdict: 'unsigned',
      signed: false,
      nameMatchesSignature: true,
      signature: { status: 'Expired', programName: 'Legacy VPN' },
    });
    expect(await lookup(samples.badSignature.md5, samples.badSignature.name)).toMatchObject({
      verdict: 'unsigned',
      signed: false,
      nameMatchesSignature: true,
      signature: { status: 'Bad Signature', programName: 'Tampered' },
    });
  });

  it('an unsigned record has no signature details, as null, never empty strings', async () => {
    expect((await lookup(samples.unsigned.md5, samples.unsigned.name)).signature).toEqual({
      status: 'Unsigned',
      publisher: null,
      issuer: null,
      subject: null,
      programName: null,
      signedAt: null,
      states: null,
    });
  });

  it('an md5 seen by no one is unknown, with the short lifetime', async () => {
    const answer = await lookup(samples.unseen.md5, samples.unseen.name);
    expect(answer).toMatchObject({ verdict: 'unknown', signed: false, signature: null, nameMatchesSignature: null });
    expect(Date.parse(answer.cache.expiresAt) - Date.parse(answer.cache.storedAt)).toBe(600_000);
  });

  it('a signed binary renamed to another tool answers signed, with nameMatchesSignature false', async () => {
    expect(await lookup(samples.renamed.md5, samples.renamed.name)).toMatchObject({ verdict: 'signed', nameMatchesSignature: false });
  });

  it('a cached binary answers a second name without a new Carbon Black call', async () => {
    await lookup(samples.nameDiffers.md5, 'chrome.exe');
    expect(stack.upstreamRequests()).toBe(1);
    const second = await lookup(samples.nameDiffers.md5, 'Google Chrome');
    expect(second).toMatchObject({ verdict: 'signed', nameMatchesSignature: true, cache: { status: 'hit' } });
    expect(stack.upstreamRequests()).toBe(1);
  });

  it('one read per missed binary, and no process search', async () => {
    await lookup(samples.signed.md5, 'git');
    const stats = stack.simulator.simulator.stats;
    expect(stats.processSearches).toBe(0);
    expect(binaryRead === 'search' ? stats.binarySearches : stats.binaryReads).toBe(1);
  });

  it('the record read failing is an error, not a verdict, and is not cached', async () => {
    stack.simulator.simulator.setFaults({ failNext: 10, errorStatus: 500 });
    const failed = await stack.app.inject(`/v1/signatures/${samples.signed.md5}?name=git`);
    stack.simulator.simulator.clearFaults();
    expect(failed.statusCode).toBe(502);
    expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(stack.app.signatures.cache.size).toBe(0);
    expect(await lookup(samples.signed.md5, 'git')).toMatchObject({ verdict: 'signed', cache: { status: 'miss' } });
  });

  it('still answers while the server blocks joined searches', async () => {
    stack.simulator.simulator.setFaults({ blockJoins: true });
    try {
      expect(await lookup(samples.signed.md5, 'git')).toMatchObject({ verdict: 'signed' });
    } finally {
      stack.simulator.simulator.clearFaults();
    }
  });
});

describe('batch answers with the verdict fields and per-item errors', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('a batch with bad items answers the good ones and gives each bad one its own 400 in place', async () => {
    const items: unknown[] = [
      { md5: samples.signed.md5, name: 'git' },
      { md5: '000000000000000000000000000000', name: 'explorer.exe' },
      { md5: samples.unseen.md5, name: samples.unseen.name },
      { md5: samples.expired.md5, name: '' },
      { md5: samples.expired.md5, name: 'legacy-vpn', extra: true },
      { md5: samples.expired.md5, name: 'x'.repeat(261) },
      'not an object',
      { md5: 12, name: null },
      { md5: samples.badSignature.md5.toUpperCase(), name: 'tampered' },
    ];
    const response = await stack.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } });
    expect(response.statusCode).toBe(200);
    const { results } = response.json<{ results: Array<Record<string, unknown>> }>();
    expect(results).toHaveLength(items.length);
    expect(results[0]).toMatchObject({ verdict: 'signed', nameMatchesSignature: true, basis: 'binary-record' });
    const invalid = (field: string) => ({
      status: 400,
      code: 'INVALID_REQUEST',
      title: 'Invalid request',
      field,
      detail: expect.stringContaining(field),
      retryable: false,
    });
    expect(results[1]).toEqual({ md5: '000000000000000000000000000000', name: 'explorer.exe', error: invalid('md5') });
    expect(results[2]).toMatchObject({ verdict: 'unknown', signature: null });
    expect(results[3]).toEqual({ md5: samples.expired.md5, name: '', error: invalid('name') });
    expect(results[4]).toEqual({ md5: samples.expired.md5, name: 'legacy-vpn', error: invalid('extra') });
    expect(results[5]).toMatchObject({ error: invalid('name') });
    expect(results[6]).toEqual({ md5: null, name: null, error: invalid('item') });
    expect(results[7]).toEqual({ md5: null, name: null, error: invalid('md5') });
    expect(results[8]).toMatchObject({ md5: samples.badSignature.md5, verdict: 'unsigned', signature: { status: 'Bad Signature' } });
  });

  it('answers 400 only when the body is not a batch', async () => {
    for (const payload of [
      {},
      { items: [] },
      { items: 'x' },
      { items: new Array(1001).fill({ md5: samples.signed.md5, name: 'git' }) },
      { items: [], other: 1 },
    ]) {
      const response = await stack.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload });
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    }
  });
});

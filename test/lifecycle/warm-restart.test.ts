import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { readSnapshot } from '../../src/signing/cache-snapshot.js';
import { SignatureFacts, UnknownBinary, type CachedVerdict } from '../../src/signing/verdict.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

const TOKEN = 'warm-restart-token';
const KEY = 'warm-restart-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
let simulator: SimulatorInstance;
let simulatorUrl: string;
let dir: string;

beforeAll(async () => {
  simulator = await buildSimulator({ token: TOKEN });
  simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'signet-warm-'));
});
afterAll(() => simulator.close());

/** The app's defaults: CB_VERDICT_SOURCE=binary-record, unless a test says otherwise. */
const serverEnv = (file: string, extra: Record<string, string> = {}) => ({
  CB_URL: simulatorUrl,
  CB_API_TOKEN: TOKEN,
  API_KEYS: `test:${KEY}:admin`,
  CACHE_SNAPSHOT_FILE: file,
  ...extra,
});

interface Answer {
  md5: string;
  name: string;
  verdict: 'signed' | 'unsigned' | 'unknown';
  signed: boolean;
  signature: {
    status: string;
    publisher: string | null;
    issuer: string | null;
    subject: string | null;
    programName: string | null;
    signedAt: string | null;
  } | null;
  nameMatchesSignature: boolean | null;
  basis: 'binary-record' | 'joined-search';
  checkedAt: string;
  cache: { hit: boolean; status: string; storedAt: string; ageSeconds: number; expiresAt: string };
}

async function lookup(server: ServerProcess, md5: string, name: string): Promise<{ status: number; xCache: string | null; body: Answer }> {
  const response = await fetch(`${server.url}/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, { headers: auth });
  return { status: response.status, xCache: response.headers.get('x-cache'), body: (await response.json()) as Answer };
}

/** Everything an answer says about the binary, without how it was obtained this time. */
function verdictPart(answer: Answer): object {
  const { cache, ...rest } = answer;
  return { ...rest, storedAt: cache.storedAt, expiresAt: cache.expiresAt };
}

function upstreamCalls(): number {
  const { processSearches, binaryReads, binarySearches } = simulator.simulator.stats;
  return processSearches + binaryReads + binarySearches;
}

/** The pino lines of a process, parsed. */
function logLines(server: ServerProcess): Array<{ level: number; msg: string; [key: string]: unknown }> {
  return server.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as { level: number; msg: string }];
    } catch {
      return [];
    }
  });
}

async function readyStatus(server: ServerProcess): Promise<{ status: number; body: { status: string } }> {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string } };
}

async function startReady(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(env);
  await expect.poll(async () => (await readyStatus(server)).status, { timeout: 10_000 }).toBe(200);
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  const exited = await server.exit;
  if (exited.code !== 0) console.log(server.lines.join('\n'));
  expect(exited).toEqual({ code: 0, signal: null });
}

describe('warm restarts through the real process', () => {
  it('writes the cache at shutdown and answers from it after a restart, every verdict kind, with the original age', async () => {
    const file = join(dir, 'cache-snapshot');
    // After the first five: an unsigned binary sharing nc's signature, a program name full of JSON and line syntax,
    // a signature without issuer, subject or program name.
    const asked = [
      samples.signed,
      samples.unsigned,
      samples.unseen,
      samples.nameDiffers,
      samples.expired,
      samples.unsignedTool,
      samples.tricky,
      samples.microsoftDriver,
    ];
    simulator.simulator.resetStats();
    const first = await startReady(serverEnv(file));
    const misses: Answer[] = [];
    for (const sample of asked) {
      const { status, xCache, body } = await lookup(first, sample.md5, sample.name);
      expect(status).toBe(200);
      expect(xCache).toBe('MISS');
      expect(body).toMatchObject({
        verdict: sample.verdict,
        signed: sample.verdict === 'signed',
        nameMatchesSignature: sample.nameMatchesSignature,
        basis: 'binary-record',
        cache: { status: 'miss' },
      });
      misses.push(body);
    }
    // The answers the restart must reproduce carry the record's details.
    expect(misses[0]!.signature).toMatchObject({ status: 'Signed', programName: samples.signed.progName, signedAt: expect.any(String) });
    expect(misses[1]!.signature).toMatchObject({ status: 'Unsigned', signedAt: null });
    expect(misses[2]!.signature).toBeNull();
    expect(misses[4]!.signature).toMatchObject({ status: 'Expired' });
    // One binary read each, no process search: the default source is the binary record.
    expect(upstreamCalls()).toBe(asked.length);
    expect(simulator.simulator.stats.processSearches).toBe(0);
    await stop(first);
    expect(existsSync(file)).toBe(true);
    // Polled: the process's stdout can reach this one after its exit, or after an HTTP answer sent later.
    await expect
      .poll(() => logLines(first).some((line) => line.msg === 'cache snapshot written' && line.entries === asked.length))
      .toBe(true);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, bytes.indexOf(0x0a)).toString()).toBe(`signet-cache-snapshot\t3\t${asked.length}\tbinary-record`);
    // What the file holds, through the reader: one entry per binary, unknown for no record, the facts of each record.
    const warnings: string[] = [];
    const written = await readSnapshot(file, Date.now(), { warn: (_obj, msg) => warnings.push(msg), info: () => undefined });
    expect(warnings).toEqual([]);
    expect(written).toHaveLength(asked.length);
    const verdictOf = (md5: string): CachedVerdict | undefined => written.find((entry) => entry.md5 === md5)?.verdict;
    expect(verdictOf(samples.unseen.md5)).toBe(UnknownBinary.instance);
    expect(verdictOf(samples.unsigned.md5)).toStrictEqual(new SignatureFacts('Unsigned', null, null, null, null, null));
    // nc's facts, shared: its time (none) is the facts' own, so one facts object for both.
    expect(verdictOf(samples.unsignedTool.md5)).toBe(verdictOf(samples.unsigned.md5));
    for (const [i, sample] of asked.entries()) {
      const signature = misses[i]!.signature;
      if (signature === null) continue;
      const verdict = verdictOf(sample.md5);
      expect(verdict, sample.md5).toBeInstanceOf(SignatureFacts);
      const facts = verdict as SignatureFacts;
      expect([facts.status, facts.publisher, facts.issuer, facts.subject, facts.programName, facts.signedAtSeconds]).toEqual([
        signature.status,
        signature.publisher,
        signature.issuer,
        signature.subject,
        signature.programName,
        signature.signedAt === null ? null : Date.parse(signature.signedAt) / 1000,
      ]);
    }
    expect((verdictOf(samples.tricky.md5) as SignatureFacts).programName).toBe(samples.tricky.progName);
    expect((verdictOf(samples.signed.md5) as SignatureFacts).signedAtSeconds).toBe(Date.UTC(2017, 2, 28, 4, 14, 6) / 1000);

    simulator.simulator.resetStats();
    const second = await startReady(serverEnv(file));
    await expect
      .poll(() => logLines(second).some((line) => line.msg === 'cache restored from snapshot' && line.restored === asked.length))
      .toBe(true);
    for (const [i, sample] of asked.entries()) {
      const { xCache, body } = await lookup(second, sample.md5, sample.name);
      expect(xCache).toBe('HIT');
      expect(body.cache).toMatchObject({ hit: true, status: 'hit', storedAt: misses[i]!.cache.storedAt });
      expect(verdictPart(body)).toEqual(verdictPart(misses[i]!));
    }
    // A restored record answers the name test for another name too, still from the cache.
    const otherName = await lookup(second, samples.signed.md5, 'not-git.exe');
    expect(otherName.xCache).toBe('HIT');
    expect(otherName.body).toMatchObject({ verdict: 'signed', nameMatchesSignature: false, signature: misses[0]!.signature });
    const programName = await lookup(second, samples.nameDiffers.md5, 'chrome');
    expect(programName.body).toMatchObject({ verdict: 'signed', nameMatchesSignature: true, cache: { status: 'hit' } });
    expect(upstreamCalls()).toBe(0);
    await stop(second);
  });

  it('skips a snapshot written under the other CB_VERDICT_SOURCE, and restores its own', async () => {
    const file = join(dir, 'switching-snapshot');
    const sample = samples.signed;
    const recordMode = await startReady(serverEnv(file));
    expect((await lookup(recordMode, sample.md5, sample.name)).body.basis).toBe('binary-record');
    await stop(recordMode);

    simulator.simulator.resetStats();
    const joinedEnv = serverEnv(file, { CB_VERDICT_SOURCE: 'joined-search' });
    const searchMode = await startReady(joinedEnv);
    const skipped = () => logLines(searchMode).filter((line) => line.msg === 'cache snapshot skipped; starting with an empty cache');
    await expect
      .poll(skipped)
      .toEqual([expect.objectContaining({ level: 40, reason: expect.stringContaining('CB_VERDICT_SOURCE=binary-record') })]);
    const miss = await lookup(searchMode, sample.md5, sample.name);
    expect(miss.xCache).toBe('MISS');
    expect(miss.body).toMatchObject({
      verdict: 'signed',
      signed: true,
      signature: null,
      nameMatchesSignature: true,
      basis: 'joined-search',
    });
    expect(simulator.simulator.stats.processSearches).toBe(1);
    await stop(searchMode);
    expect(readFileSync(file, 'latin1').split('\n')[0]).toBe('signet-cache-snapshot\t3\t1\tjoined-search');

    simulator.simulator.resetStats();
    const again = await startReady(joinedEnv);
    const hit = await lookup(again, sample.md5, sample.name);
    expect(hit.xCache).toBe('HIT');
    expect(verdictPart(hit.body)).toEqual(verdictPart(miss.body));
    expect(upstreamCalls()).toBe(0);
    await stop(again);
  });

  it("restores a version-2 file (the previous release's): d: lines with their own signing time, not the one in their facts", async () => {
    const file = join(dir, 'dated-snapshot');
    const storedAt = Date.now() - 60_000;
    const gitFacts = ['Signed', 'Apple Inc.', 'Apple Code Signing Certification Authority', 'Software Signing', 'git', 1_490_674_446];
    writeFileSync(
      file,
      'signet-cache-snapshot\t2\t2\tbinary-record\n' +
        `${samples.signed.md5}\t${storedAt}\t86400000\td:1262304000:${JSON.stringify(gitFacts)}\n` +
        `${samples.unsigned.md5}\t${storedAt}\t3600000\td::${JSON.stringify(['Unsigned', null, null, null, null, 5])}\n`,
    );
    simulator.simulator.resetStats();
    const server = await startReady(serverEnv(file));
    await expect.poll(() => logLines(server).some((line) => line.msg === 'cache restored from snapshot' && line.restored === 2)).toBe(true);
    const signed = await lookup(server, samples.signed.md5, samples.signed.name);
    expect(signed.xCache).toBe('HIT');
    expect(signed.body).toMatchObject({
      verdict: 'signed',
      nameMatchesSignature: true,
      signature: { status: 'Signed', publisher: 'Apple Inc.', programName: 'git', signedAt: '2010-01-01T00:00:00Z' },
      cache: { status: 'hit', storedAt: new Date(storedAt).toISOString() },
    });
    const unsigned = await lookup(server, samples.unsigned.md5, samples.unsigned.name);
    expect(unsigned.xCache).toBe('HIT');
    expect(unsigned.body).toMatchObject({ verdict: 'unsigned', signature: { status: 'Unsigned', signedAt: null } });
    expect(upstreamCalls()).toBe(0);
    await stop(server);
  });

  it('answers /readyz 503 "starting" until the snapshot is restored', async () => {
    // A FIFO makes the restore wait for the test, so "starting" is observed without racing a timer.
    const fifo = join(dir, 'slow-snapshot');
    execFileSync('mkfifo', [fifo]);
    const server = await startServerProcess(serverEnv(fifo));
    expect(await readyStatus(server)).toEqual({ status: 503, body: expect.objectContaining({ status: 'starting' }) });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await writeFile(fifo, 'signet-cache-snapshot\t2\t0\tbinary-record\n');
    await expect.poll(async () => (await readyStatus(server)).status, { timeout: 10_000 }).toBe(200);
    expect(logLines(server).filter((line) => line.level >= 40 && line.msg.includes('snapshot'))).toEqual([]);
    await stop(server);
  });

  it.each([
    ['a corrupt', 'not a snapshot at all\n', 'cache snapshot is corrupt or truncated; starting with an empty cache', /./],
    [
      'a version-1',
      // What the previous release wrote, with a signed entry for the binary asked below: it must not be served.
      `signet-cache-snapshot\t1\t1\n${samples.signed.md5}\t${Date.now() - 1000}\t86400000\t1\n`,
      'cache snapshot skipped; starting with an empty cache',
      /older format/,
    ],
  ])('starts empty, with a warning, from %s snapshot', async (what, content, message, reason) => {
    const file = join(dir, `${what.replace(/\W/g, '-')}-snapshot`);
    writeFileSync(file, content);
    simulator.simulator.resetStats();
    const server = await startReady(serverEnv(file));
    const warnings = () => logLines(server).filter((line) => line.level === 40 && line.msg.includes('snapshot'));
    await expect.poll(warnings).toEqual([expect.objectContaining({ msg: message, reason: expect.stringMatching(reason) })]);
    const cache = (await (await fetch(`${server.url}/v1/cache`, { headers: auth })).json()) as { size: number };
    expect(cache.size).toBe(0);
    const answer = await lookup(server, samples.signed.md5, samples.signed.name);
    expect(answer.xCache).toBe('MISS');
    expect(answer.body).toMatchObject({ verdict: 'signed', basis: 'binary-record' });
    expect(upstreamCalls()).toBe(1);
    await stop(server);
  });
});

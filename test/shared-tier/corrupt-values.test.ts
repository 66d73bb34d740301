import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeSharedVerdict } from '../../src/shared-tier/verdict-codec.js';
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

/*
 * Whatever sits in Redis under `<prefix>verdict:<md5>` is only a candidate:
 * a value that is not one this fleet writes (garbage, JSON of another shape,
 * another version, another basis, a value copied from another key, a verdict
 * with a field out of shape) never becomes an answer. The lookup asks Carbon
 * Black once, answers the simulator's truth, counts the value in
 * signet_shared_cache_rejected_total, and overwrites it with a valid value
 * that the next replica takes as a hit.
 *
 * The values are written by hand from the format in verdict-codec.ts's
 * header (not with encodeSharedVerdict): a control case shows the hand-written
 * valid value is taken as is, so each refusal is down to its one defect.
 */

/** Two binaries the simulator knows the answer for: a record (unsigned) and none (unknown). */
const TRUTHS = [
  { what: 'the unsigned sample', md5: samples.unsigned.md5, name: samples.unsigned.name, verdict: 'unsigned' },
  { what: 'an md5 without a record', md5: randomBytes(16).toString('hex'), name: 'tool.exe', verdict: 'unknown' },
] as const;

/** A value as the fleet writes it for an EDR binary record, claiming the binary is signed; `change` spoils one thing. */
function signedValue(md5: string, change: (value: Record<string, unknown>) => void = () => undefined): string {
  const value: Record<string, unknown> = {
    v: 1,
    basis: 'binary-record',
    storedAt: Date.now() - 1000,
    hashes: [md5],
    verdict: ['f', 'Signed', 'Evil Corp', 'Evil CA', 'Evil Corp', 'tool', 1_600_000_000],
  };
  change(value);
  return JSON.stringify(value);
}

const CORRUPT: ReadonlyArray<[string, (md5: string) => string]> = [
  ['garbage text', () => 'ÿþ\u0001 not a verdict {{{'],
  ['an empty string', () => ''],
  ['JSON of another shape', () => JSON.stringify({ verdict: 'signed', signed: true })],
  ['a bare verdict array', () => JSON.stringify(['f', 'Signed', null, null, null, 'tool', 1])],
  ['JSON null', () => 'null'],
  ['another version', (md5) => signedValue(md5, (value) => (value.v = 2))],
  [
    "the joined search's basis (foreign to binary-record)",
    (md5) =>
      signedValue(md5, (value) => {
        value.basis = 'joined-search';
        value.verdict = ['s', 'tool'];
      }),
  ],
  ['a value copied from another key', () => signedValue(samples.signed.md5)],
  ['a signing time that is no whole number', (md5) => signedValue(md5, (value) => ((value.verdict as unknown[])[6] = 1.5))],
  ['a status that is null', (md5) => signedValue(md5, (value) => ((value.verdict as unknown[])[1] = null))],
  ['a negative storedAt', (md5) => signedValue(md5, (value) => (value.storedAt = -5))],
  ['a publisher of 5000 characters', (md5) => signedValue(md5, (value) => ((value.verdict as unknown[])[2] = 'E'.repeat(5000)))],
  ['a field of its own', (md5) => signedValue(md5, (value) => (value.trusted = true))],
  ['a hash in upper case', (md5) => signedValue(md5, (value) => (value.hashes = [md5, md5.toUpperCase()]))],
];

let redis: RedisServer;
let fleet: Fleet | undefined;
const interner = new SignatureInterner();

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});
afterAll(() => redis.stop());

const lookup = (replica: number, md5: string, name: string) =>
  fleet!.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}` });
const verdictKey = (md5: string) => `${fleet!.prefix}verdict:${md5}`;

describe('values in Redis that are not verdicts this fleet wrote', () => {
  it('a hand-written valid value is taken as is (the control: the format below is right)', async () => {
    fleet = await startFleet({ replicas: 2, redis });
    const [first, reader] = fleet.replicas as [Fleet['replicas'][0], Fleet['replicas'][0]];
    for (const { md5, name } of TRUTHS) {
      const value = signedValue(md5);
      await redis.command('SET', verdictKey(md5), value);
      const before = fleet.upstreamRequests();
      const answer = await lookup(0, md5, name);
      expect(answer.statusCode).toBe(200);
      // Redis is trusted with a valid value: it says signed, and Carbon Black is not asked.
      expect(answer.json()).toMatchObject({ verdict: 'signed', signature: { publisher: 'Evil Corp', signedAt: '2020-09-13T12:26:40Z' } });
      expect(answer.json().cache.storedAt).toBe(new Date((JSON.parse(value) as { storedAt: number }).storedAt).toISOString());
      expect(fleet.upstreamRequests()).toBe(before);
    }
    expect(await fleet.metric(first, 'signet_shared_cache_hits_total')).toBe(TRUTHS.length);
    expect(await fleet.metric(first, 'signet_shared_cache_rejected_total')).toBe(0);
    expect(await fleet.metric(reader, 'signet_shared_cache_rejected_total')).toBe(0);
  });

  it.each(CORRUPT)('%s: ignored, counted, answered by Carbon Black once, and replaced by a value the fleet reads', async (_, corrupt) => {
    fleet = await startFleet({ replicas: 2, redis });
    const [first, second] = fleet.replicas as [Fleet['replicas'][0], Fleet['replicas'][0]];
    for (const { md5 } of TRUTHS) await redis.command('SET', verdictKey(md5), corrupt(md5));

    for (const [i, { md5, name, verdict }] of TRUTHS.entries()) {
      const before = fleet.upstreamRequests();
      const answer = await lookup(0, md5, name);
      expect(answer.statusCode).toBe(200);
      expect(answer.json().verdict).toBe(verdict);
      expect(fleet.upstreamRequests()).toBe(before + 1);
      expect(await fleet.metric(first, 'signet_shared_cache_rejected_total')).toBe(i + 1);

      // The lookup overwrote the value with a valid one for the truth, with a lifetime.
      const stored = await redis.command('GET', verdictKey(md5));
      const decoded = decodeSharedVerdict(stored, md5, 'binary-record', interner);
      expect(decoded, stored.slice(0, 200)).toBeDefined();
      expect(JSON.parse(stored)).toMatchObject({ v: 1, basis: 'binary-record', hashes: [md5] });
      expect(Number(await redis.command('PTTL', verdictKey(md5)))).toBeGreaterThan(0);

      // Another replica takes it as the fleet's verdict, without asking Carbon Black.
      const hitsBefore = await fleet.metric(second, 'signet_shared_cache_hits_total');
      const again = await lookup(1, md5, name);
      expect(again.statusCode).toBe(200);
      expect(again.json().verdict).toBe(verdict);
      expect(again.json().signature).toEqual(answer.json().signature);
      expect(again.json().cache.storedAt).toBe(answer.json().cache.storedAt);
      expect(fleet.upstreamRequests()).toBe(before + 1);
      expect(await fleet.metric(second, 'signet_shared_cache_hits_total')).toBe(hitsBefore + 1);
    }
    expect(await fleet.metric(second, 'signet_shared_cache_rejected_total')).toBe(0);
  });
});

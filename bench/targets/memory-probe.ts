import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as BinaryRecordModule from '../../src/backends/edr/binary-record.js';
import type * as InternerModule from '../../src/signing/signature-interner.js';
import type * as VerdictModule from '../../src/signing/verdict.js';
import type * as VerdictCacheModule from '../../src/signing/verdict-cache.js';
import type * as SimulatorRecordModule from '../../src/simulator/binary-record.js';
import type * as PopulationModule from '../../src/simulator/population.js';

/**
 * Scenario 5's measuring child, run as `node --expose-gc memory-probe.mjs`:
 * fills one structure with MEMORY_ENTRIES distinct md5s and prints one JSON
 * line with the heap growth it caused (forced GC before and after).
 *
 * MEMORY_KIND:
 *   verdict-cache  Signet's VerdictCache (dist/signing/verdict-cache.js),
 *                  capacity = entries, filled the way a miss fills it: the
 *                  simulator's binary record for population entry i, as JSON
 *                  text, parsed by Signet's client schema, turned into an entry
 *                  by the SignatureInterner, stored with `set(md5, entry)`.
 *                  The population has the simulator's proportions (80 % signed,
 *                  a third of those under a program name unique to the binary,
 *                  12 % unsigned, the rest other results), so the figure
 *                  includes the facts that interning cannot share.
 *   map-baseline   a Map<string, true> of the same keys: the irreducible cost
 *                  of holding a million md5 strings in a keyed structure.
 *   verdict-cache-url-keys
 *                  as verdict-cache, but each md5 is a slice of its request
 *                  URL, as the GET route hands it over (find-my-way slices the
 *                  URL; V8 keeps a slice of 13+ characters as a view that holds
 *                  the whole URL alive).
 *
 * Otherwise keys are flat strings, as JSON.parse or the snapshot reader make
 * them (concatenation would leave ropes that cost more than a key).
 */

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const collect = gc;

const dist = process.env.SIGNET_DIST;
if (!dist) throw new Error('SIGNET_DIST is required');
const simulatorDist = process.env.SIGNET_SIMULATOR_DIST;
if (!simulatorDist) throw new Error('SIGNET_SIMULATOR_DIST is required');
const entries = Number(process.env.MEMORY_ENTRIES ?? '1000000');
const kind = process.env.MEMORY_KIND ?? 'verdict-cache';

const load = async <T>(root: string, ...path: string[]): Promise<T> => (await import(pathToFileURL(join(root, ...path)).href)) as T;
const { VerdictCache } = await load<typeof VerdictCacheModule>(dist, 'signing', 'verdict-cache.js');
const { SignatureInterner } = await load<typeof InternerModule>(dist, 'signing', 'signature-interner.js');
const { verdictKind } = await load<typeof VerdictModule>(dist, 'signing', 'verdict.js');
const { binaryRecordSchema } = await load<typeof BinaryRecordModule>(dist, 'backends', 'edr', 'binary-record.js');
const { populationMd5, PopulationBinary } = await load<typeof PopulationModule>(simulatorDist, 'population.js');
const { buildBinaryRecord } = await load<typeof SimulatorRecordModule>(simulatorDist, 'binary-record.js');

const flat = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) collect();
  return process.memoryUsage();
}

const ttls = { ttlSignedMs: 86_400_000, ttlUnsignedMs: 3_600_000, ttlUnknownMs: 600_000 };
const noUpstream = async (): Promise<never> => {
  throw new Error('no upstream in the memory probe');
};
const interner = new SignatureInterner();

/** Entry i as a miss would store it: the record's JSON text, parsed by the client's schema, interned. */
function entryFor(i: number) {
  const body = JSON.stringify(buildBinaryRecord(new PopulationBinary(i)));
  return interner.entryFor(binaryRecordSchema.parse(JSON.parse(body)));
}

// Warm the code paths on a throw-away instance so that compiled code is not counted as data.
{
  const warm = new VerdictCache({ maxEntries: 1000, ...ttls, load: noUpstream });
  for (let i = 0; i < 2000; i++) warm.set(flat(populationMd5(i)), entryFor(i));
  const map = new Map<string, true>();
  for (let i = 0; i < 2000; i++) map.set(flat(populationMd5(i)), true);
}

const before = settle();
const started = performance.now();
let size: () => number;
const kinds = { signed: 0, unsigned: 0, unknown: 0 };
if (kind === 'verdict-cache') {
  const cache = new VerdictCache({ maxEntries: entries, ...ttls, load: noUpstream });
  for (let i = 0; i < entries; i++) {
    const entry = entryFor(i);
    kinds[verdictKind(entry)]++;
    cache.set(flat(populationMd5(i)), entry);
  }
  size = () => cache.size;
} else if (kind === 'verdict-cache-url-keys') {
  const cache = new VerdictCache({ maxEntries: entries, ...ttls, load: noUpstream });
  const prefix = '/v1/signatures/'.length;
  for (let i = 0; i < entries; i++) {
    const url = flat(`/v1/signatures/${populationMd5(i)}?name=proc-${i}.exe`);
    cache.set(url.slice(prefix, prefix + 32), entryFor(i));
  }
  size = () => cache.size;
} else if (kind === 'map-baseline') {
  const map = new Map<string, true>();
  for (let i = 0; i < entries; i++) map.set(flat(populationMd5(i)), true);
  size = () => map.size;
} else {
  throw new Error(`unknown MEMORY_KIND ${kind}`);
}
const fillMs = performance.now() - started;
const after = settle();
// Read after the measurement, so the structure is certainly alive through it.
const held = size();
if (held !== entries) throw new Error(`${kind} holds ${held} of ${entries} entries`);

const heapBytes = after.heapUsed - before.heapUsed;
const arrayBufferBytes = after.arrayBuffers - before.arrayBuffers;
process.stdout.write(
  `${JSON.stringify({
    kind,
    entries,
    fillMs: Math.round(fillMs),
    heapBytes,
    arrayBufferBytes,
    heapPerEntry: heapBytes / entries,
    totalPerEntry: (heapBytes + arrayBufferBytes) / entries,
    rssBytes: after.rss,
    heapUsedBytes: after.heapUsed,
    verdicts: kinds,
    distinctSignatures: interner.size,
  })}\n`,
);

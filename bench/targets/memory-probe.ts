import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as VerdictCacheModule from '../../src/signing/verdict-cache.js';
import type * as PopulationModule from '../../src/simulator/population.js';

/**
 * Scenario 5's measuring child, run as `node --expose-gc memory-probe.mjs`:
 * fills one structure with MEMORY_ENTRIES distinct md5s and prints one JSON
 * line with the heap growth it caused (forced GC before and after).
 *
 * MEMORY_KIND:
 *   verdict-cache  Signet's VerdictCache (dist/signing/verdict-cache.js),
 *                  capacity = entries, filled through `set(md5, name, signed)`:
 *                  3 of 4 signed, the 4th unsigned for its short lower-case name,
 *                  as the simulator's population (and production) has them.
 *   map-baseline   a Map<string, true> of the same keys: the irreducible cost
 *                  of holding a million md5 strings in a keyed structure.
 *   verdict-cache-url-keys
 *                  as verdict-cache, but each md5 and name is a slice of its
 *                  request URL, as the GET route hands them over (find-my-way
 *                  and the query parser slice the URL; V8 keeps a slice of 13+
 *                  characters as a view that holds the whole URL alive).
 *
 * Otherwise keys and names are flat strings, as JSON.parse or the snapshot
 * reader make them (concatenation would leave ropes that cost more than a key).
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

const { VerdictCache } = (await import(pathToFileURL(join(dist, 'signing', 'verdict-cache.js')).href)) as typeof VerdictCacheModule;
const { populationMd5, populationName, populationIsSigned } = (await import(
  pathToFileURL(join(simulatorDist, 'population.js')).href
)) as typeof PopulationModule;

const flat = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) collect();
  return process.memoryUsage();
}

// Warm the code paths on a throw-away instance so that compiled code is not counted as data.
{
  const warm = new VerdictCache({ maxEntries: 1000, ttlSignedMs: 86_400_000, ttlUnsignedMs: 3_600_000, load: async () => true });
  for (let i = 0; i < 2000; i++) warm.set(flat(populationMd5(i)), flat(populationName(i)), populationIsSigned(i));
  const map = new Map<string, true>();
  for (let i = 0; i < 2000; i++) map.set(flat(populationMd5(i)), true);
}

const before = settle();
const started = performance.now();
let size: () => number;
if (kind === 'verdict-cache') {
  const cache = new VerdictCache({
    maxEntries: entries,
    ttlSignedMs: 86_400_000,
    ttlUnsignedMs: 3_600_000,
    load: async () => {
      throw new Error('no upstream in the memory probe');
    },
  });
  for (let i = 0; i < entries; i++) cache.set(flat(populationMd5(i)), flat(populationName(i)), populationIsSigned(i));
  size = () => cache.size;
} else if (kind === 'verdict-cache-url-keys') {
  const cache = new VerdictCache({
    maxEntries: entries,
    ttlSignedMs: 86_400_000,
    ttlUnsignedMs: 3_600_000,
    load: async () => {
      throw new Error('no upstream in the memory probe');
    },
  });
  const prefix = '/v1/signatures/'.length;
  const query = '?name='.length;
  for (let i = 0; i < entries; i++) {
    const url = flat(`/v1/signatures/${populationMd5(i)}?name=${populationName(i)}`);
    cache.set(url.slice(prefix, prefix + 32), url.slice(prefix + 32 + query), populationIsSigned(i));
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
  })}\n`,
);

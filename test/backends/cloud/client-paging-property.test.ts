import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { binary, closeClients, cloudClient, expectNoPendingMocks, FAR, row, STATE } from './support/cloud-fixtures.js';
import { startFakeCloud } from './support/fake-cloud.js';

/**
 * Property: whatever the data, page size, page limit and availability cap,
 * every asked hash with at least one process row is resolved, and only hashes
 * with none are reported absent. Paging never turns a known binary into
 * "unknown". Also: what is reported comes from that binary's rows only, and
 * the number of jobs stays within one per asked hash.
 */

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

const stateNames = Object.values(STATE);

const scenario = fc.record({
  /** Rows per binary: many zeros (absent), some popular ones. */
  counts: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 8, max: 25 })), {
    minLength: 1,
    maxLength: 7,
  }),
  /** How each binary is asked: by md5, by sha256, or both. */
  askedBy: fc.array(fc.constantFrom('md5', 'sha256', 'both'), { minLength: 7, maxLength: 7 }),
  /** The order rows come in: a permutation key per row, so popular rows may come first, last or spread. */
  order: fc.array(fc.integer(), { minLength: 100, maxLength: 100 }),
  rowsPerPage: fc.integer({ min: 1, max: 4 }),
  maxPagesPerJob: fc.integer({ min: 1, max: 3 }),
  availableCap: fc.integer({ min: 1, max: 12 }),
  label: fc.nat(),
});

describe('paging never reports a known binary unknown', () => {
  it('resolves exactly the asked hashes that have rows (property, fake Cloud)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ counts, askedBy, order, rowsPerPage, maxPagesPerJob, availableCap, label }) => {
        const binaries = counts.map((_count, index) => binary(`run-${label}-binary-${index}`));
        const rows = counts.flatMap((count, index) =>
          Array.from({ length: count }, (_v, k) =>
            row(binaries[index]!, [stateNames[(index + k) % stateNames.length]!], {
              publishers: [`Publisher ${index}-${k % 2}`],
              hashOrder: k % 3 === 0 ? 'md5-first' : 'sha256-first',
            }),
          ),
        );
        const keyed = rows.map((value, index) => ({ value, key: order[index % order.length]! }));
        keyed.sort((a, b) => a.key - b.key);
        const cloud = startFakeCloud(
          keyed.map(({ value }) => value),
          availableCap,
        );

        const asked: { hash: string; index: number }[] = [];
        binaries.forEach((of, index) => {
          const by = askedBy[index]!;
          if (by !== 'sha256') asked.push({ hash: of.md5, index });
          if (by !== 'md5') asked.push({ hash: of.sha256, index });
        });
        // The defaults but for polling (jobs complete at once here) and the paging under test.
        const client = cloudClient({ pollIntervalMs: 1, maxPollIntervalMs: 1, rowsPerPage, maxPagesPerJob });
        try {
          const found = await client.searchHashes(
            asked.map(({ hash }) => hash),
            new AbortController().signal,
            FAR(),
          );
          for (const { hash, index } of asked) {
            const signing = found.get(hash);
            expect(signing !== undefined, `hash of binary ${index} with ${counts[index]} rows`).toBe(counts[index]! > 0);
            if (signing === undefined) continue;
            expect(signing.md5).toBe(binaries[index]!.md5);
            expect(signing.sha256).toBe(binaries[index]!.sha256);
            const own = rows.filter((candidate) => (candidate['process_hash'] as string[]).includes(binaries[index]!.md5));
            const ownStates = new Set(own.flatMap((candidate) => candidate['process_publisher_state'] as string[]));
            for (const state of signing.states) expect(ownStates.has(state)).toBe(true);
            for (const publisher of signing.publishers) expect(publisher.startsWith(`Publisher ${index}-`)).toBe(true);
          }
          expect(found.size).toBe(asked.filter(({ index }) => counts[index]! > 0).length);
          expect(cloud.queries.length).toBeLessThanOrEqual(asked.length);
        } finally {
          // Closes the client and its MockAgent: the next run starts a fresh fake Cloud on a new one.
          await closeClients();
        }
      }),
      { seed: 424242, numRuns: 60 },
    );
  });
});

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuery } from '../../src/simulator/query-parser.js';
import type { QueryNode } from '../../src/simulator/query-parser.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/*
 * Whatever name a caller sends, the search that reaches Carbon Black is
 * exactly `process_md5:<md5> digsig_prog_name:<that name>` (with
 * CB_JOIN_FIELD=digsig_result, `process_md5:<md5> digsig_result:Signed`,
 * whatever the name): one AND of two
 * term clauses, the md5 lower-cased, the name's value unchanged. Checked end
 * to end: through the app's routes (query string and JSON body decoding,
 * validation, the service, the client's URL encoding) to the simulator, whose
 * independent parser reads the raw `q` it received. Every run uses an md5 no
 * other run uses, so the cache never answers in place of Carbon Black.
 *
 * fast-check prints the seed and path of a failing run; replay it with
 * `{ seed, path }` in the fc.assert options.
 */

const SINGLE_RUNS = 200;
const BATCH_RUNS = 50;

let stack: Stack;

beforeAll(async () => {
  // No retries: a failed search would show up as a second, identical query. The joined search is the
  // only query a name reaches (CB_VERDICT_SOURCE=joined-search); binary-record mode is checked at the end.
  stack = await startStack({ env: { CB_VERDICT_SOURCE: 'joined-search', CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '1000' } });
});
afterAll(() => stack.close());

/**
 * What the API accepts as a name: 1 to 260 UTF-16 units, no control character;
 * and well-formed (no lone surrogate), which a URL can carry. Lone surrogates
 * are the subject of their own test below.
 */
const validName = (name: string): boolean => name.length >= 1 && name.length <= 260 && !/[\p{Cc}\p{Cs}]/u.test(name);

/** Pieces that mean something to a query parser, or to a careless escaper. */
const hostileFragments = [
  '"',
  '\\',
  '\\\\',
  '\\"',
  '"\\',
  ' ',
  '  ',
  'OR',
  'AND',
  'NOT',
  'TO',
  'or',
  'and',
  'not',
  'to',
  '*',
  '?',
  '(',
  ')',
  '()',
  ':',
  '-',
  '+',
  '!',
  '~',
  '^',
  '[',
  ']',
  '{',
  '}',
  '/',
  '&&',
  '||',
  '&',
  '=',
  '%',
  '%20',
  '%22',
  '#',
  ';',
  ',',
  'digsig_result:Signed',
  ' OR digsig_result:Signed',
  'process_md5:',
  'process_md5:*',
  'digsig_prog_name:',
  '*:*',
  '-digsig_prog_name:x',
  ') OR (',
  '" OR "',
  '\\" OR digsig_result:Signed \\"',
  'git',
  'powershell.exe',
  'Google Chrome',
  'a-b',
  'x.y_z',
  'é',
  'ß',
  'İ',
  'Ω',
  '名前',
  'имя',
  'اسم',
  '🙂',
  '👩‍💻',
  '🇫🇷',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\u3000',
  '\ufeff',
  '\u200b',
  '\u202e',
  '\ufffd',
];

const fragmentArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...hostileFragments) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
);

/** Names built from hostile pieces, with or without a leading `-` and a trailing backslash. */
const hostileNameArb = fc
  .tuple(fc.array(fragmentArb, { minLength: 1, maxLength: 16 }), fc.boolean(), fc.boolean())
  .map(([parts, dash, trailingBackslash]) => `${dash ? '-' : ''}${parts.join('')}${trailingBackslash ? '\\' : ''}`);

/** Any code point at all (no lone surrogates), short and long. */
const unicodeNameArb = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 260 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 260, size: 'max' }),
);

const nameArb = fc
  .oneof(
    unicodeNameArb,
    hostileNameArb,
    hostileNameArb.map((name) => name.repeat(40).slice(0, 260)),
  )
  .filter(validName);

/** 16 random bytes, hex, with each digit's case picked at random: the API takes any case. */
const md5Arb = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }))
  .map(([bytes, upper]) =>
    Buffer.from(bytes)
      .toString('hex')
      .split('')
      .map((digit, i) => (upper[i] ? digit.toUpperCase() : digit))
      .join(''),
  );

/**
 * fast-check may repeat a value (and does while shrinking), and a repeated md5
 * could be answered from the cache; so the last 8 digits come from a counter.
 */
let counter = 0;
function unique(md5: string): string {
  counter += 1;
  return md5.slice(0, 24) + counter.toString(16).padStart(8, '0');
}

interface Term {
  field: string;
  value: string;
}

/** The query is exactly and[process_md5:<md5>, digsig_prog_name:<name>], with no wildcard anywhere. */
function expectSigningQuery(q: string, md5: string, name: string): void {
  let ast: QueryNode;
  try {
    ast = parseQuery(q);
  } catch (error) {
    throw new Error(`the simulator cannot parse ${JSON.stringify(q)}: ${(error as Error).message}`);
  }
  expect(ast.type, q).toBe('and');
  const children = (ast as { children: QueryNode[] }).children;
  expect(children, q).toHaveLength(2);
  const [first, second] = children as [QueryNode, QueryNode];
  expect(first, q).toMatchObject({ type: 'term', field: 'process_md5', value: md5.toLowerCase(), wildcard: false });
  expect(second, q).toMatchObject({ type: 'term', field: 'digsig_prog_name', wildcard: false });
  // Exact equality, not toMatchObject's: the whole value, nothing more, nothing less.
  expect((second as Term).value === name, `${JSON.stringify((second as Term).value)} !== ${JSON.stringify(name)} in ${q}`).toBe(true);
}

function md5Of(q: string): string {
  const ast = parseQuery(q);
  const first = ast.type === 'and' ? ast.children[0] : ast;
  return first?.type === 'term' ? first.value : '';
}

describe('a single lookup', () => {
  it(`sends exactly one two-clause query carrying the name unchanged (${SINGLE_RUNS} runs)`, async () => {
    const queries = stack.simulator.simulator.stats.queries;
    await fc.assert(
      fc.asyncProperty(md5Arb, nameArb, async (randomMd5, name) => {
        const md5 = unique(randomMd5);
        const before = queries.length;
        const response = await stack.app.inject(`/v1/signatures/${md5}?name=${encodeURIComponent(name)}`);
        expect(response.statusCode, response.body).toBe(200);
        const body = response.json() as { md5: string; name: string; cache: { status: string } };
        expect(body.md5).toBe(md5.toLowerCase());
        expect(body.name === name, 'the answer names the name as given').toBe(true);
        expect(body.cache.status).toBe('miss');
        expect(queries.length - before, 'one search per lookup').toBe(1);
        expectSigningQuery(queries[queries.length - 1]!, md5, name);
      }),
      { numRuns: SINGLE_RUNS },
    );
  });
});

describe('a batch', () => {
  const itemsArb = fc.array(fc.tuple(md5Arb, nameArb), { minLength: 2, maxLength: 8 });

  it(`sends one query per item, each carrying its own name unchanged (${BATCH_RUNS} batches)`, async () => {
    const queries = stack.simulator.simulator.stats.queries;
    await fc.assert(
      fc.asyncProperty(itemsArb, async (pairs) => {
        const items = pairs.map(([md5, name]) => ({ md5: unique(md5), name }));
        const before = queries.length;
        const response = await stack.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } });
        expect(response.statusCode, response.body).toBe(200);
        const { results } = response.json() as { results: Array<{ md5: string; name: string; error?: unknown }> };
        expect(results).toHaveLength(items.length);
        results.forEach((result, i) => {
          expect(result.error, JSON.stringify(result.error)).toBeUndefined();
          expect(result.md5).toBe(items[i]!.md5.toLowerCase());
          expect(result.name === items[i]!.name).toBe(true);
        });

        // The searches run concurrently and may arrive in any order: match them to items by md5.
        const sent = queries.slice(before);
        expect(sent).toHaveLength(items.length);
        const byMd5 = new Map(sent.map((q) => [md5Of(q), q]));
        for (const item of items) {
          const q = byMd5.get(item.md5.toLowerCase());
          expect(q, `no query for ${item.md5}`).toBeDefined();
          expectSigningQuery(q!, item.md5, item.name);
        }
      }),
      { numRuns: BATCH_RUNS },
    );
  });
});

describe('names chosen to break out of the clause', () => {
  // The same check on a fixed list, so these never depend on the generator's luck.
  const names = [
    'git" OR digsig_result:Signed OR digsig_prog_name:"x',
    'x) OR (digsig_result:Signed',
    '\\',
    'git\\',
    '\\"',
    '"',
    '""',
    'OR',
    'NOT',
    'and',
    '-git',
    '*',
    'git*',
    '?',
    'digsig_result:Signed',
    'process_md5:00000000000000000000000000000000',
    ' git ',
    '  ',
    'a\u2028b',
    '\ufeffgit',
    'chrome.exe',
    '👩‍💻 "\\" 🇫🇷',
    `${'\\'.repeat(259)}"`,
    '"'.repeat(260),
  ];

  const label = (name: string) => {
    const json = JSON.stringify(name);
    return json.length > 48 ? `${json.slice(0, 45)}…" (${name.length} units)` : json;
  };

  it.each(names.map((name) => [label(name), name] as const))('%s', async (_label, name) => {
    const md5 = unique('f'.repeat(32));
    const response = await stack.app.inject(`/v1/signatures/${md5}?name=${encodeURIComponent(name)}`);
    expect(response.statusCode, response.body).toBe(200);
    const queries = stack.simulator.simulator.stats.queries;
    expectSigningQuery(queries[queries.length - 1]!, md5, name);
  });
});

describe('with CB_JOIN_FIELD=digsig_result', () => {
  let joinOnResult: Stack;
  beforeAll(async () => {
    joinOnResult = await startStack({
      env: { CB_VERDICT_SOURCE: 'joined-search', CB_JOIN_FIELD: 'digsig_result', CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '1000' },
    });
  });
  afterAll(() => joinOnResult.close());

  it('the name never reaches the query at all (50 runs)', async () => {
    const queries = joinOnResult.simulator.simulator.stats.queries;
    await fc.assert(
      fc.asyncProperty(md5Arb, nameArb, async (randomMd5, name) => {
        const md5 = unique(randomMd5);
        const response = await joinOnResult.app.inject(`/v1/signatures/${md5}?name=${encodeURIComponent(name)}`);
        expect(response.statusCode, response.body).toBe(200);
        const q = queries[queries.length - 1]!;
        expect(q).toBe(`process_md5:${md5.toLowerCase()} digsig_result:Signed`);
        expect(parseQuery(q)).toEqual({
          type: 'and',
          children: [
            { type: 'term', field: 'process_md5', value: md5.toLowerCase(), phrase: false, wildcard: false },
            { type: 'term', field: 'digsig_result', value: 'Signed', phrase: false, wildcard: false },
          ],
        });
      }),
      { numRuns: 50 },
    );
  });
});

describe('a name that is not well-formed Unicode', () => {
  /*
   * A JSON body can carry a lone surrogate ("\ud800"); URL encoding would turn it
   * into U+FFFD and Carbon Black would be asked about another name than the one
   * answered, so the name schema refuses it.
   */
  it('is refused with a 400 in its place rather than looked up under another name', async () => {
    const md5 = unique('e'.repeat(32));
    const before = stack.simulator.simulator.stats.queries.length;
    const payload = `{"items":[{"md5":"${md5}","name":"git\\ud800"}]}`;
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/signatures/batch',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ results: [{ md5, error: { status: 400, code: 'INVALID_REQUEST', field: 'name' } }] });
    expect(stack.simulator.simulator.stats.queries.length).toBe(before);
  });
});

describe('binary-record mode (the default)', () => {
  let records: Stack;
  beforeAll(async () => {
    records = await startStack({ env: { CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '1000' } });
  });
  afterAll(() => records.close());

  it('sends one md5 term per miss and never the name (100 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 260 }).filter(validName), async (name) => {
        const md5 = unique('a'.repeat(32));
        const stats = records.simulator.simulator.stats;
        const before = stats.binaryQueries.length;
        const response = await records.app.inject(`/v1/signatures/${md5.toUpperCase()}?name=${encodeURIComponent(name)}`);
        expect(response.statusCode).toBe(200);
        expect(stats.binaryQueries.slice(before)).toEqual([`md5:${md5.toUpperCase()}`]);
        expect(stats.processSearches).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});

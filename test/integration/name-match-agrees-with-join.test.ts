import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSigningQuery } from '../../src/backends/edr/query.js';
import { fixtureBinaries } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/*
 * nameMatchesSignature is the seed's join test evaluated on the record. This
 * runs the simulator's real joined search (the query Signet's own client would
 * send, quoting included) beside it, for every fixture binary and a set of
 * hostile names, and requires the same answer.
 */

const HOSTILE_NAMES = [
  'chrome',
  'Google Chrome',
  'google  chrome',
  'GOOGLE-CHROME',
  'chrome.exe',
  '"Google Chrome"',
  'Google Chrome OR *',
  'goog*',
  '*',
  'chrome\\',
  'a"b',
  '(x86)',
  'x86',
  'tricky tool',
  'Tricky "Tool" (x86) OR c:\\bin\\*: v2',
  'tool x86 or',
  'PowerShell',
  'windows',
  'AND',
  'or',
  'NOT',
  'to',
  '-git',
  '+git',
  'git*',
  'git OR digsig_result:Signed',
  'legacy-vpn',
  'Legacy VPN',
  'code helper',
  'svchost.exe',
  'PsExec',
  'İstanbul',
  'ß',
  'ﬁle',
  'Café',
  '\u00a0git',
  'git\u200b',
  '漢字',
  '🎉git',
  '..',
  '--',
  'a'.repeat(260),
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

async function joinFindsRow(md5: string, name: string): Promise<boolean> {
  const q = buildSigningQuery(md5, name, 'digsig_prog_name');
  const response = await stack.simulator.inject({
    url: `/api/v1/process?${new URLSearchParams({ q, rows: '1', start: '0', sort: '' }).toString()}`,
    headers: { 'x-auth-token': stack.simulator.simulator.token },
  });
  // A phrase with no word in it ("  ", "--") is refused by the parser: the join finds nothing either way.
  if (response.statusCode === 400 && !/[\p{L}\p{N}]/u.test(name)) return false;
  expect(response.statusCode, `${q}: ${response.body}`).toBe(200);
  return response.json<{ total_results: number }>().total_results > 0;
}

async function nameMatchesSignature(md5: string, name: string): Promise<boolean | null> {
  const response = await stack.app.inject(`/v1/signatures/${md5}?name=${encodeURIComponent(name)}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ nameMatchesSignature: boolean | null }>().nameMatchesSignature;
}

function namesFor(binary: (typeof fixtureBinaries)[number]): string[] {
  const own = [...new Set(binary.processes.map((p) => p.process_name))];
  const program = binary.signing.progName;
  const programVariants =
    program === undefined ? [] : [program, program.toUpperCase(), program.split(' ')[0]!, program.replaceAll(' ', '-')];
  return [...own, ...programVariants, ...HOSTILE_NAMES];
}

describe("nameMatchesSignature agrees with the simulator's joined search", () => {
  it.each(fixtureBinaries.map((binary) => [binary.processes[0]?.process_name ?? binary.md5, binary] as const))(
    'fixture %s, for its own names and every hostile name',
    async (_label, binary) => {
      for (const name of namesFor(binary)) {
        const fromJoin = await joinFindsRow(binary.md5, name);
        expect(await nameMatchesSignature(binary.md5, name), `${binary.md5} name ${JSON.stringify(name)}`).toBe(fromJoin);
      }
    },
  );

  it('for generated names made of words, separators and query syntax', async () => {
    const withProgram = fixtureBinaries.filter((binary) => binary.signing.progName !== undefined);
    const piece = fc.constantFrom(
      'chrome',
      'Google',
      'power',
      'Shell',
      'Windows',
      'tool',
      'x86',
      'v2',
      'VPN',
      'legacy',
      'OR',
      'and',
      ' ',
      '  ',
      '.',
      '-',
      '_',
      '"',
      '\\',
      '*',
      '(',
      ')',
      ':',
      'é',
      'İ',
      '漢',
    );
    const name = fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...withProgram), name, async (binary, candidate) => {
        expect(await nameMatchesSignature(binary.md5, candidate)).toBe(await joinFindsRow(binary.md5, candidate));
      }),
      { numRuns: 300 },
    );
  });
});

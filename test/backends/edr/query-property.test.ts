import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSigningQuery, quoteValue } from '../../../src/backends/edr/query.js';
import { parseQuery } from '../../../src/simulator/query-parser.js';

/**
 * Property: no name, whatever it holds, can add, remove or alter a clause.
 * Checked against a small reference tokenizer written here, independently of
 * the builder: it reads `field:value` clauses separated by spaces, where a
 * value is a `"phrase"` (`\` escapes the next character) or a bare term that
 * a Lucene-style parser would read as one literal (no whitespace, no special
 * character, no leading `-`, not an operator word).
 */

interface Clause {
  field: string;
  value: string;
  phrase: boolean;
}

const luceneSpecial = /[\s"\\()[\]{}:^~*?!+&|/]/u;
const operators = new Set(['and', 'or', 'not', 'to']);

function tokenize(query: string): Clause[] {
  const clauses: Clause[] = [];
  let i = 0;
  while (i < query.length) {
    if (query[i] === ' ') {
      i += 1;
      continue;
    }
    const field = /^[a-z_][a-z0-9_]*:/.exec(query.slice(i));
    if (field === null) throw new Error(`no field at ${i}`);
    i += field[0].length;
    let value = '';
    let phrase = false;
    if (query[i] === '"') {
      phrase = true;
      i += 1;
      for (;;) {
        const c = query[i];
        if (c === undefined) throw new Error('unterminated phrase');
        if (c === '\\') {
          const next = query[i + 1];
          if (next === undefined) throw new Error('dangling escape');
          value += next;
          i += 2;
        } else if (c === '"') {
          i += 1;
          break;
        } else {
          value += c;
          i += 1;
        }
      }
      if (i < query.length && query[i] !== ' ') throw new Error(`phrase runs into ${JSON.stringify(query[i])}`);
    } else {
      const end = query.indexOf(' ', i);
      value = query.slice(i, end === -1 ? query.length : end);
      i += value.length;
      if (value === '' || luceneSpecial.test(value) || value.startsWith('-') || operators.has(value.toLowerCase())) {
        throw new Error(`bare value ${JSON.stringify(value)} is not one literal term`);
      }
    }
    clauses.push({ field: field[0].slice(0, -1), value, phrase });
  }
  return clauses;
}

const md5Arb = fc.stringMatching(/^[0-9a-fA-F]{32}$/);
/** Names made of the characters most likely to break quoting, in any order and number. */
const hostileNameArb = fc.string({
  unit: fc.constantFrom('"', '\\', ' ', '\t', '\n', ':', '*', '?', '(', ')', '-', '+', 'OR', 'AND', 'NOT', 'TO', 'a', 'é', '🚀', '\u0000'),
  maxLength: 12,
});
/** Any code points, lone surrogates included. */
const anyNameArb = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), hostileNameArb);

describe('signing query, for any name', () => {
  it('the reference tokenizer reads the seed query as two clauses', () => {
    expect(tokenize('process_md5:82a7bf2b1f51f1988be571b8176aa545 digsig_prog_name:git')).toEqual([
      { field: 'process_md5', value: '82a7bf2b1f51f1988be571b8176aa545', phrase: false },
      { field: 'digsig_prog_name', value: 'git', phrase: false },
    ]);
    // And it is strict enough to catch a broken quoting (sanity check of the oracle itself).
    expect(() => tokenize('process_md5:x digsig_prog_name:"a"b"')).toThrow();
    expect(() => tokenize('process_md5:x digsig_prog_name:"a\\"')).toThrow();
    expect(() => tokenize('process_md5:x digsig_prog_name:OR')).toThrow();
    expect(() => tokenize('process_md5:x digsig_prog_name:a OR digsig_result:Signed')).toThrow();
    expect(tokenize('process_md5:x digsig_prog_name:a digsig_result:Signed')).toHaveLength(3);
  });

  it('yields exactly the md5 clause and a digsig_prog_name clause holding the name', () => {
    fc.assert(
      fc.property(md5Arb, anyNameArb, (md5, name) => {
        const clauses = tokenize(buildSigningQuery(md5, name, 'digsig_prog_name'));
        expect(clauses).toHaveLength(2);
        expect(clauses[0]).toEqual({ field: 'process_md5', value: md5.toLowerCase(), phrase: false });
        expect(clauses[1]?.field).toBe('digsig_prog_name');
        expect(clauses[1]?.value).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });

  it('quoteValue round-trips through the tokenizer on its own', () => {
    fc.assert(
      fc.property(anyNameArb, (name) => {
        const [clause, ...rest] = tokenize(`f:${quoteValue(name)}`);
        expect(rest).toEqual([]);
        expect(clause?.value).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });

  it('digsig_result mode never depends on the name', () => {
    fc.assert(
      fc.property(md5Arb, anyNameArb, (md5, name) => {
        expect(buildSigningQuery(md5, name, 'digsig_result')).toBe(`process_md5:${md5.toLowerCase()} digsig_result:Signed`);
      }),
    );
  });
});

/**
 * The simulator's own parser: the server side of this project must read our
 * queries the same way. Imported outright: a runIf on a computed path hid this
 * block for as long as the path was wrong (it pointed one folder too high after
 * the backends moved into folders of their own).
 */
describe('signing query, read by the simulator parser', () => {
  // The simulator rejects an empty phrase (`digsig_prog_name:""`) as a syntax error, as a strict
  // server may; names are validated non-empty before they reach the client, so that case is left out.
  it('parses to process_md5 AND digsig_prog_name with the name unchanged', () => {
    fc.assert(
      fc.property(
        md5Arb,
        anyNameArb.filter((name) => name !== ''),
        (md5, name) => {
          const ast = parseQuery(buildSigningQuery(md5, name, 'digsig_prog_name'));
          expect(ast).toMatchObject({
            type: 'and',
            children: [
              { type: 'term', field: 'process_md5', value: md5.toLowerCase() },
              { type: 'term', field: 'digsig_prog_name', value: name },
            ],
          });
          if (ast.type === 'and') expect(ast.children).toHaveLength(2);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

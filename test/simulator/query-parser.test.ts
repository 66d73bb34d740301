import { describe, expect, it } from 'vitest';
import { formatTerm, parseQuery, queryTerms, QuerySyntaxError, type QueryNode } from '../../src/simulator/query-parser.js';

const term = (field: string, value: string, phrase = false, wildcard = false) => ({ type: 'term', field, value, phrase, wildcard });

describe('parseQuery grammar', () => {
  it('parses the seed query as exactly two AND-ed terms', () => {
    expect(parseQuery('process_md5:82a7bf2b1f51f1988be571b8176aa545 digsig_prog_name:git')).toEqual({
      type: 'and',
      children: [term('process_md5', '82a7bf2b1f51f1988be571b8176aa545'), term('digsig_prog_name', 'git')],
    });
  });

  it('parses a lone term as a term node', () => {
    expect(parseQuery('process_name:git')).toEqual(term('process_name', 'git'));
  });

  it('treats AND/and and juxtaposition alike and flattens chains', () => {
    const expected = { type: 'and', children: [term('md5', 'a'), term('md5', 'b'), term('md5', 'c')] };
    expect(parseQuery('md5:a AND md5:b and md5:c')).toEqual(expected);
    expect(parseQuery('md5:a md5:b   md5:c')).toEqual(expected);
  });

  it('gives AND precedence over OR', () => {
    expect(parseQuery('md5:a OR md5:b md5:c or md5:d')).toEqual({
      type: 'or',
      children: [term('md5', 'a'), { type: 'and', children: [term('md5', 'b'), term('md5', 'c')] }, term('md5', 'd')],
    });
  });

  it('keeps parenthesised groups as written and adds no node for parentheses', () => {
    expect(parseQuery('(md5:a md5:b) md5:c')).toEqual({
      type: 'and',
      children: [{ type: 'and', children: [term('md5', 'a'), term('md5', 'b')] }, term('md5', 'c')],
    });
    expect(parseQuery('((md5:a))')).toEqual(term('md5', 'a'));
    expect(parseQuery('md5:a (md5:b OR md5:c)')).toEqual({
      type: 'and',
      children: [term('md5', 'a'), { type: 'or', children: [term('md5', 'b'), term('md5', 'c')] }],
    });
  });

  it('negates with a leading - or NOT', () => {
    expect(parseQuery('-process_name:git')).toEqual({ type: 'not', child: term('process_name', 'git') });
    expect(parseQuery('md5:a NOT md5:b')).toEqual({
      type: 'and',
      children: [term('md5', 'a'), { type: 'not', child: term('md5', 'b') }],
    });
    expect(parseQuery('-(md5:a OR md5:b)')).toEqual({
      type: 'not',
      child: { type: 'or', children: [term('md5', 'a'), term('md5', 'b')] },
    });
  });

  it('keeps a dash inside a value as part of the value', () => {
    expect(parseQuery('process_name:proc-1.exe')).toEqual(term('process_name', 'proc-1.exe'));
  });

  it('keeps colons after the first one in the value', () => {
    expect(parseQuery('path:c:\\windows\\system32\\cmd.exe')).toEqual(term('path', 'c:\\windows\\system32\\cmd.exe'));
  });
});

describe('parseQuery values', () => {
  it('reads a quoted phrase with spaces as one value', () => {
    expect(parseQuery('digsig_prog_name:"Code Helper"')).toEqual(term('digsig_prog_name', 'Code Helper', true));
  });

  it('resolves \\" and \\\\ inside a phrase and keeps other backslashes', () => {
    expect(parseQuery('digsig_prog_name:"say \\"hi\\" c:\\\\bin c:\\tmp"')).toEqual(
      term('digsig_prog_name', 'say "hi" c:\\bin c:\\tmp', true),
    );
  });

  it('reads OR, *, parentheses and colons inside a phrase as plain text', () => {
    const q = 'process_md5:401b4f401bed540d779fd93400130ee5 digsig_prog_name:"Tricky \\"Tool\\" (x86) OR c:\\\\bin\\\\*: v2"';
    expect(parseQuery(q)).toEqual({
      type: 'and',
      children: [
        term('process_md5', '401b4f401bed540d779fd93400130ee5'),
        term('digsig_prog_name', 'Tricky "Tool" (x86) OR c:\\bin\\*: v2', true),
      ],
    });
  });

  it('resolves backslash escapes in bare values', () => {
    expect(parseQuery('digsig_prog_name:Code\\ Helper')).toEqual(term('digsig_prog_name', 'Code Helper'));
    expect(parseQuery('process_name:a\\(x86\\)')).toEqual(term('process_name', 'a(x86)'));
    expect(parseQuery('process_name:a\\"b')).toEqual(term('process_name', 'a"b'));
    expect(parseQuery('process_name:a\\*')).toEqual(term('process_name', 'a*'));
  });

  it('ends a bare value at a closing parenthesis', () => {
    expect(parseQuery('(process_name:git)')).toEqual(term('process_name', 'git'));
  });

  it('marks wildcards in bare values, but not in phrases', () => {
    expect(parseQuery('process_name:chr*me.e*')).toEqual(term('process_name', 'chr*me.e*', false, true));
    expect(parseQuery('process_name:"chr*me"')).toEqual(term('process_name', 'chr*me', true, false));
    expect(parseQuery('digsig_prog_name:*')).toEqual(term('digsig_prog_name', '*', false, true));
  });

  it('reads operator words after a colon as values', () => {
    expect(parseQuery('digsig_prog_name:OR')).toEqual(term('digsig_prog_name', 'OR'));
  });
});

describe('parseQuery syntax errors', () => {
  const bad: [string, string][] = [
    ['', 'empty query'],
    ['   ', 'whitespace only'],
    ['git', 'a bare word with no field'],
    ['process_md5:abc git', 'a bare word after a term'],
    ['unknown_field:x', 'an unknown field'],
    ['Process_Name:git', 'a field in the wrong case'],
    ['process_name:', 'an empty value at the end'],
    ['process_name: git', 'an empty value before whitespace'],
    ['process_name:""', 'an empty phrase'],
    ['process_name:"git', 'an unterminated phrase'],
    ['process_name:"a\\"', 'a phrase whose only closing quote is escaped'],
    ['process_name:a"b', 'a quote inside a bare value'],
    ['"git"', 'a phrase with no field'],
    ['(process_name:git', 'an unclosed parenthesis'],
    ['process_name:git)', 'a stray closing parenthesis'],
    ['()', 'empty parentheses'],
    ['process_name:git AND', 'a dangling AND'],
    ['OR process_name:git', 'a leading OR'],
    ['process_name:a OR OR process_name:b', 'a doubled OR'],
    ['process_name:a -', 'a dangling minus'],
    ['- process_name:a', 'a minus separated from its operand'],
    ['NOT', 'a lone NOT'],
    ['process_name:*git', 'a leading wildcard'],
    ['process_name:(a b)', 'a field group'],
    ['digsig_sign_time:[2019-01-01 TO *]', 'a range'],
    ['process_name:"a b"~2', 'a proximity suffix'],
    [':git', 'a colon without a field'],
  ];

  it.each(bad)('rejects %j (%s)', (q) => {
    expect(() => parseQuery(q)).toThrow(QuerySyntaxError);
  });

  it('reports the offset of the problem', () => {
    try {
      parseQuery('process_md5:abc bogus:1');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(QuerySyntaxError);
      expect((error as QuerySyntaxError).position).toBe(16);
    }
  });
});

describe('queryTerms and formatTerm', () => {
  it('lists the leaves left to right and writes phrases back quoted', () => {
    const node: QueryNode = parseQuery('md5:a (digsig_prog_name:"x \\"y\\"" OR -process_name:b)');
    expect(queryTerms(node).map(formatTerm)).toEqual(['md5:a', 'digsig_prog_name:"x \\"y\\""', 'process_name:b']);
  });
});

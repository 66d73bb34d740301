import { describe, expect, it } from 'vitest';
import { MAX_QUERY_DEPTH, parseQuery, queryHashes, QuerySyntaxError } from '../../../src/simulator/cloud/query.js';

const MD5 = '55f47e93386c709eb573ae42938eaf63';
const SHA = 'd42982052248534749deca6b235f77602a92d3e4fb3aaf174b9dc96c1bf6f7a6';

function syntaxError(query: string): QuerySyntaxError {
  try {
    parseQuery(query);
  } catch (error) {
    if (error instanceof QuerySyntaxError) return error;
    throw error;
  }
  throw new Error(`accepted: ${query}`);
}

describe('Cloud query parser: accepted forms', () => {
  it('reads a hash term, md5 or sha256, in any case, as lower case', () => {
    expect(parseQuery(`process_hash:${MD5.toUpperCase()}`)).toEqual({ kind: 'term', field: 'process_hash', value: MD5 });
    expect(parseQuery(`process_hash:${SHA}`)).toEqual({ kind: 'term', field: 'process_hash', value: SHA });
    expect(parseQuery(`process_hash:"${SHA}"`)).toEqual({ kind: 'term', field: 'process_hash', value: SHA });
  });

  it('reads a field group as an OR of terms of that field', () => {
    expect(parseQuery(`process_hash:(${MD5} OR ${SHA})`)).toEqual({
      kind: 'or',
      children: [
        { kind: 'term', field: 'process_hash', value: MD5 },
        { kind: 'term', field: 'process_hash', value: SHA },
      ],
    });
    expect(parseQuery(`process_hash:( ${MD5} )`)).toEqual({ kind: 'term', field: 'process_hash', value: MD5 });
  });

  it('takes the full state name in any case, and process names as lower case', () => {
    expect(parseQuery('process_publisher_state:file_signature_state_signed')).toEqual({
      kind: 'term',
      field: 'process_publisher_state',
      value: 'FILE_SIGNATURE_STATE_SIGNED',
    });
    expect(parseQuery('process_name:SVCHOST.EXE')).toEqual({ kind: 'term', field: 'process_name', value: 'svchost.exe' });
  });

  it('unescapes backslashes in bare and quoted values, as Lucene does', () => {
    expect(parseQuery('process_name:c\\:\\\\windows\\\\notepad.exe')).toMatchObject({ value: 'c:\\windows\\notepad.exe' });
    expect(parseQuery('process_name:"c:\\\\program files\\\\app.exe"')).toMatchObject({ value: 'c:\\program files\\app.exe' });
    expect(parseQuery('process_name:"say \\"hi\\""')).toMatchObject({ value: 'say "hi"' });
    // An unescaped Windows path quietly loses its backslashes.
    expect(parseQuery('process_name:"c:\\windows\\notepad.exe"')).toMatchObject({ value: 'c:windowsnotepad.exe' });
    expect(parseQuery('process_name:\\/usr\\/bin\\/bash')).toMatchObject({ value: '/usr/bin/bash' });
    expect(parseQuery('process_name:"/usr/bin/bash"')).toMatchObject({ value: '/usr/bin/bash' });
    expect(parseQuery('process_name:setup-helper.exe')).toMatchObject({ value: 'setup-helper.exe' });
    expect(parseQuery('process_name:\\-dash')).toMatchObject({ value: '-dash' });
  });

  it('gives NOT precedence over AND, and AND over OR', () => {
    const a = 'process_name:a';
    const b = 'process_name:b';
    const c = 'process_name:c';
    expect(parseQuery(`${a} OR ${b} AND NOT ${c}`)).toEqual({
      kind: 'or',
      children: [
        { kind: 'term', field: 'process_name', value: 'a' },
        {
          kind: 'and',
          children: [
            { kind: 'term', field: 'process_name', value: 'b' },
            { kind: 'not', child: { kind: 'term', field: 'process_name', value: 'c' } },
          ],
        },
      ],
    });
    expect(parseQuery(`(${a} OR ${b}) AND ${c}`)).toMatchObject({ kind: 'and', children: [{ kind: 'or' }, { kind: 'term' }] });
    expect(parseQuery(`NOT NOT ${a}`)).toMatchObject({ kind: 'not', child: { kind: 'not' } });
  });

  it('allows operators inside a field group', () => {
    expect(parseQuery(`process_hash:(${MD5} AND NOT ${SHA})`)).toMatchObject({ kind: 'and', children: [{}, { kind: 'not' }] });
  });

  it('lists the distinct hashes of a query, negated ones included', () => {
    expect(queryHashes(parseQuery(`process_hash:(${MD5} OR ${MD5.toUpperCase()}) OR NOT process_hash:${SHA} OR process_name:x`))).toEqual([
      MD5,
      SHA,
    ]);
    expect(queryHashes(parseQuery('process_name:x'))).toEqual([]);
  });
});

describe('Cloud query parser: refused forms', () => {
  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    [`process_hash:${MD5} process_name:x`, 'expected AND or OR'],
    [`process_hash:${MD5} and process_name:x`, 'expected AND or OR'],
    ['and', 'operators must be upper case'],
    ['svchost.exe', 'bare word'],
    ['"quoted"', 'needs a field'],
    ['md5:55f47e93386c709eb573ae42938eaf63', 'unknown or unsupported field "md5"'],
    ['process_publisher:"Microsoft Windows"', 'unknown or unsupported field'],
    ['process_hash:abc', 'md5 (32 hex digits) or a sha256'],
    [`process_hash:${MD5}0`, 'md5 (32 hex digits) or a sha256'],
    ['process_hash:zz5f47e93386c709eb573ae42938eaf63', 'md5 (32 hex digits) or a sha256'],
    ['process_publisher_state:SIGNED', 'takes one of FILE_SIGNATURE_STATE_INVALID'],
    ['process_publisher_state:FILE_SIGNATURE_STATE_BOGUS', 'takes one of'],
    ['process_name:chrome*', 'wildcards'],
    ['process_name:chr?me.exe', 'wildcards'],
    ['process_name:c:\\windows', 'unescaped ":"'],
    ['process_name:/usr/bin/bash', 'unescaped "/"'],
    ['process_name:[a TO b]', 'unescaped "["'],
    ['process_name:chrome~2', 'unescaped "~"'],
    ['process_name:chrome^2', 'unescaped "^"'],
    ['process_name:a&&b', 'unescaped "&&"'],
    ['process_name:-chrome', 'unescaped "-"'],
    ['-process_name:chrome', '"-" prefixes are not supported'],
    ['+process_name:chrome', '"+" prefixes are not supported'],
    ['!process_name:chrome', '"!" prefixes are not supported'],
    ['process_name:', 'has no value'],
    ['process_name: chrome.exe', 'has no value'],
    ['process_name:""', 'empty value'],
    ['process_name:"unterminated', 'unterminated'],
    ['process_name:x\\', 'escapes nothing'],
    ['process_name:"x\\', 'escapes nothing'],
    ['(process_name:x', 'missing ")"'],
    ['process_name:x)', 'unbalanced ")"'],
    ['()', '")" where a term was expected'],
    ['process_name:x OR', 'ends where a term was expected'],
    ['AND process_name:x', 'AND where a term was expected'],
    ['NOT', 'ends where a term was expected'],
    [`process_hash:(${MD5} OR process_name:x)`, 'a field inside the process_hash:(...) group'],
    [`process_hash:(${MD5}`, 'missing ")"'],
    ['process_name:"a"b', 'expected AND or OR'],
  ])('%j: %s', (query, message) => {
    expect(syntaxError(query).message).toContain(message);
  });

  it('says where the problem is', () => {
    expect(syntaxError('process_name:a AND md5:x').position).toBe(19);
    expect(syntaxError('process_name:a AND md5:x').message).toContain('(at offset 19)');
  });

  it('refuses nesting deeper than MAX_QUERY_DEPTH instead of overflowing the stack', () => {
    const deep = `${'('.repeat(MAX_QUERY_DEPTH + 1)}process_name:x${')'.repeat(MAX_QUERY_DEPTH + 1)}`;
    expect(syntaxError(deep).message).toContain('nests deeper');
    expect(syntaxError(`${'NOT '.repeat(100_000)}process_name:x`).message).toContain('nests deeper');
    const fine = `${'('.repeat(MAX_QUERY_DEPTH - 1)}process_name:x${')'.repeat(MAX_QUERY_DEPTH - 1)}`;
    expect(parseQuery(fine)).toMatchObject({ kind: 'term' });
  });

  it('parses a 1,000-hash OR group', () => {
    const hashes = Array.from({ length: 1000 }, (_, i) => i.toString(16).padStart(32, '0'));
    const node = parseQuery(`process_hash:(${hashes.join(' OR ')})`);
    expect(node).toMatchObject({ kind: 'or' });
    expect(queryHashes(node)).toHaveLength(1000);
  });
});

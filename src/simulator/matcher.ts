import { binaryFieldValue } from './binary-record.js';
import { BINARY_FIELDS, FIELDS, type BinaryFieldName, type FieldSpec } from './fields.js';
import type { QueryNode, TermNode } from './query-parser.js';
import type { BinaryEntry, BinarySigning, ProcessRowKey, SearchRecord } from './records.js';
import { containsRun, textTokens, wildcardMatcher, wildcardQueryTokens } from './text-analysis.js';

/**
 * Compiles a parsed query into a predicate, once per request, so regexes and
 * query tokens are not rebuilt for every candidate: over process records
 * (compileQuery, the process search) or over binaries (compileBinaryQuery,
 * the binary search). Matching rules per field kind are described in
 * fields.ts; both searches share them.
 */
export type RecordPredicate = (record: SearchRecord) => boolean;
export type BinaryPredicate = (binary: BinaryEntry) => boolean;

type Value = string | number | boolean | undefined;
type ValuePredicate = (value: Value) => boolean;

export function compileQuery(node: QueryNode): RecordPredicate {
  return compileTree(node, compileTerm);
}

export function compileBinaryQuery(node: QueryNode): BinaryPredicate {
  return compileTree(node, compileBinaryTerm);
}

function compileTree<R>(node: QueryNode, term: (node: TermNode) => (record: R) => boolean): (record: R) => boolean {
  switch (node.type) {
    case 'term':
      return term(node);
    case 'not': {
      const child = compileTree(node.child, term);
      return (record) => !child(record);
    }
    case 'and': {
      const children = node.children.map((c) => compileTree(c, term));
      return (record) => children.every((child) => child(record));
    }
    case 'or': {
      const children = node.children.map((c) => compileTree(c, term));
      return (record) => children.some((child) => child(record));
    }
  }
}

/** True when the query reads any field of the binary behind process_md5 (a join, in a process search). */
export function usesBinaryJoin(node: QueryNode): boolean {
  switch (node.type) {
    case 'term': {
      const spec: FieldSpec | undefined = (FIELDS as Record<string, FieldSpec>)[node.field];
      return spec?.source === 'binary';
    }
    case 'not':
      return usesBinaryJoin(node.child);
    default:
      return node.children.some(usesBinaryJoin);
  }
}

const SIGNING_KEYS: Partial<Record<string, keyof BinarySigning>> = {
  digsig_publisher: 'publisher',
  digsig_issuer: 'issuer',
  digsig_subject: 'subject',
  digsig_prog_name: 'progName',
  digsig_result: 'result',
  digsig_sign_time: 'signTime',
};

function compileTerm(term: TermNode): RecordPredicate {
  const spec: FieldSpec | undefined = (FIELDS as Record<string, FieldSpec>)[term.field];
  if (spec === undefined) throw new Error(`"${term.field}" is not a process-search field`);
  const test = compileValue(spec, term);
  if (spec.source === 'binary') {
    // The join: a binary field is read from the binary behind this row's process_md5.
    const key = SIGNING_KEYS[term.field] as keyof BinarySigning;
    return (record) => test(record.signing[key]);
  }
  const rowKey = spec.rowKey as ProcessRowKey;
  return (record) => test(record.processField(rowKey));
}

function compileBinaryTerm(term: TermNode): BinaryPredicate {
  const spec: FieldSpec | undefined = (BINARY_FIELDS as Record<string, FieldSpec>)[term.field];
  if (spec === undefined) throw new Error(`"${term.field}" is not a binary-search field`);
  const test = compileValue(spec, term);
  const field = term.field as BinaryFieldName;
  return (binary) => test(binaryFieldValue(binary, field));
}

function hasValue(value: Value): boolean {
  return value !== undefined && value !== '';
}

function compileValue(spec: FieldSpec, term: TermNode): ValuePredicate {
  // A lone `*` asks whether the field has a value at all.
  if (term.wildcard && term.value === '*') {
    return spec.kind === 'text' ? (value) => typeof value === 'string' && textTokens(value).length > 0 : hasValue;
  }
  switch (spec.kind) {
    case 'hash':
    case 'keyword':
    case 'result': {
      const normalize = spec.kind === 'result' ? normalizeResult : (s: string) => s.toLowerCase();
      if (term.wildcard) {
        const matches = wildcardMatcher(normalize(term.value));
        return (value) => typeof value === 'string' && matches(normalize(value));
      }
      const wanted = normalize(term.value);
      return (value) => typeof value === 'string' && normalize(value) === wanted;
    }
    case 'text': {
      const needle = term.phrase
        ? textTokens(term.value).map(equals)
        : term.wildcard
          ? wildcardQueryTokens(term.value).map((t) => (t.includes('*') ? wildcardMatcher(t) : equals(t)))
          : textTokens(term.value).map(equals);
      return (value) => typeof value === 'string' && containsRun(textTokens(value), needle);
    }
    case 'number': {
      if (!/^-?\d+$/u.test(term.value)) return () => false;
      const wanted = Number(term.value);
      return (value) => typeof value === 'number' && value === wanted;
    }
    case 'date': {
      if (term.wildcard) {
        const matches = wildcardMatcher(term.value);
        return (value) => typeof value === 'string' && matches(value);
      }
      const prefix = term.value.toLowerCase();
      return (value) => typeof value === 'string' && value.toLowerCase().startsWith(prefix);
    }
  }
}

function equals(wanted: string): (token: string) => boolean {
  return (token) => token === wanted;
}

function normalizeResult(s: string): string {
  return s.trim().replace(/\s+/gu, ' ').toLowerCase();
}

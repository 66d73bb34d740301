import { isPublisherState, PUBLISHER_STATES, type PublisherState } from './states.js';

/**
 * The Cloud simulator's own parser for the subset of the Carbon Black Cloud
 * (Lucene-style) query language it answers. It is deliberately strict, so a
 * client that builds a query a real server might read differently gets a 400
 * here rather than a silent surprise there.
 *
 *   query     := or
 *   or        := and ("OR" and)*
 *   and       := unary ("AND" unary)*
 *   unary     := "NOT" unary | primary
 *   primary   := "(" or ")" | field ":" value | field ":" "(" group ")"
 *   group     := the same grammar, with bare or quoted values for terms
 *   field     := process_hash | process_name | process_publisher_state
 *   value     := bare | "quoted"
 *
 * - Operators are AND, OR, NOT in upper case (Lucene's rule; `and` is a bare
 *   word, which is an error). NOT binds tighter than AND, AND tighter than OR.
 *   There is no implicit operator: two terms side by side are an error, so
 *   the query never depends on a default operator.
 * - A bare value runs to whitespace, a parenthesis or a quote. A backslash
 *   escapes the next character (`c\:\\windows\\notepad.exe` is
 *   c:\windows\notepad.exe); an unescaped `:` in a value is an error. Inside
 *   quotes, a backslash escapes the next character too (`"c:\\windows"`).
 *   As in Lucene, `\w` is just `w`: an unescaped Windows path quietly loses
 *   its backslashes and then matches nothing.
 * - Wildcards (`*`, `?`), `+`/`-` prefixes, ranges, fuzzy and boost
 *   operators, and fields other than the three are not in the subset: 400.
 * - process_hash values are 32 (md5) or 64 (sha256) hex digits, any case.
 *   process_publisher_state values are the full FILE_SIGNATURE_STATE_* names,
 *   any case (`SIGNED` alone is an error, not an empty match).
 *   process_name values are compared with the row's full path or its file
 *   name, ignoring case.
 */

export const QUERY_FIELDS = ['process_hash', 'process_name', 'process_publisher_state'] as const;
export type QueryField = (typeof QUERY_FIELDS)[number];

export type QueryNode =
  | { kind: 'term'; field: 'process_hash'; value: string }
  | { kind: 'term'; field: 'process_name'; value: string }
  | { kind: 'term'; field: 'process_publisher_state'; value: PublisherState }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode };

export type TermNode = Extract<QueryNode, { kind: 'term' }>;

export class QuerySyntaxError extends Error {
  override name = 'QuerySyntaxError';
  constructor(
    message: string,
    /** Offset in the query where the problem was seen. */
    readonly position: number,
  ) {
    super(`${message} (at offset ${position})`);
  }
}

/** Deeper nesting than this is refused rather than risking the stack. */
export const MAX_QUERY_DEPTH = 64;

type Token =
  | { type: 'open'; start: number; end: number }
  | { type: 'close'; start: number; end: number }
  | { type: 'quoted'; value: string; start: number; end: number }
  /** `value` is unescaped; `marks` are its unescaped special characters, with their offsets in `value`. */
  | { type: 'word'; raw: string; value: string; marks: Mark[]; start: number; end: number };

interface Mark {
  char: string;
  at: number;
}

// Lucene gives these a meaning of their own (wildcards, ranges, boosts, fuzziness, regular expressions): unescaped, they are errors.
const SPECIAL = new Set([':', '*', '?', '{', '}', '[', ']', '^', '~', '/']);
// Operators at the start of a value only (`setup-helper.exe` is one term, `-setup` is not).
const PREFIX = new Set(['+', '-', '!']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/u.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')') {
      tokens.push(c === '(' ? { type: 'open', start: i, end: i + 1 } : { type: 'close', start: i, end: i + 1 });
      i += 1;
    } else if (c === '"') {
      const start = i;
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw new QuerySyntaxError('unterminated quoted value', start);
        const q = text[i] as string;
        if (q === '\\') {
          if (i + 1 >= text.length) throw new QuerySyntaxError('a backslash at the end of the query escapes nothing', i);
          value += text[i + 1];
          i += 2;
        } else if (q === '"') {
          i += 1;
          break;
        } else {
          value += q;
          i += 1;
        }
      }
      tokens.push({ type: 'quoted', value, start, end: i });
    } else {
      const start = i;
      let value = '';
      const marks: Mark[] = [];
      while (i < text.length) {
        const w = text[i] as string;
        if (/\s/u.test(w) || w === '(' || w === ')' || w === '"') break;
        if (w === '\\') {
          if (i + 1 >= text.length) throw new QuerySyntaxError('a backslash at the end of the query escapes nothing', i);
          value += text[i + 1];
          i += 2;
          continue;
        }
        const pair = text.slice(i, i + 2);
        if (SPECIAL.has(w) || PREFIX.has(w)) marks.push({ char: w, at: value.length });
        else if (pair === '&&' || pair === '||') marks.push({ char: pair, at: value.length });
        value += w;
        i += 1;
      }
      tokens.push({ type: 'word', raw: text.slice(start, i), value, marks, start, end: i });
    }
  }
  return tokens;
}

const OPERATORS = new Set(['AND', 'OR', 'NOT']);
const isOperator = (token: Token | undefined, name: string): boolean => token?.type === 'word' && token.raw === name;

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  parse(): QueryNode {
    if (this.tokens.length === 0) throw new QuerySyntaxError('the query is empty', 0);
    const node = this.or(undefined);
    const extra = this.tokens[this.index];
    if (extra !== undefined) {
      throw new QuerySyntaxError(extra.type === 'close' ? 'unbalanced ")"' : 'expected AND or OR between terms', extra.start);
    }
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private offset(): number {
    return this.peek()?.start ?? this.length;
  }

  private or(field: QueryField | undefined): QueryNode {
    const children = [this.and(field)];
    while (isOperator(this.peek(), 'OR')) {
      this.index += 1;
      children.push(this.and(field));
    }
    return children.length === 1 ? (children[0] as QueryNode) : { kind: 'or', children };
  }

  private and(field: QueryField | undefined): QueryNode {
    const children = [this.unary(field)];
    for (;;) {
      const next = this.peek();
      if (isOperator(next, 'AND')) {
        this.index += 1;
        children.push(this.unary(field));
      } else if (next === undefined || next.type === 'close' || isOperator(next, 'OR')) {
        break;
      } else {
        throw new QuerySyntaxError('expected AND or OR between terms (the simulator has no implicit operator)', next.start);
      }
    }
    return children.length === 1 ? (children[0] as QueryNode) : { kind: 'and', children };
  }

  private unary(field: QueryField | undefined): QueryNode {
    if (isOperator(this.peek(), 'NOT')) {
      this.index += 1;
      return { kind: 'not', child: this.nested(() => this.unary(field)) };
    }
    return this.primary(field);
  }

  private nested<T>(inner: () => T): T {
    this.depth += 1;
    if (this.depth > MAX_QUERY_DEPTH) throw new QuerySyntaxError(`the query nests deeper than ${MAX_QUERY_DEPTH} levels`, this.offset());
    try {
      return inner();
    } finally {
      this.depth -= 1;
    }
  }

  private group(field: QueryField | undefined): QueryNode {
    const open = this.peek() as Token;
    this.index += 1;
    const node = this.nested(() => this.or(field));
    if (this.peek()?.type !== 'close') throw new QuerySyntaxError('missing ")"', open.start);
    this.index += 1;
    return node;
  }

  private primary(field: QueryField | undefined): QueryNode {
    const token = this.peek();
    if (token === undefined) throw new QuerySyntaxError('the query ends where a term was expected', this.length);
    if (token.type === 'open') return this.group(field);
    if (token.type === 'close') throw new QuerySyntaxError('")" where a term was expected', token.start);
    if (token.type === 'word' && OPERATORS.has(token.raw))
      throw new QuerySyntaxError(`${token.raw} where a term was expected`, token.start);

    if (field !== undefined) {
      // Inside process_hash:( ... ): values only.
      this.index += 1;
      if (token.type === 'word' && token.marks.some((mark) => mark.char === ':')) {
        throw new QuerySyntaxError(`a field inside the ${field}:(...) group (escape the colon if it is part of the value)`, token.start);
      }
      return term(field, token);
    }

    if (token.type === 'quoted') throw new QuerySyntaxError('a quoted value needs a field (field:"value")', token.start);
    const colon = token.marks.find((mark) => mark.char === ':')?.at;
    if (colon === undefined) {
      const hint = /^(and|or|not)$/iu.test(token.value) ? ' (operators must be upper case: AND, OR, NOT)' : '';
      throw new QuerySyntaxError(`"${token.raw}" is a bare word: terms are field:value${hint}`, token.start);
    }
    const name = token.value.slice(0, colon);
    if (PREFIX.has(name[0] ?? '')) {
      throw new QuerySyntaxError(`"${name[0]}" prefixes are not supported: use NOT`, token.start);
    }
    if (!(QUERY_FIELDS as readonly string[]).includes(name)) {
      throw new QuerySyntaxError(`unknown or unsupported field "${name}": the simulator answers ${QUERY_FIELDS.join(', ')}`, token.start);
    }
    const queryField = name as QueryField;
    const rest = token.value.slice(colon + 1);
    this.index += 1;
    if (rest !== '') {
      const marks = token.marks.filter((mark) => mark.at > colon).map((mark) => ({ ...mark, at: mark.at - colon - 1 }));
      return term(queryField, { ...token, value: rest, marks });
    }
    // field: followed at once by a quoted value or a group; `field: value` (a space) has no value.
    const next = this.peek();
    if (next === undefined || next.start !== token.end || next.type === 'close' || next.type === 'word') {
      throw new QuerySyntaxError(`${name}: has no value`, token.end);
    }
    if (next.type === 'quoted') {
      this.index += 1;
      return term(queryField, next);
    }
    return this.group(queryField);
  }
}

const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/iu;

function term(field: QueryField, token: Extract<Token, { type: 'word' | 'quoted' }>): TermNode {
  if (token.type === 'word') {
    const mark = token.marks.find((m) => !PREFIX.has(m.char) || m.at === 0);
    if (mark !== undefined) {
      const what =
        mark.char === '*' || mark.char === '?'
          ? 'wildcards are not supported by the simulator'
          : PREFIX.has(mark.char)
            ? 'an operator in Lucene; escape it with a backslash or quote the value'
            : 'escape it with a backslash or quote the value';
      throw new QuerySyntaxError(`an unescaped "${mark.char}" in the value "${token.value}": ${what}`, token.start);
    }
  }
  const value = token.value;
  if (value === '') throw new QuerySyntaxError(`${field} has an empty value`, token.start);
  switch (field) {
    case 'process_hash':
      if (!HASH.test(value)) {
        throw new QuerySyntaxError(`process_hash takes an md5 (32 hex digits) or a sha256 (64 hex digits), not "${value}"`, token.start);
      }
      return { kind: 'term', field, value: value.toLowerCase() };
    case 'process_publisher_state': {
      const upper = value.toUpperCase();
      if (!isPublisherState(upper)) {
        throw new QuerySyntaxError(`process_publisher_state takes one of ${PUBLISHER_STATES.join(', ')}, not "${value}"`, token.start);
      }
      return { kind: 'term', field, value: upper };
    }
    case 'process_name':
      return { kind: 'term', field, value: value.toLowerCase() };
  }
}

/** Parses a query of the subset; throws QuerySyntaxError naming the problem and where it is. */
export function parseQuery(text: string): QueryNode {
  return new Parser(tokenize(text), text.length).parse();
}

/** Every term of a query, in order (negated ones included). */
export function queryTerms(node: QueryNode): TermNode[] {
  switch (node.kind) {
    case 'term':
      return [node];
    case 'not':
      return queryTerms(node.child);
    case 'and':
    case 'or':
      return node.children.flatMap(queryTerms);
  }
}

/** The distinct hash values a query names (what the stats call the job's hashes). */
export function queryHashes(node: QueryNode): string[] {
  return [...new Set(queryTerms(node).flatMap((t) => (t.field === 'process_hash' ? [t.value] : [])))];
}

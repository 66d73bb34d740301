import { FIELDS, isKnownField, type FieldName, type FieldTable } from './fields.js';

/**
 * Parser for the Carbon Black EDR search language (process and binary
 * searches share it; only the field table differs), as far as the
 * simulator needs it. Deliberately stricter than a forgiving parser: anything
 * a real server would reject (or that we cannot be sure it accepts) is a
 * QuerySyntaxError, answered as 400 {"reason":"query_syntax_error"}, so a
 * client that builds queries carelessly fails against the simulator first.
 *
 * Grammar (whitespace separates tokens; AND binds tighter than OR):
 *
 *   query   := or EOF
 *   or      := and (("OR" | "or") and)*
 *   and     := unary ((("AND" | "and"))? unary)*        -- juxtaposition is AND
 *   unary   := ("-" | "NOT" | "not") unary | primary     -- "-" must touch its operand
 *   primary := "(" or ")" | term
 *   term    := FIELD ":" (PHRASE | BARE)
 *
 * - FIELD is one of the names in the search's field table (fields.ts), lowercase;
 *   anything else is an error.
 * - PHRASE is `"..."`; inside it `\"` is a quote, `\\` a backslash, and any other
 *   backslash stays literal. `*`, `(`, `:`, `OR`, whitespace are plain text there.
 *   An empty phrase `""` is an error.
 * - BARE runs to the next unescaped whitespace or parenthesis. A backslash before
 *   whitespace or one of `()":\*-+!{}[]^~?/&|` makes that character literal; a
 *   backslash before anything else stays literal (`path:c:\windows\...`). An
 *   unescaped `*` is a wildcard; a leading one is an error except the lone `*`
 *   ("the field has a value"). An unescaped `"` inside a bare value is an error.
 * - Ranges (`[a TO b]`), field groups (`field:(a b)`), boosts and fuzziness are
 *   not supported and come out as syntax errors.
 *
 * The AST is kept minimal so tests can assert what a client sent:
 * - a lone term is a `term` node (parentheses never create nodes);
 * - `a b c` / `a AND b AND c` is ONE `and` node with three children (chains are
 *   flattened), but `(a b) c` is and[and[a, b], c]: groups stay as written;
 * - `-a` / `NOT a` is `{ type: 'not', child }`.
 */

export interface TermNode {
  type: 'term';
  field: FieldName;
  /** The value with escapes resolved (and, for a phrase, without the quotes). */
  value: string;
  /** True when the value was written as a quoted phrase. */
  phrase: boolean;
  /** True when a bare value holds an unescaped `*` (every `*` in `value` is then a wildcard). */
  wildcard: boolean;
}

export interface BooleanNode {
  type: 'and' | 'or';
  children: QueryNode[];
}

export interface NotNode {
  type: 'not';
  child: QueryNode;
}

export type QueryNode = TermNode | BooleanNode | NotNode;

export class QuerySyntaxError extends Error {
  override name = 'QuerySyntaxError';
  /** Zero-based offset in the query text where the problem was found. */
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} (at offset ${position})`);
    this.position = position;
  }
}

type Token =
  { kind: 'lparen' | 'rparen' | 'minus' | 'and' | 'or' | 'not' | 'eof'; pos: number } | { kind: 'term'; pos: number; term: TermNode };

const WHITESPACE = /\s/u;
// Characters a backslash makes literal in a bare value; other backslashes stay as typed.
const ESCAPABLE = new Set([...'()":\\*-+!{}[]^~?/&|']);
const FIELD_NAME = /^[a-z_][a-z0-9_.]*$/u;

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && WHITESPACE.test(ch);
}

function tokenize(q: string, fields: FieldTable): Token[] {
  const tokens: Token[] = [];
  let p = 0;
  while (p < q.length) {
    const ch = q[p];
    if (isSpace(ch)) {
      p += 1;
      continue;
    }
    if (ch === '(') {
      tokens.push({ kind: 'lparen', pos: p });
      p += 1;
      continue;
    }
    if (ch === ')') {
      tokens.push({ kind: 'rparen', pos: p });
      p += 1;
      continue;
    }
    if (ch === '-') {
      const next = q[p + 1];
      if (next === undefined || isSpace(next) || next === ')') {
        throw new QuerySyntaxError("'-' must be followed by the term or group it negates", p);
      }
      tokens.push({ kind: 'minus', pos: p });
      p += 1;
      continue;
    }
    if (ch === '"') {
      throw new QuerySyntaxError('a quoted value needs a field (field:"value")', p);
    }
    // A word: either a field name followed by ':' or an operator keyword.
    const start = p;
    while (p < q.length && !isSpace(q[p]) && !'()":'.includes(q[p] ?? '')) p += 1;
    const word = q.slice(start, p);
    if (q[p] === ':') {
      if (word === '') throw new QuerySyntaxError('missing field name before ":"', start);
      if (!FIELD_NAME.test(word) || !isKnownField(word, fields)) {
        throw new QuerySyntaxError(`unknown field "${word}"`, start);
      }
      const { term, end } = readValue(q, p + 1, word);
      tokens.push({ kind: 'term', pos: start, term });
      p = end;
      continue;
    }
    if (word === 'AND' || word === 'and') tokens.push({ kind: 'and', pos: start });
    else if (word === 'OR' || word === 'or') tokens.push({ kind: 'or', pos: start });
    else if (word === 'NOT' || word === 'not') tokens.push({ kind: 'not', pos: start });
    else if (word === '') throw new QuerySyntaxError(`unexpected "${q[p] ?? ''}"`, p);
    else throw new QuerySyntaxError(`"${word}" has no field (write field:value)`, start);
  }
  tokens.push({ kind: 'eof', pos: q.length });
  return tokens;
}

function readValue(q: string, from: number, field: FieldName): { term: TermNode; end: number } {
  if (q[from] === '"') return readPhrase(q, from, field);
  let p = from;
  let value = '';
  let wildcard = false;
  while (p < q.length) {
    const ch = q[p] as string;
    if (isSpace(ch) || ch === '(' || ch === ')') break;
    if (ch === '"') throw new QuerySyntaxError('unexpected quote inside a value (quote the whole value)', p);
    if (ch === '\\') {
      const next = q[p + 1];
      if (next !== undefined && (isSpace(next) || ESCAPABLE.has(next))) {
        value += next;
        p += 2;
        continue;
      }
      value += ch;
      p += 1;
      continue;
    }
    if (ch === '*') {
      if (value === '' && q[p + 1] !== undefined && !isSpace(q[p + 1]) && q[p + 1] !== ')') {
        throw new QuerySyntaxError('leading wildcards are not allowed', p);
      }
      wildcard = true;
    }
    value += ch;
    p += 1;
  }
  if (p === from) {
    const what = q[p] === '(' ? 'field groups (field:(a b)) are not supported' : `empty value for field "${field}"`;
    throw new QuerySyntaxError(what, from);
  }
  return { term: { type: 'term', field, value, phrase: false, wildcard }, end: p };
}

function readPhrase(q: string, from: number, field: FieldName): { term: TermNode; end: number } {
  let p = from + 1;
  let value = '';
  for (;;) {
    const ch = q[p];
    if (ch === undefined) throw new QuerySyntaxError('unterminated quoted value', from);
    if (ch === '"') break;
    if (ch === '\\' && (q[p + 1] === '"' || q[p + 1] === '\\')) {
      value += q[p + 1];
      p += 2;
      continue;
    }
    value += ch;
    p += 1;
  }
  p += 1; // the closing quote
  const after = q[p];
  if (after !== undefined && !isSpace(after) && after !== ')') {
    throw new QuerySyntaxError('a quoted value must end the term (no ~, ^ or text after the quote)', p);
  }
  if (value === '') throw new QuerySyntaxError(`empty value for field "${field}"`, from);
  return { term: { type: 'term', field, value, phrase: true, wildcard: false }, end: p };
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    // tokenize() always ends with an eof token, and we never move past it.
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.index += 1;
    return token;
  }

  parseQuery(): QueryNode {
    if (this.peek().kind === 'eof') throw new QuerySyntaxError('empty query', 0);
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== 'eof') {
      throw new QuerySyntaxError(rest.kind === 'rparen' ? 'unbalanced ")"' : `unexpected ${rest.kind}`, rest.pos);
    }
    return node;
  }

  private parseOr(): QueryNode {
    const children = [this.parseAnd()];
    while (this.peek().kind === 'or') {
      this.next();
      children.push(this.parseAnd());
    }
    return children.length === 1 ? (children[0] as QueryNode) : { type: 'or', children };
  }

  private parseAnd(): QueryNode {
    const children = [this.parseUnary()];
    for (;;) {
      const token = this.peek();
      if (token.kind === 'and') {
        this.next();
        children.push(this.parseUnary());
      } else if (token.kind === 'term' || token.kind === 'lparen' || token.kind === 'minus' || token.kind === 'not') {
        children.push(this.parseUnary());
      } else {
        break;
      }
    }
    return children.length === 1 ? (children[0] as QueryNode) : { type: 'and', children };
  }

  private parseUnary(): QueryNode {
    const token = this.peek();
    if (token.kind === 'minus' || token.kind === 'not') {
      this.next();
      return { type: 'not', child: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): QueryNode {
    const token = this.next();
    switch (token.kind) {
      case 'term':
        return token.term;
      case 'lparen': {
        if (this.peek().kind === 'rparen') throw new QuerySyntaxError('empty parentheses', token.pos);
        const inner = this.parseOr();
        const close = this.next();
        if (close.kind !== 'rparen') throw new QuerySyntaxError('unbalanced "("', token.pos);
        return inner;
      }
      case 'eof':
        throw new QuerySyntaxError('the query ends where a term was expected (dangling operator?)', token.pos);
      case 'rparen':
        throw new QuerySyntaxError('unexpected ")" where a term was expected', token.pos);
      default:
        throw new QuerySyntaxError(`operator ${token.kind.toUpperCase()} where a term was expected`, token.pos);
    }
  }
}

/**
 * Parse a query over `fields` (the process search's by default; BINARY_FIELDS
 * for a binary search). Throws QuerySyntaxError on anything the grammar above
 * does not allow.
 */
export function parseQuery(q: string, fields: FieldTable = FIELDS): QueryNode {
  return new Parser(tokenize(q, fields)).parseQuery();
}

/** The term leaves of a query, left to right. */
export function queryTerms(node: QueryNode): TermNode[] {
  switch (node.type) {
    case 'term':
      return [node];
    case 'not':
      return queryTerms(node.child);
    default:
      return node.children.flatMap(queryTerms);
  }
}

/** A term written back as query text, the way the response's `terms` list shows it. */
export function formatTerm(term: TermNode): string {
  if (!term.phrase) return `${term.field}:${term.value}`;
  return `${term.field}:"${term.value.replace(/["\\]/gu, (c) => `\\${c}`)}"`;
}

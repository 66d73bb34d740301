import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';
import type { RawExchange } from './support/raw-http.js';
import { rawRequest } from './support/raw-http.js';

/*
 * A few thousand random and mutated requests at the running app, wired to a
 * real simulator that fails now and then: through inject() for volume,
 * through fetch over a real socket, and as raw bytes for HTTP no client
 * would send. Whatever arrives:
 *   - nothing answers 500, and the only 5xx are the upstream ones (502/503/504);
 *   - every error the app answers is problem+json with the RFC 9457 members
 *     and a `type` matching its `code` (HEAD answers carry the headers only);
 *   - malformed HTTP that Node's parser refuses before the app sees a request
 *     is answered as a problem too (plugins/client-errors.ts), without an
 *     `instance`, since no request was parsed; the exceptions are exact: Node's
 *     own empty 400 for an HTTP/1.1 request without Host, and the
 *     known router gap (FST_ERR_BAD_URL 400 / FST_ERR_MAX_PARAM_LENGTH 414
 *     answered by Fastify itself; see the `it.fails` cases at the end);
 *   - a raw request may get no answer at all only when the server is still
 *     waiting for bytes the request promised (Content-Length longer than the
 *     body, an unfinished chunk) or for CONNECT, whose socket Node drops when
 *     no 'connect' listener exists; these are counted, and the app must
 *     still answer afterwards;
 *   - afterwards the app still answers, no promise was left rejected and
 *     unhandled, no upstream slot is held, and the heap is back near where it was.
 *
 * The cases come from a seeded PRNG, all generated before any is sent, so a
 * failure reproduces with FUZZ_SEED=<seed printed in the failure>.
 */

const SEED = Number.parseInt(process.env.FUZZ_SEED ?? '', 10) || 0x5167_2026;
const INJECT_CASES = 2500;
const FETCH_CASES = 300;
const RAW_CASES = 200;
const HEAP_GROWTH_LIMIT = 30 * 1024 * 1024;

const READER_KEY = 'reader-0123456789abcdef0123456789';
const ADMIN_KEY = 'ops-FEDCBA9876543210fedcba98765432';

// ---------------------------------------------------------------- randomness

/** mulberry32: small, fast, and the same sequence on every machine for a seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  weighted<T>(entries: ReadonlyArray<readonly [number, () => T]>): T {
    const total = entries.reduce((sum, [weight]) => sum + weight, 0);
    let draw = this.next() * total;
    for (const [weight, make] of entries) {
      draw -= weight;
      if (draw < 0) return make();
    }
    return entries[entries.length - 1]![1]();
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  hex(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += '0123456789abcdef'[this.int(16)];
    return out;
  }
  /** Characters a header value can carry on the wire: tab, visible ASCII, space, Latin-1. */
  wire(maxLength: number): string {
    let out = '';
    const length = this.int(maxLength + 1);
    for (let i = 0; i < length; i++) {
      const r = this.int(10);
      out += String.fromCharCode(r === 0 ? 0x09 : r < 8 ? this.range(0x20, 0x7e) : this.range(0xa0, 0xff));
    }
    return out.trim();
  }
  /** Any UTF-16 units, control characters and lone surrogates included. */
  units(maxLength: number): string {
    let out = '';
    const length = this.int(maxLength + 1);
    for (let i = 0; i < length; i++) out += String.fromCharCode(this.chance(0.7) ? this.range(0, 0x7f) : this.int(0x10000));
    return out;
  }
}

// ---------------------------------------------------------------- generators

const hostileNames = [
  'git',
  'Google Chrome',
  'powershell.exe',
  'git" OR digsig_result:Signed OR "',
  'x) OR (digsig_result:Signed',
  '\\',
  'a\\',
  '"',
  'OR',
  'NOT',
  '-git',
  '*',
  '?',
  'digsig_result:Signed',
  ' ',
  'é',
  '名前',
  '🙂',
  '👩‍💻',
  '\u2028',
  '\ufeff',
  '\ufffd',
  '%',
  '&',
  '=',
  '#',
  '+',
  'a'.repeat(260),
  'a'.repeat(261),
];

interface RequestCase {
  index: number;
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface RawCase {
  index: number;
  method: string;
  data: Buffer;
  head: boolean;
  expect: number;
  summary: string;
}

function makeGenerators(rng: Rng) {
  const md5 = (): string =>
    rng.weighted<string>([
      [6, () => rng.hex(32)],
      [2, () => rng.pick([samples.signed.md5, samples.unsigned.md5, samples.nameDiffers.md5])],
      [1, () => rng.hex(32).toUpperCase()],
      [
        2,
        () =>
          rng.pick([
            '',
            'x',
            '0'.repeat(30),
            '0'.repeat(31),
            '0'.repeat(33),
            'g'.repeat(32),
            '%00',
            '..',
            '%2e%2e',
            'batch',
            'BATCH',
            `${rng.hex(32)}%00`,
            `${rng.hex(32)}%2F..`,
            ' '.repeat(32),
          ]),
      ],
      [1, () => rng.pick(['a', '0', 'F']).repeat(rng.range(33, 3000))],
    ]);

  const nameValue = (): string =>
    rng.weighted<string>([
      [5, () => encodeURIComponent(rng.pick(hostileNames))],
      [2, () => rng.pick(hostileNames).replace(/[#&%+ ]/g, '')],
      [2, () => rng.pick(['%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%00', '%0A', '%FF', '%7F', '%2B', '+', '%20', ''])],
      [1, () => 'a'.repeat(rng.range(250, 5000))],
      [2, () => encodeURIComponent(rng.wire(40))],
    ]);

  const queryString = (): string => {
    if (rng.chance(0.45)) return `?name=${encodeURIComponent(rng.pick(hostileNames))}`;
    if (rng.chance(0.1)) return '';
    const keys = [
      'name',
      'name',
      'name',
      'name',
      'name[]',
      'name[0]',
      'Name',
      'NAME',
      'rows',
      'q',
      '__proto__',
      'constructor',
      'constructor[prototype][polluted]',
      '__proto__[polluted]',
      '',
      'name.x',
      'a'.repeat(300),
    ];
    const count = rng.weighted<number>([
      [6, () => 1],
      [2, () => 2],
      [1, () => 0],
      [1, () => rng.range(3, 6)],
    ]);
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      const key = rng.pick(keys);
      parts.push(rng.chance(0.9) ? `${key}=${nameValue()}` : key);
    }
    return `${rng.pick(['?', '?', '?', '?', '??', '?&'])}${parts.join(rng.pick(['&', '&', '&', '&&', ';']))}`;
  };

  const basePath = (method: string): string => {
    const signature = () => `/v1/signatures/${md5()}`;
    const others = () =>
      rng.pick([
        '/v1/cache',
        '/healthz',
        '/readyz',
        '/openapi.json',
        '/docs',
        '/docs/',
        '/docs/json',
        '/docs/static/index.html',
        '/docs/static/swagger-ui.css',
        '/',
        '/v1',
        '/v1/signatures',
        '/v1/signatures/',
        '/metrics',
        '/v2/everything',
      ]);
    switch (method) {
      case 'POST':
        return rng.weighted<string>([
          [6, () => '/v1/signatures/batch'],
          [2, signature],
          [1, others],
        ]);
      case 'DELETE':
        return rng.weighted<string>([
          [5, () => `/v1/cache/${md5()}`],
          [1, () => '/v1/cache'],
          [1, signature],
          [1, others],
        ]);
      default:
        return rng.weighted<string>([
          [6, signature],
          [1, () => '/v1/signatures/batch'],
          [1, () => `/v1/cache/${md5()}`],
          [2, others],
        ]);
    }
  };

  const mutatePath = (path: string): string =>
    rng.weighted<string>([
      [14, () => path],
      [
        3,
        () =>
          path +
          rng.pick([
            '/',
            '/..',
            '/../..',
            '/%2e%2e',
            '/%2e%2e%2f',
            '%2F',
            '%2f..%2f',
            '%00',
            '/%00',
            '//',
            '/.',
            ';',
            ';a=b',
            '%',
            '%zz',
            '%E0%A4%A',
            '%C0%AF',
            '%ED%A0%80',
            '/%C3%A9',
            '%5C',
            '/%F0%9F%99%82',
            '/é',
            '/名前',
            '/🙂',
            '/\u202e',
          ]),
      ],
      [1, () => rng.pick(['/', '//', '/./', '/../', '/%2e%2e/', '/v1/../', '/V1/']) + path.slice(1)],
      [1, () => path.toUpperCase()],
      [1, () => `${path}/${'a'.repeat(rng.range(1000, 20_000))}`],
      [
        1,
        () => {
          const at = rng.int(path.length + 1);
          return path.slice(0, at) + encodeURIComponent(rng.wire(20)) + path.slice(at);
        },
      ],
    ]);

  const validBatch = (maxItems: number): unknown => ({
    items: Array.from({ length: rng.range(1, maxItems) }, () => ({
      md5: rng.chance(0.9) ? rng.hex(32) : md5(),
      name: rng.chance(0.8) ? rng.pick(hostileNames) : rng.units(30),
    })),
  });

  const mutate = (text: string): string => {
    let out = text;
    const alphabet = '{}[]":,\\ 0123456789abcdefxyzé\u0000\ud800';
    for (let n = rng.range(1, 6); n > 0; n--) {
      const at = rng.int(out.length + 1);
      out = rng.weighted<string>([
        [1, () => out.slice(0, at) + out.slice(at + 1)],
        [1, () => out.slice(0, at) + rng.pick([...alphabet]) + out.slice(at)],
        [1, () => out.slice(0, at) + rng.pick([...alphabet]) + out.slice(at + 1)],
        [1, () => out.slice(0, at) + out.slice(at, at + rng.range(1, 30)).repeat(rng.range(2, 5)) + out.slice(at)],
      ]);
    }
    return out;
  };

  const body = (): Buffer =>
    rng.weighted<Buffer>([
      [4, () => Buffer.from(JSON.stringify(validBatch(12)))],
      [4, () => Buffer.from(mutate(JSON.stringify(validBatch(5))))],
      [1, () => rng.bytes(rng.int(2000))],
      [
        1,
        () => {
          const depth = rng.range(1000, 200_000);
          return Buffer.from(
            rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : `{"items":${'['.repeat(depth)}${']'.repeat(depth)}}`,
          );
        },
      ],
      [
        0.5,
        () => {
          const depth = rng.range(1000, 50_000);
          return Buffer.from(`${'{"a":'.repeat(depth)}{"__proto__":{"polluted":true}}${'}'.repeat(depth)}`);
        },
      ],
      [
        1,
        () =>
          Buffer.from(
            rng.pick([
              `{"items":[{"md5":1e999999,"name":-1e-999999}]}`,
              `{"items":[{"md5":${'9'.repeat(5000)},"name":"git"}]}`,
              `{"items":${'1'.repeat(10_000)}}`,
              `{"items":[{"md5":"${rng.hex(32)}","name":123456789012345678901234567890}]}`,
              `{"items":[{"md5":null,"name":null}]}`,
              `{"items":{"length":1000000000}}`,
            ]),
          ),
      ],
      [
        1.5,
        () =>
          Buffer.from(
            rng.pick([
              `{"items":[{"md5":"${rng.hex(32)}","name":"git"}],"__proto__":{"polluted":true}}`,
              `{"__proto__":{"items":[]}}`,
              `{"items":[{"md5":"${rng.hex(32)}","name":"git","__proto__":{"admin":true}}]}`,
              `{"constructor":{"prototype":{"polluted":true}},"items":[]}`,
              `{"items":[{"md5":"${rng.hex(32)}","name":"git","constructor":{"prototype":{"x":1}}}]}`,
              `{"items":[{"md5":"${rng.hex(32)}","name":"toString"},{"md5":"${rng.hex(32)}","name":"__proto__"},{"md5":"${rng.hex(32)}","name":"hasOwnProperty"}]}`,
            ]),
          ),
      ],
      [
        1,
        () =>
          Buffer.concat([
            Buffer.from(`{"items":[{"md5":"${rng.hex(32)}","name":"`),
            Buffer.from(rng.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]])),
            Buffer.from('"}]}'),
          ]),
      ],
      [
        0.5,
        () =>
          Buffer.from(
            `{"items":[{"md5":"${rng.hex(32)}","name":"${rng.pick(['\\ud800', '\\udfff\\ud800', 'a\\u0000b', '\\u001b[31m', '\\u2028'])}"}]}`,
          ),
      ],
      [0.5, () => Buffer.from(rng.pick(['', ' ', 'null', 'true', '1', '"x"', '[]', '{}', '{"items":[]}', '{"items":null}']))],
      [0.3, () => Buffer.from(JSON.stringify({ items: Array.from({ length: 1001 }, () => ({ md5: samples.signed.md5, name: 'git' })) }))],
      [0.05, () => Buffer.from(JSON.stringify({ items: [{ md5: rng.hex(32), name: 'x'.repeat(1_100_000) }] }))],
    ]);

  const contentType = (): string | undefined =>
    rng.weighted<string | undefined>([
      [10, () => 'application/json'],
      [1, () => undefined],
      [
        4,
        () =>
          rng.pick([
            'application/json; charset=utf-8',
            'APPLICATION/JSON',
            'application/json; charset=utf-16',
            'application/json;;;',
            'application/problem+json',
            'application/merge-patch+json',
            'text/plain',
            'text/json',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/octet-stream',
            '*/*',
            'application/json; charset="',
            'application/jsonx',
            ' application/json',
            'application/json, text/plain',
          ]),
      ],
      [1, () => rng.wire(60)],
    ]);

  const authorization = (): string | undefined =>
    rng.weighted<string | undefined>([
      [12, () => `Bearer ${READER_KEY}`],
      [4, () => `Bearer ${ADMIN_KEY}`],
      [1, () => undefined],
      [
        3,
        () =>
          rng.pick([
            'Bearer',
            'Bearer ',
            'bearer ' + READER_KEY,
            'BEARER  ' + ADMIN_KEY,
            `Basic ${Buffer.from(`a:${READER_KEY}`).toString('base64')}`,
            `Bearer ${READER_KEY}x`,
            `Bearer ${READER_KEY} ${READER_KEY}`,
            `Bearer "${READER_KEY}"`,
            `Bearer ${'A'.repeat(8000)}`,
            'Bearer é',
            'Token x',
            ',',
            'Bearer\t' + READER_KEY,
          ]),
      ],
      [1, () => `Bearer ${rng.wire(80)}`],
      [1, () => rng.wire(120)],
    ]);

  const headers = (withBody: boolean, allowFraming: boolean): Record<string, string> => {
    const out: Record<string, string> = {};
    const auth = authorization();
    if (auth !== undefined) out.authorization = auth;
    if (withBody || rng.chance(0.05)) {
      const type = contentType();
      if (type !== undefined) out['content-type'] = type;
    }
    if (rng.chance(0.15))
      out['cache-control'] = rng.pick([
        'no-cache',
        'max-age=0',
        'no-store',
        ' , ,no-cache',
        'max-age = 0 , x',
        `${', '.repeat(2000)}no-cache`,
        rng.wire(40),
      ]);
    if (rng.chance(0.1)) out.accept = rng.pick(['application/json', 'application/problem+json', 'text/html', '*/*', '', rng.wire(40)]);
    if (rng.chance(0.1)) out['x-request-id'] = rng.chance(0.8) ? rng.wire(60) : 'r'.repeat(rng.range(1000, 8000));
    if (rng.chance(0.05)) out['x-forwarded-for'] = rng.wire(40);
    if (rng.chance(0.05)) out[`x-${rng.hex(6)}`] = rng.chance(0.7) ? rng.wire(100) : 'h'.repeat(rng.range(10_000, 40_000));
    if (allowFraming && withBody && rng.chance(0.08))
      out['content-length'] = rng.pick(['0', '1', '-1', 'abc', '99999999', String(rng.int(5000))]);
    return out;
  };

  const injectMethods = [
    'GET',
    'POST',
    'PUT',
    'DELETE',
    'PATCH',
    'OPTIONS',
    'HEAD',
    'TRACE',
    'PROPFIND',
    'SEARCH',
    'QUERY',
    'PURGE',
  ] as const;
  const method = (choices: readonly string[]): string =>
    rng.weighted<string>([
      [8, () => 'GET'],
      [6, () => 'POST'],
      [3, () => 'DELETE'],
      [3, () => rng.pick(choices)],
    ]);

  const requestCase = (index: number, choices: readonly string[], allowFraming: boolean): RequestCase => {
    const m = method(choices);
    const path = mutatePath(basePath(m));
    const url = path + queryString();
    const bodyLikely = m === 'POST' || m === 'PUT' || m === 'PATCH' || m === 'DELETE' || m === 'QUERY';
    const withBody = bodyLikely ? rng.chance(0.85) : rng.chance(0.1);
    const h = headers(withBody, allowFraming);
    return { index, method: m, url, headers: h, ...(withBody && { body: body() }) };
  };

  const rawCase = (index: number): RawCase => {
    const eol = rng.chance(0.05) ? '\n' : '\r\n';
    const m = rng.weighted<string>([
      [6, () => 'GET'],
      [5, () => 'POST'],
      [2, () => rng.pick(['HEAD', 'DELETE', 'OPTIONS', 'PUT'])],
      [2, () => rng.pick(['FOO', 'get', 'G T', 'CONNECT', 'TRACE', 'PRI', 'M'.repeat(100), 'GET\u0000'])],
    ]);
    const target = rng.weighted<string>([
      [8, () => mutatePath(basePath(m)) + queryString()],
      [
        1,
        () =>
          rng.pick([
            '*',
            'http://127.0.0.1/healthz',
            'http://evil.example/v1/cache',
            '',
            '/hea lthz',
            '/he\u0000althz',
            '/\u00e9\u00ff',
            `/v1/signatures/${rng.hex(32)}?name=\u00ff\u00fe`,
            '/\r',
          ]),
      ],
      [1, () => `/${'a'.repeat(rng.range(16_000, 70_000))}`],
    ]);
    const version = rng.weighted<string>([
      [12, () => 'HTTP/1.1'],
      [2, () => 'HTTP/1.0'],
      [1, () => rng.pick(['HTTP/2.0', 'HTTP/9.9', 'HTTX/1.1', 'HTTP/1.1 extra', '', 'http/1.1', 'HTTP/1'])],
    ]);
    const lines: string[] = [`${m} ${target} ${version}`.trimEnd()];
    if (rng.chance(0.92)) lines.push('Host: 127.0.0.1');
    if (rng.chance(0.6)) lines.push('Connection: close');
    const auth = authorization();
    if (auth !== undefined) lines.push(`Authorization: ${auth}`);
    lines.push(`Content-Type: ${contentType() ?? 'application/json'}`);
    for (
      let n = rng.weighted<number>([
        [6, () => 0],
        [3, () => 1],
        [1, () => rng.range(2, 4)],
      ]);
      n > 0;
      n--
    ) {
      lines.push(
        rng.pick([
          `X-A: ${rng.wire(60)}`,
          'Bad Header: x',
          'NoColon',
          ': empty-name',
          `X-Fold: a${eol} b`,
          'X-Del: a\u007fb',
          'X-Nul: a\u0000b',
          `X-Big: ${'a'.repeat(rng.range(8000, 40_000))}`,
          `X-Request-Id: ${rng.wire(40)}`,
          'Expect: 100-continue',
          'Upgrade: h2c',
          'Content-Encoding: gzip',
        ]),
      );
    }
    const payload = rng.chance(0.8) ? body() : Buffer.alloc(0);
    const framing = rng.weighted<string>([
      [3, () => 'none'],
      [6, () => 'exact'],
      [1, () => 'short'],
      [1, () => 'long'],
      [1, () => 'bad-length'],
      [1, () => 'two-lengths'],
      [3, () => 'chunked'],
      [3, () => 'bad-chunks'],
      [1, () => 'te-and-cl'],
      [1, () => 'odd-te'],
    ]);
    let bodyBytes: Buffer = Buffer.alloc(0);
    const chunked = (data: Buffer): Buffer => {
      const parts: Buffer[] = [];
      for (let at = 0; at < data.length;) {
        const size = Math.min(data.length - at, rng.range(1, 4096));
        parts.push(Buffer.from(`${size.toString(16)}\r\n`), data.subarray(at, at + size), Buffer.from('\r\n'));
        at += size;
      }
      parts.push(Buffer.from('0\r\n\r\n'));
      return Buffer.concat(parts);
    };
    switch (framing) {
      case 'exact':
        lines.push(`Content-Length: ${payload.length}`);
        bodyBytes = payload;
        break;
      case 'short':
        lines.push(`Content-Length: ${Math.floor(payload.length / 2)}`);
        bodyBytes = payload;
        break;
      case 'long':
        lines.push(`Content-Length: ${payload.length + rng.range(1, 1000)}`);
        bodyBytes = payload;
        break;
      case 'bad-length':
        lines.push(`Content-Length: ${rng.pick(['-1', 'abc', '1e3', '99999999999', ' 5 ', '0x10', '', '1,1'])}`);
        bodyBytes = payload;
        break;
      case 'two-lengths':
        lines.push(`Content-Length: ${payload.length}`, `Content-Length: ${payload.length + 1}`);
        bodyBytes = payload;
        break;
      case 'chunked':
        lines.push('Transfer-Encoding: chunked');
        bodyBytes = chunked(payload);
        break;
      case 'bad-chunks':
        lines.push('Transfer-Encoding: chunked');
        bodyBytes = Buffer.concat([
          chunked(payload).subarray(0, rng.int(payload.length + 10)),
          Buffer.from(
            rng.pick([
              'zz\r\nab\r\n0\r\n\r\n',
              '-1\r\nx\r\n',
              'ffffffffffffffffff\r\n',
              '2\r\nabcd\r\n0\r\n\r\n',
              '2;\u0001\r\nab\r\n0\r\n\r\n',
              '0\r\nX-Trailer: \u0000\r\n\r\n',
              '5\r\nab',
              '',
            ]),
          ),
        ]);
        break;
      case 'te-and-cl':
        lines.push('Transfer-Encoding: chunked', `Content-Length: ${payload.length}`);
        bodyBytes = chunked(payload);
        break;
      case 'odd-te':
        lines.push(`Transfer-Encoding: ${rng.pick(['gzip', 'chunked, gzip', 'identity', 'chunked;q=1', 'xchunked', 'chunked\u000b'])}`);
        bodyBytes = payload;
        break;
      default:
        break;
    }
    const pipelined = rng.chance(0.1);
    const head = `${lines.join(eol)}${eol}${eol}`;
    // UTF-8, as clients send non-ASCII; NUL, DEL and bare CR/LF go through as the single bytes they are.
    const parts = [Buffer.from(head, 'utf8'), bodyBytes];
    if (pipelined) parts.push(Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    return {
      index,
      method: m,
      data: Buffer.concat(parts),
      head: m === 'HEAD',
      expect: pipelined ? 2 : 1,
      summary: `${JSON.stringify(`${m} ${target.slice(0, 80)} ${version}`)} framing=${framing} body=${payload.length}B${pipelined ? ' +pipelined' : ''}`,
    };
  };

  return { requestCase, rawCase, injectMethods };
}

// ---------------------------------------------------------------- checking

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

type Verdict = 'ok' | 'parser';

/** Codes of the problems answered for bytes Node's parser refused: no request was parsed, so no `instance`. */
const PARSER_CODES: ReadonlySet<string> = new Set(['BAD_REQUEST', 'HEADERS_TOO_LARGE', 'REQUEST_TIMEOUT']);

/** Node's own empty 400 to an HTTP/1.1 request without Host: the one answer that is not a problem. */
function isParserAnswer(answer: Answer): boolean {
  const type = String(answer.headers['content-type'] ?? '');
  return answer.status === 400 && type === '' && answer.body === '';
}

/** Returns what the answer is, or throws a description of what is wrong with it. */
function judge(answer: Answer, method: string, options: { parserPossible: boolean; bodyComplete: boolean }): Verdict {
  const { status } = answer;
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status === 500) throw new Error('500');
  if (status >= 500 && ![502, 503, 504].includes(status)) throw new Error(`unexpected ${status}`);
  if (/node_modules|\bat .+\.[jt]s:\d+/.test(answer.body)) throw new Error('a stack trace in the body');
  if (status < 400) return 'ok';

  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) {
    if (options.parserPossible && isParserAnswer(answer)) return 'parser';
    throw new Error(`${status} is not problem+json (${type || 'no content-type'}): ${answer.body.slice(0, 200)}`);
  }
  if (answer.headers['x-content-type-options'] !== 'nosniff') throw new Error('a problem without the security headers');
  if (method === 'HEAD') {
    if (answer.body !== '') throw new Error('a HEAD answer with a body');
    return 'ok';
  }
  if (!options.bodyComplete) return 'ok';
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    throw new Error(`problem+json that is not JSON: ${answer.body.slice(0, 200)}`);
  }
  const code = problem.code;
  if (problem.status !== status) throw new Error(`problem.status ${String(problem.status)} for a ${status}`);
  if (typeof code !== 'string' || problem.type !== `urn:signet:problem:${code.toLowerCase().replaceAll('_', '-')}`) {
    throw new Error(`problem type/code mismatch: ${String(problem.type)} / ${String(code)}`);
  }
  for (const member of ['title', 'detail', 'instance'] as const) {
    if (member === 'instance' && options.parserPossible && PARSER_CODES.has(code) && problem.instance === undefined) continue;
    if (typeof problem[member] !== 'string') throw new Error(`problem without a string ${member}`);
  }
  return PARSER_CODES.has(code) && problem.instance === undefined ? 'parser' : 'ok';
}

// ---------------------------------------------------------------- the run

let stack: Stack;
let port: number;
let baseUrl: string;
let gc: () => void;
let heapBaseline = 0;
const tally: Record<string, number> = {};
const statuses: Record<number, number> = {};
const rejections: unknown[] = [];
const onUnhandledRejection = (reason: unknown) => rejections.push(reason);
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

const rng = new Rng(SEED);
const generators = makeGenerators(rng);
const injectCases = Array.from({ length: INJECT_CASES }, (_, i) => generators.requestCase(i, generators.injectMethods, true));
const fetchCases = Array.from({ length: FETCH_CASES }, (_, i) =>
  generators.requestCase(i, ['PUT', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'SEARCH'], false),
);
const rawCases = Array.from({ length: RAW_CASES }, (_, i) => generators.rawCase(i));

function count(key: string): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

function describeCase(kind: string, c: RequestCase): string {
  const headers = Object.entries(c.headers).map(
    ([k, v]) => `${k}: ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v)}`,
  );
  const body =
    c.body === undefined
      ? ''
      : ` body=${JSON.stringify(c.body.subarray(0, 80).toString('latin1'))}${c.body.length > 80 ? `…(${c.body.length}B)` : ''}`;
  return `${kind}#${c.index} ${c.method} ${JSON.stringify(c.url.length > 120 ? `${c.url.slice(0, 120)}…(${c.url.length})` : c.url)} {${headers.join(', ')}}${body}`;
}

function record(failures: string[], where: string, outcome: () => Verdict): void {
  try {
    count(outcome());
  } catch (error) {
    failures.push(`${where}: ${(error as Error).message}`);
  }
}

async function inBatches<T>(items: readonly T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let at = 0; at < items.length; at += size) await Promise.all(items.slice(at, at + size).map(run));
}

function heapAfterGc(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

async function settle(): Promise<void> {
  // Let lookups cut off by a client (raw sockets) finish on the upstream side.
  for (let i = 0; i < 200; i++) {
    const ready = (await stack.app.inject('/readyz')).json() as { carbonBlack: { inFlight: number; queued: number } };
    if (ready.carbonBlack.inFlight === 0 && ready.carbonBlack.queued === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandledRejection);
  process.on('uncaughtExceptionMonitor', onUncaught);
  const simulatorRandom = mulberry32(SEED ^ 0xa5a5a5a5);
  stack = await startStack({
    env: {
      AUTH_DISABLED: 'false',
      API_KEYS: `reader:${READER_KEY},ops:${ADMIN_KEY}:admin`,
      RATE_LIMIT_PER_MINUTE: '10000000',
      CB_RETRIES: '0',
      CB_TIMEOUT_MS: '1000',
      CB_DEADLINE_MS: '3000',
      CB_BREAKER_THRESHOLD: '1000',
    },
    // Carbon Black fails now and then, so upstream errors are part of the mix.
    simulator: { faults: { errorRate: 0.04, errorStatus: 500, malformedRate: 0.02, resetRate: 0.01 }, random: simulatorRandom },
  });
  baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(baseUrl).port);

  const maybeGc = (globalThis as { gc?: () => void }).gc;
  if (maybeGc) gc = maybeGc;
  else {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  // Warm up every kind of path (lazy modules, docs assets, JIT) before taking the baseline.
  const warmRng = new Rng(SEED ^ 0x1234);
  const warm = makeGenerators(warmRng);
  await inBatches(
    Array.from({ length: 150 }, (_, i) => warm.requestCase(i, warm.injectMethods, true)),
    16,
    async (c) => {
      await stack.app
        .inject({ method: c.method as 'GET', url: c.url, headers: c.headers, ...(c.body && { payload: c.body }) })
        .catch(() => undefined);
    },
  );
  await settle();
  heapBaseline = heapAfterGc();
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandledRejection);
  process.off('uncaughtExceptionMonitor', onUncaught);
  await stack?.close();
});

describe(`fuzz (FUZZ_SEED=${SEED})`, () => {
  it(`${INJECT_CASES} requests through inject()`, async () => {
    const failures: string[] = [];
    await inBatches(injectCases, 16, async (c) => {
      const where = describeCase('inject', c);
      try {
        const response = await stack.app.inject({
          method: c.method as 'GET',
          url: c.url,
          headers: c.headers,
          ...(c.body && { payload: c.body }),
        });
        record(failures, where, () =>
          judge({ status: response.statusCode, headers: response.headers, body: response.body }, c.method, {
            parserPossible: false,
            bodyComplete: true,
          }),
        );
      } catch (error) {
        failures.push(`${where}: inject rejected: ${(error as Error).message}`);
      }
    });
    expect(failures, `FUZZ_SEED=${SEED} reproduces these`).toEqual([]);
  }, 120_000);

  it(`${FETCH_CASES} requests over a real socket with fetch`, async () => {
    const failures: string[] = [];
    await inBatches(fetchCases, 8, async (c) => {
      const where = describeCase('fetch', c);
      let response: Response;
      // A mutated path may have lost its leading slash; fetch would read it as part of the authority.
      const url = new URL(`${baseUrl}${c.url.startsWith('/') ? '' : '/'}${c.url}`);
      try {
        response = await fetch(url, {
          method: c.method,
          headers: c.headers,
          ...(c.body && c.method !== 'GET' && c.method !== 'HEAD' && { body: c.body }),
          redirect: 'manual',
        });
      } catch (error) {
        // fetch refuses some inputs itself (a URL it cannot parse); anything else is the server's doing.
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        if (cause === undefined) count('fetch-refused');
        else failures.push(`${where}: fetch failed: ${cause.code ?? ''} ${cause.message ?? ''}`);
        return;
      }
      const body = await response.text();
      const headers = Object.fromEntries(response.headers.entries());
      record(failures, where, () =>
        judge({ status: response.status, headers, body }, c.method, { parserPossible: true, bodyComplete: true }),
      );
    });
    expect(failures, `FUZZ_SEED=${SEED} reproduces these`).toEqual([]);
  }, 120_000);

  it(`${RAW_CASES} malformed and mutated requests as raw bytes`, async () => {
    const failures: string[] = [];
    await inBatches(rawCases, 20, async (c) => {
      const exchange: RawExchange = await rawRequest(port, c.data, { head: c.head, expect: c.expect, timeoutMs: 1000 });
      if (exchange.responses.length === 0) {
        // Still waiting for promised bytes (Content-Length past the body, an unfinished chunk), or CONNECT dropped by Node.
        if (exchange.cutOff) count('raw-waiting');
        else if (c.method === 'CONNECT') count('raw-connect-dropped');
        else failures.push(`raw#${c.index} ${c.summary}: the connection was closed without an answer`);
        return;
      }
      exchange.responses.forEach((response, i) => {
        const where = `raw#${c.index} (response ${i + 1}) ${c.summary}`;
        record(failures, where, () =>
          judge(
            { status: response.status, headers: response.headers, body: response.body.toString('utf8') },
            i === 0 && c.head ? 'HEAD' : 'GET',
            { parserPossible: true, bodyComplete: i < exchange.complete },
          ),
        );
      });
    });
    expect(failures, `FUZZ_SEED=${SEED} reproduces these`).toEqual([]);
  }, 120_000);

  it('afterwards: still serving, nothing unhandled, no slot held, heap back near its baseline', async () => {
    await settle();
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { carbonBlack: { inFlight: number; queued: number } }).carbonBlack).toMatchObject({
      inFlight: 0,
      queued: 0,
    });

    stack.simulator.simulator.clearFaults();
    const lookup = await fetch(`${baseUrl}/v1/signatures/${samples.signed.md5}?name=git`, {
      headers: { authorization: `Bearer ${READER_KEY}` },
    });
    expect(lookup.status).toBe(200);
    expect(((await lookup.json()) as { signed: boolean }).signed).toBe(true);

    expect(rejections, 'unhandled rejections').toEqual([]);
    expect(uncaught, 'uncaught exceptions').toEqual([]);
    expect(Object.prototype, 'prototype pollution').not.toHaveProperty('polluted');

    const growth = heapAfterGc() - heapBaseline;
    console.log(
      `fuzz FUZZ_SEED=${SEED}: ${JSON.stringify(tally)}; statuses ${JSON.stringify(statuses)}; heap growth ${(growth / 1024 / 1024).toFixed(1)} MB`,
    );
    expect(growth, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB (FUZZ_SEED=${SEED})`).toBeLessThan(HEAP_GROWTH_LIMIT);
  }, 60_000);
});

describe('the judge itself (so a pass means something)', () => {
  const problem = (status: number, code: string) => ({
    status,
    headers: { 'content-type': 'application/problem+json', 'x-content-type-options': 'nosniff' },
    body: JSON.stringify({
      type: `urn:signet:problem:${code.toLowerCase().replaceAll('_', '-')}`,
      title: 't',
      status,
      detail: 'd',
      instance: '/',
      code,
    }),
  });
  const options = { parserPossible: true, bodyComplete: true };

  it('accepts a problem, a 2xx, and the exact parser answers', () => {
    expect(judge(problem(404, 'NOT_FOUND'), 'GET', options)).toBe('ok');
    expect(judge(problem(502, 'CB_SERVER_ERROR'), 'GET', options)).toBe('ok');
    expect(judge({ status: 200, headers: {}, body: '{}' }, 'GET', options)).toBe('ok');
    const parserProblem = problem(400, 'BAD_REQUEST');
    const { instance: _instance, ...withoutInstance } = JSON.parse(parserProblem.body) as Record<string, unknown>;
    expect(judge({ ...parserProblem, body: JSON.stringify(withoutInstance) }, 'GET', options)).toBe('parser');
    expect(judge({ status: 400, headers: {}, body: '' }, 'GET', options)).toBe('parser');
  });

  it('refuses a 500, a plain-JSON error, a mismatched problem, a parser answer from the app, a HEAD with a body', () => {
    expect(() => judge(problem(500, 'INTERNAL_ERROR'), 'GET', options)).toThrow('500');
    expect(() => judge({ status: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"x"}' }, 'GET', options)).toThrow(
      /not problem\+json/,
    );
    expect(() => judge({ ...problem(400, 'INVALID_REQUEST'), status: 401 }, 'GET', options)).toThrow(/problem.status/);
    expect(() =>
      judge(
        {
          status: 400,
          headers: { 'content-type': 'application/json' },
          body: '{"error":"Bad Request","message":"Client Error","statusCode":400}',
        },
        'GET',
        options,
      ),
    ).toThrow(/not problem\+json/);
    const parserProblem = problem(400, 'BAD_REQUEST');
    const { instance: _unused, ...noInstance } = JSON.parse(parserProblem.body) as Record<string, unknown>;
    expect(() => judge({ ...parserProblem, body: JSON.stringify(noInstance) }, 'GET', { ...options, parserPossible: false })).toThrow(
      /instance/,
    );
    expect(() => judge(problem(404, 'NOT_FOUND'), 'HEAD', options)).toThrow(/HEAD/);
    expect(() => judge({ ...problem(404, 'NOT_FOUND'), headers: { 'content-type': 'application/problem+json' } }, 'GET', options)).toThrow(
      /security headers/,
    );
    expect(() => judge({ status: 200, headers: {}, body: 'at handler (/srv/app/src/x.ts:12:3)' }, 'GET', options)).toThrow(/stack/);
  });
});

describe('URLs the router refuses before any route runs', () => {
  /* Fastify answers these before routing; app.ts's frameworkErrors gives them the problem format and the API headers. */
  const cases = [
    { what: 'broken percent-encoding', url: '/v1/signatures/%E0%A4%A?name=git', status: 400 },
    { what: 'an md5 longer than maxParamLength', url: `/v1/signatures/${'a'.repeat(3000)}?name=git`, status: 400 },
  ];
  it.each(cases)('$what: a problem+json $status with the security headers', async ({ url, status }) => {
    const response = await stack.app.inject({ url, headers: { authorization: `Bearer ${READER_KEY}` } });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});

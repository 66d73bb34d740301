import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The README's API snippets, exercised: its curl commands are sent to a real
 * Signet (over loopback, against the simulator) exactly as written, and the
 * answers it shows are what Signet answers, field for field (times aside).
 */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? '', text: m[2] ?? '' }));
const KEY = 'readme-snippet-key-0123456789abcdef';

/** The URL, headers and body of a README curl command (backslash-continued lines joined). */
function parseCurl(text: string): { url: string; headers: Record<string, string>; body?: string } {
  const line = text.replace(/\\\n\s*/g, ' ');
  const url = /'(http:\/\/127\.0\.0\.1:8080[^']*)'|(http:\/\/127\.0\.0\.1:8080\S*)/.exec(line);
  const headers: Record<string, string> = {};
  for (const [, header] of line.matchAll(/-H ["']([^"']+)["']/g)) {
    const [name, ...value] = header!.split(':');
    headers[name!.trim().toLowerCase()] = value.join(':').trim().replace('$SIGNET_KEY', KEY);
  }
  const body = /-d '([^']*)'/.exec(line)?.[1];
  return { url: (url?.[1] ?? url?.[2])!, headers, ...(body !== undefined && { body }) };
}

/** Drops what changes from run to run. */
function timeless(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v: unknown) =>
    ['checkedAt', 'storedAt', 'expiresAt', 'ageSeconds'].includes(key) ? '<time>' : v,
  );
}

describe('the README snippets', () => {
  let stack: Stack;
  let base: string;
  beforeAll(async () => {
    stack = await startStack({ env: { AUTH_DISABLED: 'false', API_KEYS: `soar:${KEY}` } });
    base = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => stack.close());

  const send = (curl: ReturnType<typeof parseCurl>) =>
    fetch(curl.url.replace('http://127.0.0.1:8080', base), {
      method: curl.body === undefined ? 'GET' : 'POST',
      headers: curl.headers,
      ...(curl.body !== undefined && { body: curl.body }),
    });

  it('the single lookup curl answers exactly the JSON shown under it', async () => {
    const index = blocks.findIndex((b) => b.lang === 'sh' && b.text.includes('/v1/signatures/82a7bf2b1f51f1988be571b8176aa545?name=git'));
    const shown: unknown = JSON.parse(blocks[index + 1]!.text);
    const response = await send(parseCurl(blocks[index]!.text));
    expect(response.status).toBe(200);
    expect(timeless(await response.json())).toEqual(timeless(shown));
  });

  it('the batch curl answers a verdict per item', async () => {
    const block = blocks.find((b) => b.lang === 'sh' && b.text.includes('/v1/signatures/batch'))!;
    const response = await send(parseCurl(block.text));
    expect(response.status).toBe(200);
    const { results } = (await response.json()) as { results: Array<{ verdict: string }> };
    expect(results.map((r) => r.verdict)).toEqual(['signed', 'unsigned']);
  });

  it('the error shown is what a malformed md5 answers', async () => {
    const shown = JSON.parse(blocks.find((b) => b.lang === 'json' && b.text.includes('urn:signet:problem:invalid-request'))!.text) as {
      instance: string;
    };
    const response = await fetch(`${base}${shown.instance}?name=git`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(shown);
  });
});

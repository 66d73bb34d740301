import type { LightMyRequestResponse } from 'fastify';
import { afterEach } from 'vitest';
import type { Stack, StackOptions } from '../support/stack.js';
import { startStack } from '../support/stack.js';

/**
 * Helpers for the fault matrix: every test gets its own Signet + simulator
 * stack (so breaker counts and cache contents never leak between rows), and
 * every stack is closed after the test, whatever happened.
 */

const open: Array<() => Promise<unknown>> = [];

/** Registers the afterEach that closes everything `faultStack`/`onCleanup` opened in the test. */
export function useCleanup(): void {
  afterEach(async () => {
    while (open.length > 0) {
      await open.pop()!().catch(() => undefined);
    }
  });
}

/** Runs `close` after the current test (in reverse order of registration). */
export function onCleanup(close: () => Promise<unknown>): void {
  open.push(close);
}

/** A stack closed automatically after the test. Call `useCleanup()` once per file. */
export async function faultStack(options: StackOptions = {}): Promise<Stack> {
  const stack = await startStack(options);
  onCleanup(() => stack.close());
  return stack;
}

export function lookup(stack: Stack, md5: string, name: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return stack.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, headers });
}

export function batch(stack: Stack, items: Array<{ md5: string; name: string }>): Promise<LightMyRequestResponse> {
  return stack.app.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } });
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** The parsed problem+json body; throws (failing the test) if the response is not application/problem+json. */
export function problemOf(response: LightMyRequestResponse): Problem {
  if (!/^application\/problem\+json/.test(String(response.headers['content-type']))) {
    throw new Error(`expected application/problem+json, got ${String(response.headers['content-type'])}: ${response.body}`);
  }
  return response.json<Problem>();
}

export interface CacheView {
  hit: boolean;
  status: 'hit' | 'miss' | 'stale' | 'coalesced';
  storedAt: string;
  ageSeconds: number;
  expiresAt: string;
}

export interface VerdictBody {
  md5: string;
  name: string;
  signed: boolean;
  checkedAt: string;
  cache: CacheView;
}

/** Polls `predicate` every 10 ms until it holds; fails after `timeoutMs` (generous: only a hang should hit it). */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A wall clock the test moves by hand (epoch ms), for AppDependencies.now. */
export function movableClock(start = Date.UTC(2026, 0, 15, 12, 0, 0)): { now: () => number; advance: (ms: number) => number } {
  let clock = start;
  return { now: () => clock, advance: (ms) => (clock += ms) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

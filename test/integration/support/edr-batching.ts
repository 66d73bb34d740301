import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import { populationMd5, populationName } from '../../../src/simulator/population.js';
import { startStack, type Stack, type StackOptions } from '../../support/stack.js';

/**
 * Helpers for the EDR batching tests: Signet (CB_VERDICT_SOURCE=binary-record,
 * CB_BINARY_READ=search, the defaults) over loopback to a real EDR simulator,
 * a list of distinct md5s mixing signed, unsigned and unknown binaries, and a
 * verdict body with what differs from run to run (times, cache status) taken out.
 */

const open: Stack[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

/** A stack closed after the test. */
export async function edrStack(options: StackOptions = {}): Promise<Stack> {
  const stack = await startStack(options);
  open.push(stack);
  return stack;
}

export interface Item {
  md5: string;
  name: string;
}

/**
 * `count` distinct md5s: mostly binaries of the simulator's population (of
 * `population`), every tenth one an md5 no server has a record of.
 */
export function distinctItems(count: number, population: number): Item[] {
  return Array.from({ length: count }, (_, k) =>
    k % 10 === 9
      ? { md5: randomBytes(16).toString('hex'), name: 'nowhere.exe' }
      : { md5: populationMd5(k % population), name: populationName(k % population) },
  );
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One lookup per item, all at once, each its own request to Signet. */
export async function lookUpAll(app: FastifyInstance, items: readonly Item[]): Promise<Answer[]> {
  const responses = await Promise.all(
    items.map((item) => app.inject({ url: `/v1/signatures/${item.md5}?name=${encodeURIComponent(item.name)}` })),
  );
  return responses.map((response) => ({ status: response.statusCode, body: response.json<Record<string, unknown>>() }));
}

/** The verdict without what a second run would change: when it was checked and how the cache served it. */
export function verdictOf(answer: Answer): Record<string, unknown> {
  const { checkedAt: _checkedAt, cache: _cache, ...verdict } = answer.body;
  return { status: answer.status, ...verdict };
}

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { startFleet, type Fleet } from '../support/fleet-stack.js';

/**
 * Redis dies (SIGKILL: connections reset, nothing saved) while the fleet is
 * under load: no lookup fails or answers a wrong verdict, the replicas stay
 * ready and report the shared cache down, and when Redis is back they
 * reconnect by themselves and share verdicts again.
 */
let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ simulator: { latencyMs: 10 } });
});
afterAll(() => fleet?.close());

const lookup = (replica: number, md5: string, name: string) =>
  fleet.replicas[replica]!.app.inject({ url: `/v1/signatures/${md5}?name=${encodeURIComponent(name)}` });
/** An md5 no binary of the simulator has: its verdict is `unknown`. */
const unseenMd5 = () => randomBytes(16).toString('hex');
const errorsTotal = async () => {
  let sum = 0;
  for (const replica of fleet.replicas) sum += await fleet.metric(replica, 'signet_shared_cache_errors_total');
  return sum;
};

interface Task {
  replica: number;
  md5: string;
  name: string;
  verdict: string;
}

describe('Redis killed while the fleet is under load', () => {
  it('every lookup answers 200 with its verdict; the replicas stay ready and report the shared cache down', async () => {
    // Distinct new md5s, each looked up on two replicas, and the samples again and again on all three.
    const known = [samples.signed, samples.unsigned, samples.unseen, samples.python];
    const tasks: Task[] = [];
    for (let i = 0; i < 300; i++) {
      const md5 = unseenMd5();
      tasks.push({ replica: i % 3, md5, name: 'tool.exe', verdict: 'unknown' });
      tasks.push({ replica: (i + 1) % 3, md5, name: 'tool.exe', verdict: 'unknown' });
      if (i % 4 === 0) {
        const sample = known[(i / 4) % known.length]!;
        tasks.push({ replica: i % 3, md5: sample.md5, name: sample.name, verdict: sample.verdict });
      }
    }
    const errorsBefore = await errorsTotal();

    const answers: Array<{ task: Task; status: number; verdict: unknown; body: string }> = [];
    let next = 0;
    let killed: Promise<void> | undefined;
    let answeredAfterKill = 0;
    let killDone = false;
    const worker = async () => {
      while (next < tasks.length) {
        const task = tasks[next++]!;
        const answer = await lookup(task.replica, task.md5, task.name);
        answers.push({ task, status: answer.statusCode, verdict: answer.json().verdict, body: answer.body });
        if (killDone) answeredAfterKill++;
        // A third of the way through, with lookups in flight on every replica, Redis dies.
        if (answers.length === Math.floor(tasks.length / 3)) {
          killed = fleet.redis.kill().then(() => {
            killDone = true;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, worker));
    await killed;

    expect(answers).toHaveLength(tasks.length);
    // The kill did happen mid-run: plenty of lookups were answered after Redis was gone.
    expect(answeredAfterKill).toBeGreaterThan(tasks.length / 4);
    const wrong = answers.filter(({ task, status, verdict }) => status !== 200 || verdict !== task.verdict);
    expect(wrong.map(({ task, status, body }) => ({ ...task, status, body }))).toEqual([]);

    await fleet.waitForTier(false);
    for (let replica = 0; replica < 3; replica++) {
      const ready = await fleet.replicas[replica]!.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready', sharedCache: 'down' });
      expect(await fleet.metric(fleet.replicas[replica]!, 'signet_shared_cache_up')).toBe(0);
    }
    // The commands caught in flight by the kill were counted, or (between commands) the tier was seen down.
    const sawDown = fleet.replicas.every((replica) => !replica.tier.up);
    expect((await errorsTotal()) > errorsBefore || sawDown).toBe(true);

    // While Redis is away each replica asks for itself.
    const md5 = unseenMd5();
    const before = fleet.upstreamRequests();
    for (const replica of [0, 1]) {
      const answer = await lookup(replica, md5, 'tool.exe');
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ verdict: 'unknown' });
    }
    expect(fleet.upstreamRequests()).toBe(before + 2);
  });

  it('when Redis is back, the replicas reconnect by themselves and share verdicts again', async () => {
    await fleet.redis.restart();
    await fleet.waitForTier(true);
    for (let replica = 0; replica < 3; replica++) {
      const ready = await fleet.replicas[replica]!.app.inject({ url: '/readyz' });
      expect(ready.json()).toMatchObject({ status: 'ready', sharedCache: 'up' });
    }
    const md5 = unseenMd5();
    const before = fleet.upstreamRequests();
    const first = await lookup(0, md5, 'tool.exe');
    const second = await lookup(1, md5, 'tool.exe');
    const third = await lookup(2, md5, 'tool.exe');
    for (const answer of [first, second, third]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ verdict: 'unknown', cache: { storedAt: first.json().cache.storedAt } });
    }
    expect(fleet.upstreamRequests()).toBe(before + 1);
  });
});

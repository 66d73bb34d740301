import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSnapshotTimer } from '../../src/signing/cache-snapshot.js';
import { recordingLog } from './support.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A write that finishes only when the test says so. */
function controllableWrite() {
  let calls = 0;
  let finish: (() => void) | undefined;
  let fail: ((error: Error) => void) | undefined;
  const write = () => {
    calls++;
    return new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  return { write, calls: () => calls, finish: () => finish?.(), fail: (error: Error) => fail?.(error) };
}

describe('startSnapshotTimer', () => {
  it('writes every interval', async () => {
    const write = vi.fn(async () => undefined);
    const stop = startSnapshotTimer(300, write, recordingLog());
    await vi.advanceTimersByTimeAsync(299_999);
    expect(write).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(write).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(write).toHaveBeenCalledTimes(3);
    await stop();
    await vi.advanceTimersByTimeAsync(3_000_000);
    expect(write).toHaveBeenCalledTimes(3);
  });

  it('never overlaps writes: a tick during a write is skipped', async () => {
    const w = controllableWrite();
    const log = recordingLog();
    const stop = startSnapshotTimer(10, w.write, log);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(w.calls()).toBe(1);
    expect(log.warnings).toHaveLength(2);
    w.finish();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.calls()).toBe(2);
    w.finish();
    await stop();
  });

  it('logs a failed write and tries again at the next interval', async () => {
    const w = controllableWrite();
    const log = recordingLog();
    const stop = startSnapshotTimer(10, w.write, log);
    await vi.advanceTimersByTimeAsync(10_000);
    w.fail(new Error('disk full'));
    await vi.advanceTimersByTimeAsync(0);
    expect(log.warnings).toEqual([{ obj: { err: new Error('disk full') }, msg: 'cache snapshot write failed' }]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.calls()).toBe(2);
    w.finish();
    await stop();
  });

  it('stop waits for the write under way, so a final write cannot be overtaken', async () => {
    const w = controllableWrite();
    const stop = startSnapshotTimer(10, w.write, recordingLog());
    await vi.advanceTimersByTimeAsync(10_000);
    let stopped = false;
    const stopping = stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    w.finish();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('with an interval of 0 never writes (shutdown only)', async () => {
    const write = vi.fn(async () => undefined);
    const stop = startSnapshotTimer(0, write, recordingLog());
    await vi.advanceTimersByTimeAsync(10_000_000);
    expect(write).not.toHaveBeenCalled();
    await stop();
  });

  it('does not keep the process alive', () => {
    vi.useRealTimers();
    const spy = vi.spyOn(globalThis, 'setInterval');
    const stop = startSnapshotTimer(60, async () => undefined, recordingLog());
    const timer = spy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
    void stop();
  });
});

import type { FastifyInstance } from 'fastify';
import { cloudFixtures, unseenFixture } from '../../src/simulator/cloud/fixtures.js';
import { samples } from '../../src/simulator/fixtures.js';
import { startCloudStack } from './cloud-stack.js';
import { requestCount, startStack } from './stack.js';

/**
 * One shape over both backends, so a suite can run the same expectations
 * against EDR and its simulator and against Cloud and its simulator
 * (`describe.each(BACKENDS)`). What differs is counted the way each product
 * spends requests: an EDR attempt is one request, a Cloud attempt is one job
 * creation (plus its polls).
 */
export type BackendKind = 'edr' | 'cloud';
export const BACKENDS: readonly BackendKind[] = ['edr', 'cloud'];

export interface Sample {
  hash: string;
  name: string;
}

/** The simulator's fault switches both simulators share. */
export interface SharedFaults {
  errorRate?: number;
  errorStatus?: 429 | 500 | 502 | 503 | 504 | 401;
  retryAfterSeconds?: number;
  failNext?: number;
  hangRate?: number;
  resetRate?: number;
  malformedRate?: number;
  truncatedRate?: number;
  slowBodyMs?: number;
  latencyMs?: number;
}

export interface BackendStack {
  kind: BackendKind;
  app: FastifyInstance;
  setFaults(faults: SharedFaults): void;
  clearFaults(): void;
  /** Attempts Signet made: EDR requests, Cloud job creations. */
  attempts(): number;
  /** Every request the simulator received. */
  requests(): number;
  /** Requests the simulator still holds open. */
  inFlight(): number;
  samples: { signed: Sample; unsigned: Sample; unknown: Sample };
  close(): Promise<void>;
}

export async function startBackendStack(kind: BackendKind, env: Record<string, string> = {}): Promise<BackendStack> {
  if (kind === 'edr') {
    const stack = await startStack({ env });
    const sim = stack.simulator.simulator;
    return {
      kind,
      app: stack.app,
      setFaults: (faults) => sim.setFaults(faults),
      clearFaults: () => sim.clearFaults(),
      attempts: () => requestCount(sim.stats),
      requests: () => requestCount(sim.stats),
      inFlight: () => sim.stats.inFlight,
      samples: {
        signed: { hash: samples.signed.md5, name: samples.signed.name },
        unsigned: { hash: samples.unsigned.md5, name: samples.unsigned.name },
        unknown: { hash: samples.unseen.md5, name: samples.unseen.name },
      },
      close: () => stack.close(),
    };
  }
  const stack = await startCloudStack({ env });
  const sim = stack.simulator.cloudSimulator;
  return {
    kind,
    app: stack.app,
    setFaults: (faults) => sim.setFaults(faults),
    clearFaults: () => sim.clearFaults(),
    attempts: () => sim.stats.requestsByKind.createJob,
    requests: () => sim.stats.requests,
    inFlight: () => sim.stats.inFlight,
    samples: {
      signed: { hash: cloudFixtures.signedVerified.sha256, name: 'chrome.exe' },
      unsigned: { hash: cloudFixtures.unsignedRecorded.md5, name: 'tool.exe' },
      unknown: { hash: unseenFixture.sha256, name: 'dropper.exe' },
    },
    close: () => stack.close(),
  };
}

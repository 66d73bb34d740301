import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export type LifecycleState = 'starting' | 'ready' | 'stopping';

/**
 * Where this instance is in its life, for /readyz and the drain: `starting`
 * until every readiness hold has settled after listening, `ready` until the
 * close begins, then `stopping`.
 */
export interface Lifecycle {
  readonly state: LifecycleState;
  /**
   * Work that must finish before the instance takes traffic but must not keep
   * it from listening (a snapshot restore takes seconds, and a process that
   * does not listen looks dead to its liveness probe). Runs once the app is ready.
   */
  holdReadinessFor(work: () => Promise<unknown>): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

async function lifecyclePlugin(app: FastifyInstance): Promise<void> {
  let state: LifecycleState = 'starting';
  const holds: Array<() => Promise<unknown>> = [];

  app.decorate('lifecycle', {
    get state() {
      return state;
    },
    holdReadinessFor(work) {
      holds.push(work);
    },
  } satisfies Lifecycle);

  app.addHook('onReady', async () => {
    // A failed hold has logged its own error; the instance still serves what it has.
    void Promise.allSettled(holds.map((work) => work())).then(() => {
      if (state === 'starting') state = 'ready';
    });
  });
  app.addHook('preClose', async () => {
    state = 'stopping';
  });
}

export const lifecycle = fp(lifecyclePlugin, { name: 'signet-lifecycle' });

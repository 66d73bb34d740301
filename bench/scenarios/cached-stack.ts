import { populationMd5, populationName } from '../../src/simulator/population.js';
import type { BenchContext } from '../lib/context.js';
import { postJson } from '../lib/http.js';
import type { Signet, SignetFeatures, Simulator } from '../lib/services.js';
import { probeFeatures, startSignet, startSimulator } from '../lib/services.js';

/**
 * Scenarios 1 and 2 share one Signet whose cache holds `cachedMd5s` verdicts
 * (3 of 4 signed), loaded once from a zero-latency simulator before anything is measured.
 */

export interface CachedItem {
  md5: string;
  name: string;
}

export interface CachedStack {
  simulator: Simulator;
  signet: Signet;
  items: CachedItem[];
  features: SignetFeatures;
  stop(): Promise<void>;
}

/** `nodeArgs` go to Signet's node (bench/profile.ts adds --cpu-prof). */
export async function startCachedStack(ctx: BenchContext, nodeArgs: string[] = []): Promise<CachedStack> {
  const count = ctx.settings.cachedMd5s;
  const simulator = await startSimulator({ population: count, latencyMs: 0 });
  let signet: Signet | undefined;
  try {
    signet = await startSignet({ cbUrl: simulator.url, cbToken: simulator.token, label: 'cached', nodeArgs });
    const items = Array.from({ length: count }, (_, i) => ({ md5: populationMd5(i), name: populationName(i) }));
    // One request per md5 (batches of up to 1000), so that every later lookup is a hit.
    for (let start = 0; start < count; start += 1000) {
      const chunk = items.slice(start, start + 1000);
      const response = await postJson<{ results: { signed?: boolean; error?: unknown }[] }>(
        `${signet.url}/v1/signatures/batch`,
        { items: chunk },
        { authorization: signet.lookupAuth },
      );
      const failed = response.status !== 200 ? chunk.length : response.body.results.filter((r) => r.error !== undefined).length;
      if (failed > 0) throw new Error(`warming the cache: status ${response.status}, ${failed} items failed`);
    }
    const features = await probeFeatures(signet, items[0]!.md5, items[0]!.name);
    ctx.log(`  signet features: ${JSON.stringify(features)}`);
    const started = signet;
    return {
      simulator,
      signet,
      items,
      features,
      async stop() {
        await started.child.stop();
        await simulator.child.stop();
      },
    };
  } catch (error) {
    await signet?.child.stop();
    await simulator.child.stop();
    throw error;
  }
}

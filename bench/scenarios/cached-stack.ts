import { populationMd5, populationName } from '../../src/simulator/population.js';
import type { BenchContext } from '../lib/context.js';
import { postJson } from '../lib/http.js';
import type { Signet, SignetFeatures, Simulator } from '../lib/services.js';
import { probeFeatures, startSignet, startSimulator } from '../lib/services.js';

/**
 * Scenarios 1 and 2 share one Signet whose cache holds `cachedMd5s` verdicts
 * (3 of 4 signed), loaded once from a zero-latency simulator before anything is measured.
 * Scenario 1 also measures a second Signet, the same but at `LOG_LEVEL=warn`
 * (no access line), so that the cost of the line is seen in the same run.
 */

export interface CachedItem {
  md5: string;
  name: string;
}

export interface CachedStack {
  simulator: Simulator;
  signet: Signet;
  /** The same Signet at LOG_LEVEL=warn, cache warmed the same way; absent when not asked for. */
  quietSignet?: Signet;
  items: CachedItem[];
  features: SignetFeatures;
  stop(): Promise<void>;
}

/** One request per md5 (batches of up to 1000), so that every later lookup is a hit. */
async function warm(signet: Signet, items: CachedItem[]): Promise<void> {
  for (let start = 0; start < items.length; start += 1000) {
    const chunk = items.slice(start, start + 1000);
    const response = await postJson<{ results: { signed?: boolean; error?: unknown }[] }>(
      `${signet.url}/v1/signatures/batch`,
      { items: chunk },
      { authorization: signet.lookupAuth },
    );
    const failed = response.status !== 200 ? chunk.length : response.body.results.filter((r) => r.error !== undefined).length;
    if (failed > 0) throw new Error(`warming the cache: status ${response.status}, ${failed} items failed`);
  }
}

export interface CachedStackOptions {
  /** Node flags for Signet (bench/profile.ts adds --cpu-prof). */
  nodeArgs?: string[];
  /** Also start the LOG_LEVEL=warn Signet (scenario 1); default true. */
  quiet?: boolean;
}

export async function startCachedStack(ctx: BenchContext, options: CachedStackOptions = {}): Promise<CachedStack> {
  const { nodeArgs = [], quiet = true } = options;
  const count = ctx.settings.cachedMd5s;
  const simulator = await startSimulator({ population: count, latencyMs: 0 });
  const started: Signet[] = [];
  try {
    const signet = await startSignet({ cbUrl: simulator.url, cbToken: simulator.token, label: 'cached', nodeArgs });
    started.push(signet);
    const items = Array.from({ length: count }, (_, i) => ({ md5: populationMd5(i), name: populationName(i) }));
    await warm(signet, items);
    const features = await probeFeatures(signet, items[0]!.md5, items[0]!.name);
    ctx.log(`  signet features: ${JSON.stringify(features)}`);
    let quietSignet: Signet | undefined;
    if (quiet) {
      quietSignet = await startSignet({
        cbUrl: simulator.url,
        cbToken: simulator.token,
        label: 'cached-warn',
        nodeArgs,
        env: { LOG_LEVEL: 'warn' },
      });
      started.push(quietSignet);
      await warm(quietSignet, items);
    }
    return {
      simulator,
      signet,
      ...(quietSignet && { quietSignet }),
      items,
      features,
      async stop() {
        for (const one of started) await one.child.stop();
        await simulator.child.stop();
      },
    };
  } catch (error) {
    for (const one of started) await one.child.stop();
    await simulator.child.stop();
    throw error;
  }
}

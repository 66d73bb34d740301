import type { Config } from '../config.js';
import type { SharedTier } from '../shared-tier/shared-tier.js';
import { SharedRequestBudget } from '../shared-tier/shared-request-budget.js';
import { createRequestBudget, type RequestBudget } from '../upstream/request-budget.js';
import { cloudClientFromConfig } from './cloud/client-from-config.js';
import type { CloudClient } from './cloud/client.js';
import { carbonBlackClientFromConfig } from './edr/client-from-config.js';
import type { CarbonBlackClient } from './edr/client.js';

/** The EDR reads a verdict can come from (the client without its lifecycle). */
export type EdrReads = Pick<CarbonBlackClient, 'isSigned' | 'binarySummary' | 'searchBinaries'>;
/** The Cloud read a verdict comes from. */
export type CloudReads = Pick<CloudClient, 'searchHashes'>;

/** The reads of the configured backend: exactly one of the two, as `CB_BACKEND` says. */
export type BackendReads = { backend: 'edr'; edr: EdrReads } | { backend: 'cloud'; cloud: CloudReads };

/** The configured backend's client with its lifecycle (and, on Cloud, the request budget it spends). */
export type BackendClients = BackendReads & { close: () => Promise<void>; budget: RequestBudget | undefined };

/**
 * Builds the client `CB_BACKEND` names, with its TLS-aware dispatcher (and, on
 * Cloud, the request budget: the fleet's, counted in Redis, with a shared tier).
 */
export function backendClientsFromConfig(settings: Config['carbonBlack'], sharedTier?: SharedTier): BackendClients {
  if (settings.backend === 'cloud') {
    if (settings.cloud === undefined) throw new TypeError('CB_BACKEND=cloud needs the Cloud settings');
    const local = createRequestBudget({ limit: settings.cloud.requestsPer5Minutes });
    const budget = sharedTier ? new SharedRequestBudget(sharedTier, local) : local;
    const client = cloudClientFromConfig(settings, settings.cloud, budget);
    return { backend: 'cloud', cloud: client, budget, close: () => client.close() };
  }
  const client = carbonBlackClientFromConfig(settings);
  return { backend: 'edr', edr: client, budget: undefined, close: () => client.close() };
}

import type { CloudSettings, Config } from '../../config.js';
import type { RequestBudget } from '../../upstream/request-budget.js';
import { dispatcherFromConfig } from '../http/dispatcher.js';
import { createCloudClient, type CloudClient } from './client.js';

/** The Cloud client as configured by the environment: one pooled, TLS-aware Agent sized to the concurrency bound. */
export function cloudClientFromConfig(settings: Config['carbonBlack'], cloud: CloudSettings, budget: RequestBudget): CloudClient {
  return createCloudClient({
    baseUrl: settings.url,
    orgKey: cloud.orgKey,
    apiId: cloud.apiId,
    apiSecret: cloud.apiSecret,
    timeoutMs: settings.timeoutMs,
    budget,
    pollIntervalMs: cloud.pollIntervalMs,
    dispatcher: dispatcherFromConfig(settings),
  });
}

import type { Config } from '../../config.js';
import type { CarbonBlackClient } from './client.js';
import { createCarbonBlackClient } from './client.js';
import { dispatcherFromConfig } from '../http/dispatcher.js';

/** The client as configured by the environment: one pooled, TLS-aware Agent sized to the concurrency bound. */
export function carbonBlackClientFromConfig(settings: Config['carbonBlack']): CarbonBlackClient {
  if (settings.token === undefined) throw new TypeError('the EDR client needs CB_API_TOKEN (CB_BACKEND=edr)');
  return createCarbonBlackClient({
    baseUrl: settings.url,
    token: settings.token,
    joinField: settings.joinField,
    timeoutMs: settings.timeoutMs,
    dispatcher: dispatcherFromConfig(settings),
  });
}

import { z } from 'zod';
import { booleanSetting, integerSetting } from '../environment-values.js';

/**
 * The environment variables of authentication and rate limiting, as zod
 * fields to spread into config.ts's `environmentSchema`. The key text itself
 * is checked by `loadApiKeys`, which never echoes a key.
 */
export const authEnvironmentShape = {
  API_KEYS: z
    .string()
    .optional()
    .describe(
      'Comma-separated `name:key[:role]` API keys (role `lookup`, the default, or `admin`). One of this or `API_KEYS_FILE` is required unless `AUTH_DISABLED=true`.',
    ),
  API_KEYS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Path of a file of API keys, one `name:key[:role]` a line (a mounted Kubernetes secret); blank lines and `#` comments are allowed.',
    ),
  AUTH_DISABLED: booleanSetting()
    .default(false)
    .describe('`true` serves every request without an API key, as an anonymous admin (local use only; logs a warning at start).'),
  RATE_LIMIT_PER_MINUTE: integerSetting(1, 10_000_000)
    .default(6000)
    .describe('Requests each API key may make per minute on this instance (a batch counts once); beyond it Signet answers 429.'),
};

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ApiKey } from './auth/api-keys.js';
import { ApiKeyError, loadApiKeys } from './auth/api-keys.js';
import { authEnvironmentShape } from './auth/environment.js';
import { booleanSetting, integerSetting } from './environment-values.js';
import { sharedTierEnvironmentShape, type SharedTierSettings } from './shared-tier/environment.js';

/**
 * Every setting Signet reads, as one zod schema over the environment. The
 * variable names are the public contract (README, k8s ConfigMap); the
 * descriptions feed the README's configuration table (a test keeps them in step).
 */

export const environmentSchema = z.object({
  CB_BACKEND: z
    .enum(['edr', 'cloud'])
    .default('edr')
    .describe(
      '`edr`: Carbon Black EDR (on premises; binary records, md5). `cloud`: Carbon Black Cloud (process search jobs, md5 or sha256, within `CB_REQUESTS_PER_5_MINUTES`).',
    ),
  CB_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .describe(
      'Carbon Black base URL (http or https): the EDR server (may carry a path prefix) or the Cloud host (`https://defense.conferdeploy.net`). Required for `npm start`.',
    ),
  CB_API_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe('EDR: the API token. One of this or `CB_API_TOKEN_FILE` is required with `CB_BACKEND=edr`.'),
  CB_API_TOKEN_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('EDR: path of a file holding the API token (a mounted Kubernetes secret); surrounding whitespace is ignored.'),
  CB_ORG_KEY: z
    .string()
    .regex(/^[A-Za-z0-9]{1,64}$/, 'must be letters and digits')
    .optional()
    .describe('Cloud: the organization key, part of every API path. Required with `CB_BACKEND=cloud`.'),
  CB_API_ID: z
    .string()
    .regex(/^[A-Za-z0-9]{1,64}$/, 'must be letters and digits')
    .optional()
    .describe('Cloud: the API key ID (the part after the `/` of `X-Auth-Token`). Required with `CB_BACKEND=cloud`.'),
  CB_API_SECRET: z
    .string()
    .min(1)
    .optional()
    .describe('Cloud: the API secret key. One of this or `CB_API_SECRET_FILE` is required with `CB_BACKEND=cloud`; never logged.'),
  CB_API_SECRET_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('Cloud: path of a file holding the API secret key (a mounted Kubernetes secret); surrounding whitespace is ignored.'),
  CB_REQUESTS_PER_5_MINUTES: integerSetting(1, 1_000_000)
    .default(1000)
    .describe(
      "Cloud: requests Signet allows itself per sliding 5 minutes, job creation and polls included (Cloud's documented example limit is 1000 per key). When spent, lookups wait within their deadline or answer 503 `UPSTREAM_BUDGET_SPENT` with `Retry-After`.",
    ),
  // At most 100: EDR's binary search takes at most MAX_BINARY_SEARCH_MD5S md5s (src/backends/edr/query.ts).
  CB_BATCH_MAX_HASHES: integerSetting(1, 100)
    .default(50)
    .describe(
      'Most hashes one upstream request asks for; misses arriving together share it: one Cloud search job, or one EDR binary search (`md5:A OR md5:B ...`, sent as a POST when its URL would be too long). `1` sends each miss alone. On EDR only `binary-record` with `CB_BINARY_READ=search` batches: a summary read and a joined search name one binary each, so they stay one request per miss.',
    ),
  // No zod default: it depends on CB_BACKEND (BATCH_WINDOW_DEFAULT_MS); the table shows defaultText.
  CB_BATCH_WINDOW_MS: integerSetting(0, 1000).optional().meta({
    description:
      'How long the first miss of a batch waits for others before it queues for an upstream slot, in milliseconds. The batch keeps taking misses while it waits for a slot, until it is full, so a busy service fills batches by itself; the window only bounds what a lone miss waits. On EDR a miss that finds nothing in flight or queued goes at once.',
    defaultText: '`20` (cloud), `2` (edr)',
  }),
  CB_POLL_INTERVAL_MS: integerSetting(10, 10_000)
    .default(500)
    .describe('Cloud: the first wait before polling a search job; each later wait is 1.5 times longer, up to 2 s.'),
  CB_VERDICT_SOURCE: z
    .enum(['binary-record', 'joined-search'])
    .default('binary-record')
    .describe(
      "`binary-record`: the verdict comes from Carbon Black's binary record (`digsig_result`); no record is `unknown`. `joined-search`: the seed's joined process search, signed or unsigned only (for tokens that may not read binaries), one search per miss.",
    ),
  CB_BINARY_READ: z
    .enum(['search', 'summary'])
    .default('search')
    .describe(
      'How `binary-record` reads a record: `search` asks the binary search `md5:<MD5>`, misses arriving together sharing one search (`CB_BATCH_MAX_HASHES`; an md5 with no row is unknown, a 404 an error); `summary` reads `/api/v1/binary/<MD5>/summary`, one read per miss, whose 404 means unknown, and so cannot tell an unknown md5 from a wrong `CB_URL` path.',
    ),
  CB_JOIN_FIELD: z
    .enum(['digsig_prog_name', 'digsig_result'])
    .default('digsig_prog_name')
    .describe(
      'For `CB_VERDICT_SOURCE=joined-search`: `digsig_prog_name` joins on the program name in the signature (the seed query); `digsig_result` asks `digsig_result:Signed` and ignores the name.',
    ),
  CB_TIMEOUT_MS: integerSetting(1, 600_000)
    .default(3000)
    .describe(
      'Time allowed for one Carbon Black request, body included, in milliseconds; the client aborts it with `CB_TIMEOUT`, retried once per lookup when a whole attempt still fits in `CB_DEADLINE_MS`.',
    ),
  CB_MAX_CONCURRENCY: integerSetting(1, 1024).default(8).describe('Most Carbon Black requests in flight at once.'),
  CB_MAX_QUEUE: integerSetting(0, 1_000_000)
    .default(1000)
    .describe('Most lookups waiting for a Carbon Black slot; beyond it a lookup is refused with 503 and `Retry-After`.'),
  CB_RETRIES: integerSetting(0, 10)
    .default(2)
    .describe('Retries of a transient Carbon Black failure (connection error, 429, 502, 503, 504).'),
  CB_DEADLINE_MS: integerSetting(1, 600_000)
    .default(8000)
    .describe(
      'Overall time one lookup may spend on Carbon Black, queueing and retries included, in milliseconds: the longest a caller waits for an answer, so keep it below the SOAR HTTP step timeout.',
    ),
  CB_BREAKER_THRESHOLD: integerSetting(1, 1000)
    .default(5)
    .describe('Consecutive failed lookups (each after its retries) that open the circuit breaker.'),
  CB_BREAKER_FAILURE_RATE: integerSetting(1, 100)
    .default(50)
    .describe(
      'Percentage of failed lookups within `CB_BREAKER_WINDOW_MS` that opens the circuit breaker, once the window holds `CB_BREAKER_MIN_CALLS` lookups.',
    ),
  CB_BREAKER_WINDOW_MS: integerSetting(1000, 3_600_000)
    .default(30_000)
    .describe('Sliding window of the breaker failure rate, in milliseconds.'),
  CB_BREAKER_MIN_CALLS: integerSetting(1, 1_000_000)
    .default(20)
    .describe('Lookups the window must hold before the failure rate may open the circuit breaker.'),
  CB_BREAKER_COOLDOWN_MS: integerSetting(1, 3_600_000)
    .default(10_000)
    .describe('How long the open breaker fails lookups fast before one trial lookup, in milliseconds.'),
  CB_CA_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of a private CA that signed Carbon Black's certificate, trusted in addition to the public roots."),
  CB_TLS_INSECURE: booleanSetting()
    .default(false)
    .describe('`true` disables TLS certificate verification towards Carbon Black (lab servers only; logs a warning at start).'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Listen address.'),
  PORT: integerSetting(0, 65_535).default(8080).describe('Listen port.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  CACHE_MAX_ENTRIES: integerSetting(1, 50_000_000).default(100_000).describe('LRU cache capacity (entries, one per md5).'),
  CACHE_TTL_SIGNED_SECONDS: integerSetting(1, 31_536_000).default(86_400).describe('Lifetime of a cached "signed" verdict.'),
  CACHE_TTL_UNSIGNED_SECONDS: integerSetting(1, 31_536_000).default(3600).describe('Lifetime of a cached "unsigned" verdict.'),
  CACHE_TTL_UNKNOWN_SECONDS: integerSetting(1, 31_536_000)
    .default(600)
    .describe('Lifetime of a cached "unknown" verdict (no binary record): short, as Carbon Black may index a new binary within minutes.'),
  CACHE_STALE_IF_ERROR_SECONDS: integerSetting(0, 31_536_000)
    .default(86_400)
    .describe('How long past its lifetime a verdict may still be served, marked stale, when Carbon Black fails.'),
  CACHE_STALE_WHILE_REVALIDATE_SECONDS: integerSetting(0, 31_536_000)
    .default(0)
    .describe('How long past its lifetime a verdict is served at once while a background refresh runs (0: off).'),
  ...authEnvironmentShape,
  ...sharedTierEnvironmentShape,
  METRICS_PUBLIC: booleanSetting()
    .default(true)
    .describe(
      '`true` serves `/metrics` without an API key (for an in-cluster Prometheus); `false` requires an API key with the admin role.',
    ),
  CACHE_SNAPSHOT_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File the verdict cache is saved to (periodically and at shutdown) and restored from at start, for warm restarts. Unset: no snapshots.',
    ),
  CACHE_SNAPSHOT_INTERVAL_SECONDS: integerSetting(0, 86_400)
    .default(300)
    .describe('Seconds between cache snapshots when `CACHE_SNAPSHOT_FILE` is set; 0 saves only at shutdown.'),
  HTTP_REQUEST_TIMEOUT_MS: integerSetting(1000, 600_000)
    .default(30_000)
    .describe('Time a client has to send a whole request (headers and body); past it the answer is 408 and the connection is closed.'),
  HTTP_HEADERS_TIMEOUT_MS: integerSetting(1000, 600_000)
    .default(10_000)
    .describe('Time a client has to send the request headers (at most `HTTP_REQUEST_TIMEOUT_MS`); past it the answer is 408.'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integerSetting(1000, 600_000)
    .default(72_000)
    .describe("How long an idle keep-alive connection stays open (above a fronting load balancer's idle timeout)."),
  SIGNET_VERSION: z
    .string()
    .regex(/^[0-9A-Za-z.+_-]{1,64}$/, 'must be a version such as 1.2.3')
    .optional()
    .describe(
      "Signet's version, as `GET /version` and `signet_build_info` report it; the image sets it from its `VERSION` build argument. Default: package.json's.",
    ),
  SIGNET_REVISION: z
    .string()
    .regex(/^[0-9A-Za-z._-]{1,64}$/, 'must be a git revision')
    .optional()
    .describe('The git revision Signet was built from; the image sets it from its `REVISION` build argument. Default: `unknown`.'),
  SHUTDOWN_GRACE_MS: integerSetting(0, 600_000)
    .default(10_000)
    .describe('On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process exits.'),
});

export type Environment = z.output<typeof environmentSchema>;

/**
 * CB_BATCH_WINDOW_MS when unset. A Cloud job takes seconds and its key has a
 * request budget, so waiting 20 ms to share a job is cheap; an EDR binary
 * search answers in tens of milliseconds, and a lone miss should not wait
 * more than a few for company (under load, batches fill while they queue).
 */
export const BATCH_WINDOW_DEFAULT_MS: Readonly<Record<Environment['CB_BACKEND'], number>> = { cloud: 20, edr: 2 };

/** Carbon Black Cloud's settings, present only with `CB_BACKEND=cloud`. */
export interface CloudSettings {
  orgKey: string;
  apiId: string;
  apiSecret: string;
  requestsPer5Minutes: number;
  pollIntervalMs: number;
}

export interface Config {
  carbonBlack: {
    backend: Environment['CB_BACKEND'];
    url: string;
    /** EDR's API token; undefined with `CB_BACKEND=cloud`. */
    token: string | undefined;
    /** Cloud's settings; undefined with `CB_BACKEND=edr`. */
    cloud: CloudSettings | undefined;
    verdictSource: Environment['CB_VERDICT_SOURCE'];
    binaryRead: Environment['CB_BINARY_READ'];
    /** CB_BATCH_MAX_HASHES: most hashes one batched request asks for (1: no batching). */
    batchMaxHashes: number;
    /** CB_BATCH_WINDOW_MS, or the backend's default (BATCH_WINDOW_DEFAULT_MS). */
    batchWindowMs: number;
    joinField: 'digsig_prog_name' | 'digsig_result';
    timeoutMs: number;
    maxConcurrency: number;
    maxQueue: number;
    retries: number;
    deadlineMs: number;
    breakerThreshold: number;
    /** CB_BREAKER_FAILURE_RATE as a share, 0.01..1. */
    breakerFailureRate: number;
    breakerWindowMs: number;
    breakerMinCalls: number;
    breakerCooldownMs: number;
    caFile: string | undefined;
    tlsInsecure: boolean;
  };
  server: {
    host: string;
    port: number;
    shutdownGraceMs: number;
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  auth: { keys: ApiKey[]; disabled: boolean; rateLimitPerMinute: number };
  /** The fleet's Redis or Valkey; undefined without `REDIS_URL` (each replica on its own). */
  sharedTier: SharedTierSettings | undefined;
  metricsPublic: boolean;
  /** Kept apart from `cache`, whose fields configure the lookup service. */
  snapshot: { file: string | undefined; intervalSeconds: number };
  logLevel: Environment['LOG_LEVEL'];
  /** What `GET /version` reports beside the Node version and the backend. */
  build: { version: string | undefined; revision: string };
  cache: {
    maxEntries: number;
    ttlSignedSeconds: number;
    ttlUnsignedSeconds: number;
    ttlUnknownSeconds: number;
    staleIfErrorSeconds: number;
    staleWhileRevalidateSeconds: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const hints: Record<string, string> = {
  CB_URL: ' (to try Signet without a Carbon Black server, run `npm run demo`)',
};

/** Variables whose value is a secret: never echoed in an error, never shown in the settings line. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['CB_API_TOKEN', 'CB_API_SECRET', 'API_KEYS', 'REDIS_PASSWORD']);

/** The unit a variable's name promises, said beside its expected form. */
function unitOf(variable: string): string {
  if (variable.endsWith('_MS')) return ' (milliseconds)';
  if (variable.endsWith('_SECONDS')) return ' (seconds)';
  return '';
}

/** The value as given, quoted and bounded, or nothing for a secret. */
/** A URL's password (`scheme://user:password@host`) hidden, whatever else about the URL is wrong. */
function withoutPassword(value: string): string {
  return value.replace(/^([^:/?#]*:\/\/[^/?#@:]*):[^/?#]*@/, '$1:[redacted]@');
}

function echo(variable: string, value: string): string {
  if (SECRET_VARIABLES.has(variable)) return '';
  const visible = withoutPassword(value);
  const shown = visible.length > 64 ? `${visible.slice(0, 64)}…` : visible;
  return ` ${JSON.stringify(shown)}`;
}

function describeIssue(issue: z.core.$ZodIssue, env: NodeJS.ProcessEnv): string {
  const variable = String(issue.path[0] ?? 'environment');
  const value = env[variable];
  if (value === undefined || value === '') return `${variable} is required${hints[variable] ?? ''}`;
  return `${variable} is invalid:${echo(variable, value)} ${issue.message}${unitOf(variable)}${hints[variable] ?? ''}`;
}

/** Prefixes of Signet's settings: a variable that has one but is no setting is likely a typo. */
const SETTING_PREFIXES = /^(?:CB|CACHE|HTTP|AUTH|API_KEYS|RATE_LIMIT|LOG|METRICS|SHUTDOWN|SIGNET|HOST|PORT|REDIS)_/;
/** Signet's own variables that are not the service's settings: the demo's and the command-line client's. */
const NOT_SETTINGS: ReadonlySet<string> = new Set(['SIGNET_BACKEND', 'SIGNET_URL', 'SIGNET_API_KEY']);

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/**
 * One warning per variable that looks like a setting but is none
 * (`CB_TIMEOUT=5`, silently ignored before), naming the closest setting.
 */
export function unknownSettingWarnings(env: NodeJS.ProcessEnv): string[] {
  const settings = Object.keys(environmentSchema.shape);
  const known = new Set(settings);
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || NOT_SETTINGS.has(name) || !SETTING_PREFIXES.test(name)) continue;
    let closest = settings[0]!;
    let best = Number.POSITIVE_INFINITY;
    for (const setting of settings) {
      const distance = editDistance(name, setting);
      if (distance < best) [closest, best] = [setting, distance];
    }
    warnings.push(`${name} is not a Signet setting and is ignored; did you mean ${closest}?`);
  }
  return warnings;
}

/**
 * Settings with a default that mean something on one backend only. The
 * start-up line leaves out the other backend's: an EDR replica listing a
 * Cloud request budget reads as if it had one. (Credentials have no default,
 * so they are listed only when set, like any value the operator set.)
 */
const BACKEND_ONLY_DEFAULTS: Readonly<Record<string, Environment['CB_BACKEND']>> = {
  CB_VERDICT_SOURCE: 'edr',
  CB_BINARY_READ: 'edr',
  CB_JOIN_FIELD: 'edr',
  CB_REQUESTS_PER_5_MINUTES: 'cloud',
  CB_POLL_INTERVAL_MS: 'cloud',
};

/**
 * Every setting in force, defaults included (the batch window's, which
 * depends on the backend, too), as one object for the start-up line: secrets
 * as "[redacted]" when set, file paths as they are, the other backend's
 * defaults left out.
 */
export function settingsInForce(env: NodeJS.ProcessEnv): Record<string, string | number | boolean> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) return {};
  const backend = parsed.data.CB_BACKEND;
  const inForce = { ...parsed.data, CB_BATCH_WINDOW_MS: parsed.data.CB_BATCH_WINDOW_MS ?? BATCH_WINDOW_DEFAULT_MS[backend] };
  const settings: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(inForce)) {
    if (value === undefined) continue;
    const only = BACKEND_ONLY_DEFAULTS[name];
    if (only !== undefined && only !== backend && !(name in present)) continue;
    settings[name] = SECRET_VARIABLES.has(name)
      ? '[redacted]'
      : typeof value === 'string'
        ? withoutPassword(value)
        : (value as number | boolean);
  }
  return settings;
}

/** Parses the environment once; throws ConfigError with one line naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // Empty strings mean "unset" so that a blank line in a ConfigMap does not defeat a default.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    throw new ConfigError(first ? describeIssue(first, env) : 'invalid environment');
  }
  const e = parsed.data;
  return {
    carbonBlack: {
      backend: e.CB_BACKEND,
      url: e.CB_URL.replace(/\/+$/, ''),
      token: e.CB_BACKEND === 'edr' ? readToken(e) : undefined,
      cloud: e.CB_BACKEND === 'cloud' ? readCloudSettings(e) : undefined,
      verdictSource: e.CB_VERDICT_SOURCE,
      binaryRead: e.CB_BINARY_READ,
      batchMaxHashes: e.CB_BATCH_MAX_HASHES,
      batchWindowMs: e.CB_BATCH_WINDOW_MS ?? BATCH_WINDOW_DEFAULT_MS[e.CB_BACKEND],
      joinField: e.CB_JOIN_FIELD,
      timeoutMs: e.CB_TIMEOUT_MS,
      maxConcurrency: e.CB_MAX_CONCURRENCY,
      maxQueue: e.CB_MAX_QUEUE,
      retries: e.CB_RETRIES,
      deadlineMs: e.CB_DEADLINE_MS,
      breakerThreshold: e.CB_BREAKER_THRESHOLD,
      breakerFailureRate: e.CB_BREAKER_FAILURE_RATE / 100,
      breakerWindowMs: e.CB_BREAKER_WINDOW_MS,
      breakerMinCalls: e.CB_BREAKER_MIN_CALLS,
      breakerCooldownMs: e.CB_BREAKER_COOLDOWN_MS,
      caFile: e.CB_CA_FILE,
      tlsInsecure: e.CB_TLS_INSECURE,
    },
    server: {
      host: e.HOST,
      port: e.PORT,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      // Node refuses a headers timeout above the request timeout.
      headersTimeoutMs: Math.min(e.HTTP_HEADERS_TIMEOUT_MS, e.HTTP_REQUEST_TIMEOUT_MS),
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    auth: { ...readApiKeys(e), rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE },
    sharedTier: readSharedTierSettings(e),
    metricsPublic: e.METRICS_PUBLIC,
    snapshot: { file: e.CACHE_SNAPSHOT_FILE, intervalSeconds: e.CACHE_SNAPSHOT_INTERVAL_SECONDS },
    logLevel: e.LOG_LEVEL,
    build: { version: e.SIGNET_VERSION, revision: e.SIGNET_REVISION ?? 'unknown' },
    cache: {
      maxEntries: e.CACHE_MAX_ENTRIES,
      ttlSignedSeconds: e.CACHE_TTL_SIGNED_SECONDS,
      ttlUnsignedSeconds: e.CACHE_TTL_UNSIGNED_SECONDS,
      ttlUnknownSeconds: e.CACHE_TTL_UNKNOWN_SECONDS,
      staleIfErrorSeconds: e.CACHE_STALE_IF_ERROR_SECONDS,
      staleWhileRevalidateSeconds: e.CACHE_STALE_WHILE_REVALIDATE_SECONDS,
    },
  };
}

function readToken(e: Environment): string {
  return readSecret(e.CB_API_TOKEN, e.CB_API_TOKEN_FILE, 'CB_API_TOKEN');
}

/** The API key travels in a header: Cloud is https, except to a simulator on this machine. */
const LOOPBACK_HOSTS = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function readCloudSettings(e: Environment): CloudSettings {
  const url = new URL(e.CB_URL);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.test(url.hostname)) {
    throw new ConfigError('CB_URL is invalid: Carbon Black Cloud must be reached over https (http only to a loopback address)');
  }
  if (e.CB_ORG_KEY === undefined) throw new ConfigError('CB_ORG_KEY is required with CB_BACKEND=cloud');
  if (e.CB_API_ID === undefined) throw new ConfigError('CB_API_ID is required with CB_BACKEND=cloud');
  return {
    orgKey: e.CB_ORG_KEY,
    apiId: e.CB_API_ID,
    apiSecret: readSecret(e.CB_API_SECRET, e.CB_API_SECRET_FILE, 'CB_API_SECRET'),
    requestsPer5Minutes: e.CB_REQUESTS_PER_5_MINUTES,
    pollIntervalMs: e.CB_POLL_INTERVAL_MS,
  };
}

function readSharedTierSettings(e: Environment): SharedTierSettings | undefined {
  if (e.REDIS_URL === undefined) {
    if (e.CB_FLEET_MAX_CONCURRENCY !== undefined) {
      throw new ConfigError('CB_FLEET_MAX_CONCURRENCY needs REDIS_URL: the fleet counts its requests in Redis');
    }
    return undefined;
  }
  // The URL is shown in the settings line and in logs; the password must not ride in it.
  if (new URL(e.REDIS_URL).password !== '') {
    throw new ConfigError('REDIS_URL is invalid: it holds a password; put it in REDIS_PASSWORD or REDIS_PASSWORD_FILE');
  }
  const hasPassword = e.REDIS_PASSWORD !== undefined || e.REDIS_PASSWORD_FILE !== undefined;
  return {
    url: e.REDIS_URL,
    password: hasPassword ? readSecret(e.REDIS_PASSWORD, e.REDIS_PASSWORD_FILE, 'REDIS_PASSWORD') : undefined,
    keyPrefix: e.REDIS_KEY_PREFIX,
    timeoutMs: e.REDIS_TIMEOUT_MS,
    flightLeaseMs: e.REDIS_FLIGHT_LEASE_MS,
    fleetMaxConcurrency: e.CB_FLEET_MAX_CONCURRENCY,
  };
}

/** A secret given inline (`NAME`) or as a file (`NAME_FILE`); the file's content never reaches a message. */
function readSecret(inline: string | undefined, file: string | undefined, name: string): string {
  if (inline !== undefined) return inline;
  if (file === undefined) {
    throw new ConfigError(`${name} or ${name}_FILE is required`);
  }
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (error) {
    // The path is not secret; the file's content is, so only the error code is shown.
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name}_FILE is invalid: cannot read ${file} (${code})`);
  }
  if (secret === '') throw new ConfigError(`${name}_FILE is invalid: ${file} is empty`);
  return secret;
}

function readApiKeys(e: Environment): { keys: ApiKey[]; disabled: boolean } {
  try {
    return loadApiKeys(e);
  } catch (error) {
    if (error instanceof ApiKeyError) throw new ConfigError(error.message);
    throw error;
  }
}

/**
 * One example per response status in the OpenAPI document, so a reader of
 * Swagger UI sees what each status really carries (not one shared problem for
 * every status). The texts are the ones Signet sends; a test checks each
 * example against its response schema.
 */

import { isRetryableProblem } from './errors.js';

type Example = { summary: string; value: unknown };
type Examples = Record<string, Example>;

const MD5_PATH = '/v1/signatures/82a7bf2b1f51f1988be571b8176aa545';
const BATCH_PATH = '/v1/signatures/batch';

function problem(status: number, code: string, title: string, detail: string, instance: string, extra: object = {}) {
  const retryable = isRetryableProblem(status, code);
  return {
    type: `urn:signet:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    instance,
    code,
    retryable,
    ...extra,
  };
}

const cache = (status: string, hit: boolean) => ({
  hit,
  status,
  storedAt: '2026-11-27T23:09:41.000Z',
  ageSeconds: hit ? 12 : 0,
  expiresAt: '2026-11-28T23:09:41.000Z',
});

const HASH_MESSAGE = 'must be an md5 (32 hexadecimal digits) or a sha256 (64 hexadecimal digits)';

const signed = {
  md5: '82a7bf2b1f51f1988be571b8176aa545',
  sha256: null,
  name: 'git',
  verdict: 'signed',
  signed: true,
  signature: {
    status: 'Signed',
    publisher: 'Apple Inc.',
    issuer: 'Apple Code Signing Certification Authority',
    subject: 'Software Signing',
    programName: 'git',
    signedAt: '2017-03-28T04:14:06Z',
    states: null,
  },
  nameMatchesSignature: true,
  basis: 'binary-record',
  checkedAt: '2026-11-27T23:09:41.000Z',
  cache: cache('hit', true),
};

const microsoftDriver = {
  md5: 'c7f5cae0b450be875eee0e6ddfa771fe',
  sha256: null,
  name: 'appid.sys',
  verdict: 'signed',
  signed: true,
  signature: {
    status: 'Signed',
    publisher: 'Microsoft Corporation',
    issuer: null,
    subject: null,
    programName: null,
    signedAt: '2016-04-12T09:21:00Z',
    states: null,
  },
  nameMatchesSignature: false,
  basis: 'binary-record',
  checkedAt: '2026-11-27T23:09:41.000Z',
  cache: cache('miss', false),
};

const expired = {
  md5: '182e1f699b6e7f2ad4b470a726a97388',
  sha256: null,
  name: 'legacy-vpn',
  verdict: 'unsigned',
  signed: false,
  signature: {
    status: 'Expired',
    publisher: 'Legacy Networks Ltd',
    issuer: 'Symantec Class 3 SHA256 Code Signing CA',
    subject: 'Legacy Networks Ltd',
    programName: 'Legacy VPN',
    signedAt: '2014-02-11T12:00:00Z',
    states: null,
  },
  nameMatchesSignature: true,
  basis: 'binary-record',
  checkedAt: '2026-11-27T23:09:41.000Z',
  cache: cache('miss', false),
};

const unknown = {
  md5: '456c234f1bfada1805b36118282fed3e',
  sha256: null,
  name: 'dropper.exe',
  verdict: 'unknown',
  signed: false,
  signature: null,
  nameMatchesSignature: null,
  basis: 'binary-record',
  checkedAt: '2026-11-27T23:09:41.000Z',
  cache: { ...cache('miss', false), expiresAt: '2026-11-27T23:19:41.000Z' },
};

const cloudSigned = {
  md5: '5746bd7e255dd6a8afa06f7c42c1ba41',
  sha256: 'fc8ae4b2c8a7b6a5d9e0f1c2b3a4958677685a4b3c2d1e0f9a8b7c6d5e4f3a2b',
  name: 'powershell.exe',
  verdict: 'signed',
  signed: true,
  signature: {
    status: 'FILE_SIGNATURE_STATE_VERIFIED',
    publisher: 'Microsoft Corporation',
    issuer: null,
    subject: null,
    programName: null,
    signedAt: null,
    states: ['FILE_SIGNATURE_STATE_OS', 'FILE_SIGNATURE_STATE_SIGNED', 'FILE_SIGNATURE_STATE_TRUSTED', 'FILE_SIGNATURE_STATE_VERIFIED'],
  },
  nameMatchesSignature: null,
  basis: 'cloud-process-search',
  checkedAt: '2026-11-27T23:09:41.000Z',
  cache: cache('miss', false),
};

const single: Record<string, Examples> = {
  '200': {
    signed: { summary: 'Signed, and the name matches the signature', value: signed },
    signedNoProgramName: { summary: 'Signed by Microsoft; the signature names no program', value: microsoftDriver },
    unsigned: { summary: 'Unsigned: the signature has expired', value: expired },
    unknown: { summary: 'Unknown: Carbon Black has no record of this md5', value: unknown },
    cloudSigned: { summary: 'Carbon Black Cloud, looked up by sha256: signed, with the states the rule read', value: cloudSigned },
  },
  '400': {
    invalid: {
      summary: 'An invalid hash',
      value: problem(400, 'INVALID_REQUEST', 'Invalid request', `path parameter "hash" ${HASH_MESSAGE}`, '/v1/signatures/abc', {
        errors: [{ location: 'path', field: 'hash', message: HASH_MESSAGE }],
      }),
    },
    sha256OnEdr: {
      summary: 'A sha256 where the backend (Carbon Black EDR) indexes md5',
      value: problem(
        400,
        'INVALID_REQUEST',
        'Invalid request',
        'path parameter "hash" is a sha256, but Carbon Black EDR indexes md5: send the binary\'s md5',
        `/v1/signatures/${'fc8ae4b2c8a7b6a5d9e0f1c2b3a4958677685a4b3c2d1e0f9a8b7c6d5e4f3a2b'}`,
        { errors: [{ location: 'path', field: 'hash', message: 'is a sha256, but Carbon Black EDR indexes md5' }] },
      ),
    },
  },
  '502': {
    upstream: {
      summary: 'Carbon Black answered an error',
      value: problem(
        502,
        'CB_SERVER_ERROR',
        'Carbon Black answered with a server error',
        'Carbon Black answered 500; try again later.',
        MD5_PATH,
      ),
    },
    tokenRejected: {
      summary: 'Carbon Black refused the credentials: not retryable, an operator must fix them',
      value: problem(
        502,
        'CB_TOKEN_REJECTED',
        'Carbon Black rejected the API token',
        "Carbon Black refused Signet's credentials; an operator must check CB_API_TOKEN (EDR) or CB_API_ID and CB_API_SECRET (Cloud). Retrying will not help.",
        MD5_PATH,
      ),
    },
  },
  '503': {
    breakerOpen: {
      summary: 'Carbon Black keeps failing; Signet fails fast (see Retry-After)',
      value: problem(
        503,
        'UPSTREAM_BREAKER_OPEN',
        'Carbon Black is unavailable',
        'Carbon Black has been failing, so Signet is not asking it for a while; cached verdicts are still served.',
        MD5_PATH,
      ),
    },
    budgetSpent: {
      summary: 'Carbon Black Cloud: Signet has spent its request budget for now (see Retry-After)',
      value: problem(
        503,
        'UPSTREAM_BUDGET_SPENT',
        'Signet is at its Carbon Black request budget',
        'Signet has used the Carbon Black requests it allows itself for now (CB_REQUESTS_PER_5_MINUTES, or a wait Carbon Black asked for); cached verdicts are still served.',
        MD5_PATH,
      ),
    },
  },
  '504': {
    timeout: {
      summary: 'Carbon Black did not answer in time',
      value: problem(
        504,
        'UPSTREAM_DEADLINE',
        'Carbon Black timed out',
        'Carbon Black did not give a verdict within the lookup deadline (CB_DEADLINE_MS); try again later.',
        MD5_PATH,
      ),
    },
  },
};

const batch: Record<string, Examples> = {
  '200': {
    mixed: {
      summary: 'A verdict, an invalid item and a failed lookup, each in its place',
      value: {
        results: [
          signed,
          {
            md5: '000000000000000000000000000000',
            name: 'explorer.exe',
            error: {
              status: 400,
              code: 'INVALID_REQUEST',
              title: 'Invalid request',
              detail: '"md5" must be 32 hexadecimal digits',
              field: 'md5',
              retryable: false,
            },
          },
          {
            md5: '3d485deffe2f74d0c15f1cb23086f936',
            name: 'nc',
            error: {
              status: 502,
              code: 'CB_SERVER_ERROR',
              title: 'Carbon Black answered with a server error',
              detail: 'Carbon Black answered 500; try again later.',
              retryable: true,
              retryAfterSeconds: 5,
            },
          },
        ],
      },
    },
  },
  '400': {
    notABatch: {
      summary: 'The body has no items array',
      value: problem(400, 'INVALID_REQUEST', 'Invalid request', 'body "items" is required', BATCH_PATH, {
        errors: [{ location: 'body', field: 'items', message: 'is required' }],
      }),
    },
  },
  '413': {
    tooLarge: {
      summary: 'Over 1 MiB',
      value: problem(413, 'BODY_TOO_LARGE', 'Request body too large', 'The request body is larger than Signet accepts.', BATCH_PATH),
    },
  },
  '415': {
    notJson: {
      summary: 'Not application/json',
      value: problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send the request body as application/json.', BATCH_PATH),
    },
  },
};

/** Statuses every authenticated route shares; `instance` is filled with the route's own path. */
function shared(instance: string): Record<string, Examples> {
  return {
    '401': {
      missingKey: {
        summary: 'No API key',
        value: problem(401, 'UNAUTHORIZED', 'Unauthorized', 'Send an API key as "Authorization: Bearer <key>".', instance),
      },
    },
    '403': {
      wrongRole: {
        summary: 'The key lacks the role',
        value: problem(403, 'FORBIDDEN', 'Forbidden', 'This endpoint needs an API key with the "admin" role.', instance),
      },
    },
    '429': {
      rateLimited: {
        summary: "The caller's key is over its rate limit",
        value: problem(
          429,
          'RATE_LIMITED',
          'Too many requests',
          'API key "soar" may make 600 requests a minute; try again in 12 s.',
          instance,
        ),
      },
    },
    '400': {
      invalid: {
        summary: 'An invalid hash',
        value: problem(400, 'INVALID_REQUEST', 'Invalid request', `path parameter "hash" ${HASH_MESSAGE}`, '/v1/cache/abc', {
          errors: [{ location: 'path', field: 'hash', message: HASH_MESSAGE }],
        }),
      },
    },
  };
}

const byOperation: Record<string, Record<string, Examples>> = {
  'get /v1/signatures/{hash}': single,
  'post /v1/signatures/batch': batch,
};

/** The examples for one response, or undefined when the status has none (204, probes). */
export function responseExamples(method: string, path: string, status: string): Examples | undefined {
  const instance = path.replace('{hash}', '82a7bf2b1f51f1988be571b8176aa545');
  return byOperation[`${method} ${path}`]?.[status] ?? shared(instance)[status];
}

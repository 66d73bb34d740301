import type { FastifyInstance } from 'fastify';
import type { Dataset } from './dataset.js';
import type { DigsigResult } from './records.js';

/**
 * The server facts a client (or the official SDK) asks for when it connects,
 * and the binary summary endpoint, which carries the signing data that process
 * rows never do.
 */

export const SIMULATED_VERSION = '7.7.0';

// HRESULTs Windows reports for each verdict, as digsig_result_code strings.
const RESULT_CODES: Record<DigsigResult, string> = {
  Signed: '0',
  Unsigned: '2148204800', // TRUST_E_NOSIGNATURE
  Expired: '2148204801', // CERT_E_EXPIRED
  'Bad Signature': '2148098064', // TRUST_E_BAD_DIGEST
  'Invalid Signature': '2148204812', // TRUST_E_CERT_SIGNATURE
  'Invalid Chain': '2148204810', // CERT_E_CHAINING
  'Untrusted Root': '2148204809', // CERT_E_UNTRUSTEDROOT
  'Explicit Distrust': '2148204817', // TRUST_E_EXPLICIT_DISTRUST
};

export function registerInfoRoutes(app: FastifyInstance, dataset: Dataset): void {
  app.get('/api/info', async () => ({
    version: SIMULATED_VERSION,
    versionRelease: `${SIMULATED_VERSION}-1.el7`,
    maxSearchResultRows: 1000,
    timestampDeltaThreshold: 5,
    cblrEnabled: false,
    banningEnabled: true,
    processSearchSortField: 'last_update',
    // Not a Carbon Black field: lets a curious client tell it is talking to the simulator.
    simulator: true,
  }));

  app.get('/api/v1/storage/events/partition', async () => ({
    writer: { name: 'writer', status: 'writer', info: { isLegacy: false } },
    cbevents_2024_01_01_0000: { name: 'cbevents_2024_01_01_0000', status: 'hot', info: { isLegacy: false } },
  }));

  app.get<{ Params: { md5: string } }>('/api/v1/binary/:md5/summary', async (request, reply) => {
    const binary = dataset.binary(request.params.md5);
    if (binary === undefined) return reply.code(404).type('text/html; charset=utf-8').send('<h1>404 Not Found</h1>');
    const { signing, records } = binary;
    const last = records.reduce((a, b) => (b.lastUpdateMs > a.lastUpdateMs ? b : a));
    return {
      md5: binary.md5.toUpperCase(),
      digsig_result: signing.result,
      digsig_result_code: RESULT_CODES[signing.result],
      digsig_publisher: signing.publisher ?? '',
      digsig_issuer: signing.issuer ?? '',
      digsig_subject: signing.subject ?? '',
      digsig_prog_name: signing.progName ?? '',
      digsig_sign_time: signing.signTime ?? '',
      signed: signing.result,
      observed_filename: [...new Set(records.map((r) => String(r.processField('path'))))],
      host_count: new Set(records.map((r) => r.processField('hostname'))).size,
      server_added_timestamp: new Date(Math.min(...records.map((r) => r.lastUpdateMs))).toISOString(),
      last_seen: new Date(last.lastUpdateMs).toISOString(),
      is_executable_image: true,
      os_type: String(last.processField('os_type')) === 'osx' ? 'OSX' : 'Windows',
    };
  });
}

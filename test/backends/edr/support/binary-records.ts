/**
 * Binary records as Carbon Black sends them, for the client's tests. Written
 * here from /work/shared/carbon-black-api.md ("Binary records"), not taken
 * from the simulator: the client and the simulator are separate readings of
 * the API, and a test that fed one the other's fixtures would prove nothing.
 */

/**
 * The recorded appid.sys row (Carbon Black Response 6.2, official SDK test
 * recordings, trimmed): Signed, a publisher and a sign time, but no
 * digsig_prog_name, digsig_issuer or digsig_subject key.
 */
export const appidRecord = {
  md5: 'C7F5CAE0B450BE875EEE0E6DDFA771FE',
  original_filename: 'appid.sys',
  digsig_result: 'Signed',
  signed: 'Signed',
  digsig_result_code: '0',
  digsig_publisher: 'Microsoft Corporation',
  digsig_sign_time: '2016-04-12T09:21:00Z',
  company_name: 'Microsoft Corporation',
  product_name: 'Microsoft\u00ae Windows\u00ae Operating System',
  observed_filename: ['c:\\windows\\system32\\drivers\\appid.sys'],
  host_count: 1,
  os_type: 'Windows',
  is_executable_image: true,
} as const;

export const appidMd5 = 'c7f5cae0b450be875eee0e6ddfa771fe';

/** What the client makes of appidRecord. */
export const appidParsed = {
  md5: appidMd5,
  digsigResult: 'Signed',
  publisher: 'Microsoft Corporation',
  issuer: undefined,
  subject: undefined,
  programName: undefined,
  signedAtMs: Date.UTC(2016, 3, 12, 9, 21, 0),
};

/** An unsigned record: the verdict keys only, every other digsig_* key absent (not null, not empty). */
export const unsignedRecord = {
  md5: '3D485DEFFE2F74D0C15F1CB23086F936',
  original_filename: 'tool.exe',
  digsig_result: 'Unsigned',
  signed: 'Unsigned',
  digsig_result_code: '2148204800',
  file_desc: '(unknown)',
  host_count: 3,
  os_type: 'Windows',
  is_executable_image: true,
} as const;

export const unsignedMd5 = '3d485deffe2f74d0c15f1cb23086f936';

export const unsignedParsed = {
  md5: unsignedMd5,
  digsigResult: 'Unsigned',
  publisher: undefined,
  issuer: undefined,
  subject: undefined,
  programName: undefined,
  signedAtMs: undefined,
};

/** A record with every signature detail, as integrations show them (`digsig_prog_name` "Microsoft Office"). */
export const fullRecord = {
  md5: '82A7BF2B1F51F1988BE571B8176AA545',
  digsig_result: 'Signed',
  signed: 'Signed',
  digsig_result_code: '0',
  digsig_publisher: 'Microsoft Corporation',
  digsig_issuer: 'Microsoft Code Signing PCA 2011',
  digsig_subject: 'Microsoft Corporation',
  digsig_prog_name: 'Microsoft Office',
  digsig_sign_time: '2019-08-01T17:02:33Z',
} as const;

export const fullMd5 = '82a7bf2b1f51f1988be571b8176aa545';

/** The binary-search envelope around `results`. */
export function binarySearchEnvelope(results: readonly object[], total: number = results.length) {
  return {
    terms: results.map((row) => `md5:${String((row as { md5?: unknown }).md5)}`),
    total_results: total,
    highlights: [],
    facets: {},
    results,
    elapsed: 0.021,
    start: 0,
  };
}

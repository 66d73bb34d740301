import { states, type PublisherState, type Reputation } from './states.js';

/**
 * The hand-written binaries of the Cloud simulator: one per combination of
 * signature states worth testing, each labelled by what it is (never by what
 * a client should conclude from it: the simulator does not know Signet's
 * rule). Tests import them as known data; `npm run simulator` prints them.
 *
 * Two come from recordings in the official Cloud SDK's unit-test fixtures:
 * the state list of `osBinary` is the one recorded for a Windows system file
 * (OS, SIGNED, TRUSTED, VERIFIED), and `unsignedRecorded` is the recorded
 * /usr/bin/bash row (hashes, path and its NOT_SIGNED state, no publisher
 * key). The other hashes are the md5 and sha256 of
 * `signet-cloud-simulator-fixture:<key>`: real digests of nothing in
 * particular, so they have the right shape and collide with nothing.
 */

/** What a query on a row's signature can see. */
export interface SignatureFacts {
  /** process_publisher; undefined when the row has no such key at all. */
  readonly publisher: readonly string[] | undefined;
  /** process_publisher_state, FILE_SIGNATURE_STATE_* values in alphabetical order. */
  readonly states: readonly PublisherState[];
}

export type DeviceOs = 'WINDOWS' | 'LINUX';

export interface CloudFixture extends SignatureFacts {
  readonly md5: string;
  readonly sha256: string;
  /** process_name: the full path, lower case. */
  readonly name: string;
  readonly reputation: Reputation;
  readonly os: DeviceOs;
  /** How many process rows ran this binary (on different devices or at different times). */
  readonly rows: number;
  /**
   * Rows whose signature facts differ from the binary's, by row index. Only
   * `disagreeingRows` has any: Cloud reports states per process row, so two
   * rows of one hash can disagree.
   */
  readonly divergentRows?: Readonly<Record<number, SignatureFacts>>;
  /**
   * When its rows reached the backend: row 0 `newestSeconds` before the
   * simulator started, each next row `spacingSeconds` earlier. Absent: a
   * day or more back, a fixture after another (see rows.ts).
   */
  readonly ages?: { readonly newestSeconds: number; readonly spacingSeconds: number };
  readonly description: string;
}

const MICROSOFT_WINDOWS = ['Microsoft Windows'] as const;

export const cloudFixtures = {
  osBinary: {
    md5: '55f47e93386c709eb573ae42938eaf63',
    sha256: 'd42982052248534749deca6b235f77602a92d3e4fb3aaf174b9dc96c1bf6f7a6',
    name: 'c:\\windows\\system32\\svchost.exe',
    publisher: MICROSOFT_WINDOWS,
    states: states('OS', 'SIGNED', 'TRUSTED', 'VERIFIED'),
    reputation: 'TRUSTED_WHITE_LIST',
    os: 'WINDOWS',
    rows: 3,
    description: 'A Windows system binary, with the state list recorded for one (OS, SIGNED, TRUSTED, VERIFIED)',
  },
  signedVerified: {
    md5: '6dbdb81cba022b4838175e52ee616195',
    sha256: 'fae3f4edfb5494ae719849faa9d4b02287959392ec63c6dd8a5b64a84bdea2f9',
    name: 'c:\\program files\\google\\chrome\\application\\chrome.exe',
    publisher: ['Google LLC'],
    states: states('SIGNED', 'VERIFIED'),
    reputation: 'COMMON_WHITE_LIST',
    os: 'WINDOWS',
    rows: 2,
    description: 'A third-party binary with a signature that verified',
  },
  signedVerifiedChainedTrusted: {
    md5: 'feaca6c0ff6817e194f427d860606804',
    sha256: '6271b991e7fdf6a8de302d430dd41674a0c4efe8cb1e9c7878f51f1fe37d6e93',
    name: 'c:\\program files\\zoom\\bin\\zoom.exe',
    publisher: ['Zoom Video Communications, Inc.'],
    states: states('SIGNED', 'VERIFIED', 'CHAINED', 'TRUSTED'),
    reputation: 'COMMON_WHITE_LIST',
    os: 'WINDOWS',
    rows: 2,
    description: 'A third-party binary signed, verified, chained to a trusted root',
  },
  catalogSigned: {
    md5: '094b6582effaf80cfdb0af3eca97e1a0',
    sha256: '021236b7cf67fb1f6a4e5f0eba27f31a865dd1a32ad58d91df5e4f075a2717f4',
    name: 'c:\\windows\\system32\\notepad.exe',
    publisher: MICROSOFT_WINDOWS,
    states: states('CATALOG_SIGNED', 'VERIFIED', 'OS'),
    reputation: 'TRUSTED_WHITE_LIST',
    os: 'WINDOWS',
    rows: 2,
    description: 'A Windows binary signed through a security catalog, not an embedded signature (no SIGNED state)',
  },
  signedUnverified: {
    md5: '75e94eafffb1b7c9b498f48cce81d2d6',
    sha256: 'e21503cab9c074669b65902c4991030370f3c502220962a09b21efda1800037b',
    name: 'c:\\users\\alice\\appdata\\local\\temp\\setup-helper.exe',
    publisher: ['Acme Tools Ltd'],
    states: states('SIGNED'),
    reputation: 'NOT_LISTED',
    os: 'WINDOWS',
    rows: 1,
    description: 'Carries a signature that was not verified',
  },
  signedChainedUnverified: {
    md5: 'd645145639db912c3e321f9a64489d9d',
    sha256: '52472cc3255130dd7baadc2db364341533f76fa8e1c3fbbbf1182da255cf0abb',
    name: 'c:\\program files\\contoso\\agent\\contoso-agent.exe',
    publisher: ['Contoso Build Services'],
    states: states('SIGNED', 'CHAINED'),
    reputation: 'NOT_LISTED',
    os: 'WINDOWS',
    rows: 1,
    description: 'Signed and chained, but not verified',
  },
  invalid: {
    md5: '8257c32f7bb20530cb945ca0d893301a',
    sha256: 'a28b83bc3cc53d4ac48f8559810983e65987a42247e199a4ceaca94a6916293b',
    name: 'c:\\users\\bob\\downloads\\invoice-viewer.exe',
    publisher: undefined,
    states: states('INVALID'),
    reputation: 'SUSPECT_MALWARE',
    os: 'WINDOWS',
    rows: 1,
    description: 'An invalid signature alone, no publisher key',
  },
  signedInvalid: {
    md5: '27343f36bc0e1d24e392f5e6a50bf2ff',
    sha256: '31a7a278b2982a78e353f202d34cd09bb67f63a19650cf8b64478546bc133680',
    name: 'c:\\program files (x86)\\legacy vpn\\vpnclient.exe',
    publisher: ['Legacy Networks Ltd'],
    states: states('SIGNED', 'INVALID'),
    reputation: 'NOT_LISTED',
    os: 'WINDOWS',
    rows: 1,
    description: 'Signed, and the signature is invalid (tampered or expired), publisher still named',
  },
  unsignedRecorded: {
    md5: '285044ad8f8b9322d0cc5e929e2cc18c',
    sha256: '5975d972eea6b1c53ef9a69452797439ed5bf63fae72e1780761ea1c2cb6976a',
    name: '/usr/bin/bash',
    publisher: undefined,
    states: states('NOT_SIGNED'),
    reputation: 'NOT_LISTED',
    os: 'LINUX',
    rows: 2,
    description: 'The recorded unsigned Linux binary: NOT_SIGNED, no publisher key',
  },
  unknownState: {
    md5: 'b9dcbf5aa7fce7d3af5994a17468fd47',
    sha256: 'd579094d59ed2496bd885cb7bad0253c277bebebe22d1dcc7c22416312be93d5',
    name: 'c:\\programdata\\vendor\\updater.exe',
    publisher: [],
    states: states('UNKNOWN'),
    reputation: 'NOT_LISTED',
    os: 'WINDOWS',
    rows: 1,
    description: 'The sensor could not tell (UNKNOWN), publisher an empty list',
  },
  emptyStates: {
    md5: '4e48d83137d811ebbaa09efb9bcc1ad1',
    sha256: '06161d5064b9c3aad5224766a99486d31b03aa3f9eb7ec7876fb59b21302bda7',
    name: '/opt/tools/bin/scanner',
    publisher: [],
    states: states(),
    reputation: 'NOT_LISTED',
    os: 'LINUX',
    rows: 1,
    description: 'An empty state list and an empty publisher list',
  },
  trustedOnly: {
    md5: '5ea83e7b3cd05b29ec81d6dae74f917a',
    sha256: '0d057614dcc960e59c0e1f21063293b6acc8a16d5c382fd56b7d802ce4f1e75c',
    name: 'c:\\program files\\internal\\it-tool.exe',
    publisher: undefined,
    states: states('TRUSTED'),
    reputation: 'LOCAL_WHITE',
    os: 'WINDOWS',
    rows: 1,
    description: 'TRUSTED alone: no signature state at all, no publisher key',
  },
  disagreeingRows: {
    md5: '78b12932aea6aa501416de0da1685c13',
    sha256: 'e15b8f3c0d2f5e1e7685464cd65e9bcbd0281ab20067ce1384315ce4beb8d2bc',
    name: 'c:\\program files\\example\\example.exe',
    publisher: ['Example Corp'],
    states: states('SIGNED', 'VERIFIED'),
    reputation: 'ADAPTIVE_WHITE_LIST',
    os: 'WINDOWS',
    rows: 2,
    divergentRows: { 1: { publisher: undefined, states: states('NOT_SIGNED') } },
    description: 'Two rows of one hash that disagree: row 0 SIGNED and VERIFIED, row 1 NOT_SIGNED without a publisher',
  },
  popular: {
    md5: '908a34c590a90e90bd3db2d2a0414f91',
    sha256: '33b1bf53aca2f6ede6931a142c063c9cc2174ed1ce6b26f11f2897013790a8af',
    name: 'c:\\program files\\microsoft office\\root\\office16\\outlook.exe',
    publisher: ['Microsoft Corporation'],
    states: states('SIGNED', 'VERIFIED'),
    reputation: 'COMMON_WHITE_LIST',
    os: 'WINDOWS',
    rows: 2500,
    // Newer than every other fixture's rows: with the default sort (newest first) a batch that includes it gets pages of it alone.
    ages: { newestSeconds: 60, spacingSeconds: 20 },
    description:
      'A signed, verified binary that ran 2,500 times across 500 devices, more recently than any other: it alone fills pages of rows',
  },
} as const satisfies Record<string, CloudFixture>;

export type CloudFixtureKey = keyof typeof cloudFixtures;

/** A hash pair that no row carries: a search for either finds nothing. */
export const unseenFixture = {
  md5: '83645320beb8ba6e2e0334ecd834ae72',
  sha256: 'a0742169e4678b0e21a332cd63bab9d7ae72c794d58831a744b0462663da5b05',
  name: 'c:\\users\\public\\dropper.exe',
  description: 'Never seen by any sensor: no process row has these hashes',
} as const;

/** The fixtures in a fixed order (the order of `cloudFixtures`); their rows come in this order in the data set. */
export const CLOUD_FIXTURE_LIST: readonly (readonly [CloudFixtureKey, CloudFixture])[] = Object.entries(cloudFixtures) as [
  CloudFixtureKey,
  CloudFixture,
][];

/** The signature facts row k of a fixture carries. */
export function fixtureRowFacts(fixture: CloudFixture, k: number): SignatureFacts {
  return fixture.divergentRows?.[k] ?? fixture;
}

import { indexOfHead, saltedHex, saltedMix } from './hash-mix.js';
import type { BinaryEntry, BinaryFileInfo, BinarySigning, DigsigResult, ProcessRow, ProcessRowKey, SearchRecord } from './records.js';

/**
 * A generated population of processes for load tests and benchmarks: entry i
 * is one process row of one binary, derived from i alone. Nothing is stored
 * and nothing is built: the md5 is an invertible function of i, so a lookup by
 * md5 decodes i from it in O(1), and a population of millions costs no start-up
 * time or memory.
 *
 * Entry i:
 *   md5           32 random-looking lowercase hex digits (an md5's shape, not
 *                 an md5 of anything): the first 8 are a 32-bit bijective mix of
 *                 i, the other 24 a further mix of those that acts as a checksum
 *   process_name  `proc-${i}.exe`
 *   signing       drawn from a second hash of i by the shares in
 *                 POPULATION_SHARES: mostly Signed (with the program name
 *                 `Proc-${i}.exe`, which the seed join finds, with a vendor's
 *                 product name, which it misses, or with none at all), a share
 *                 Unsigned, and a little of every other digsig_result.
 *                 Publishers, issuers and subjects come from a few vendors.
 *
 * `unseenMd5(i)` gives md5s of the same shape that have no record at all.
 */

export const MAX_POPULATION = 20_000_000;

// The md5's salts (hash-mix.ts): the head's, and the three check words'. cloud/population.ts's md5s
// never equal these because its first check salt differs from CHECK_SALTS[0]; keep it so.
const INDEX_SALT = 0x5167e75a; // keeps entry 0 from mapping to 0
const CHECK_SALTS = [0x9e3779b9, 0x7f4a7c15, 0x94d049bb] as const;

export function populationMd5(i: number): string {
  return saltedHex(i, INDEX_SALT, CHECK_SALTS);
}

/** The index whose populationMd5 this is (any case), or -1; ignores the population size. */
export function populationIndexOf(md5: string): number {
  if (!/^[0-9a-f]{32}$/iu.test(md5)) return -1;
  const i = indexOfHead(md5, INDEX_SALT);
  return i < MAX_POPULATION && populationMd5(i) === md5.toLowerCase() ? i : -1;
}

// A second family of hashes of i, independent of the md5's, for the entry's attributes.
const KIND_SALT = 0x2545f491;
const DETAIL_SALT = 0x6a09e667;
const TIME_SALT = 0x3c6ef372;
// The last word of an unseen md5 uses this salt instead of CHECK_SALTS[2], so it never passes the check.
const UNSEEN_SALT = 0xa54ff53a;

/**
 * What kind of binary entry i is. Shares are per mille of the population, in
 * this order (the first band is the shares' first 300 of 1000, and so on):
 *
 * | kind              | digsig_result     | per mille | program name                      |
 * | ----------------- | ----------------- | --------- | --------------------------------- |
 * | signed-name       | Signed            | 300       | `Proc-${i}.exe` (the join finds)  |
 * | signed-other      | Signed            | 300       | a vendor product ("Google Chrome") |
 * | signed-none       | Signed            | 200       | none (like Microsoft drivers)      |
 * | unsigned          | Unsigned          | 120       | none, no signing data at all       |
 * | expired           | Expired           | 25        | half `Proc-${i}.exe`, half product |
 * | bad-signature     | Bad Signature     | 10        | the same                           |
 * | invalid-signature | Invalid Signature | 10        | the same                           |
 * | invalid-chain     | Invalid Chain     | 10        | the same                           |
 * | untrusted-root    | Untrusted Root    | 10        | the same                           |
 * | explicit-distrust | Explicit Distrust | 5         | the same                           |
 * | unknown-result    | (Unknown)         | 10        | none, no signing data at all       |
 */
export const POPULATION_SHARES: readonly { result: DigsigResult; programName: 'name' | 'other' | 'none' | 'mixed'; perMille: number }[] = [
  { result: 'Signed', programName: 'name', perMille: 300 },
  { result: 'Signed', programName: 'other', perMille: 300 },
  { result: 'Signed', programName: 'none', perMille: 200 },
  { result: 'Unsigned', programName: 'none', perMille: 120 },
  { result: 'Expired', programName: 'mixed', perMille: 25 },
  { result: 'Bad Signature', programName: 'mixed', perMille: 10 },
  { result: 'Invalid Signature', programName: 'mixed', perMille: 10 },
  { result: 'Invalid Chain', programName: 'mixed', perMille: 10 },
  { result: 'Untrusted Root', programName: 'mixed', perMille: 10 },
  { result: 'Explicit Distrust', programName: 'mixed', perMille: 5 },
  { result: '(Unknown)', programName: 'none', perMille: 10 },
];

/** A signer of population binaries. The strings repeat across binaries, as they do on a real server. */
interface Vendor {
  publisher: string;
  issuer: string;
  subject: string;
  company: string;
  products: readonly string[];
}

const VENDORS: readonly Vendor[] = [
  {
    publisher: 'Microsoft Corporation',
    issuer: 'Microsoft Code Signing PCA 2011',
    subject: 'Microsoft Corporation',
    company: 'Microsoft Corporation',
    products: ['Microsoft Office', 'Microsoft Edge', 'Microsoft Teams', 'Microsoft OneDrive'],
  },
  {
    publisher: 'Microsoft Windows',
    issuer: 'Microsoft Windows Production PCA 2011',
    subject: 'Microsoft Windows',
    company: 'Microsoft Corporation',
    products: ['Microsoft Windows', 'Microsoft® Windows® Operating System'],
  },
  {
    publisher: 'Google LLC',
    issuer: 'DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1',
    subject: 'Google LLC',
    company: 'Google LLC',
    products: ['Google Chrome', 'Google Update'],
  },
  {
    publisher: 'Adobe Inc.',
    issuer: 'DigiCert SHA2 Assured ID Code Signing CA',
    subject: 'Adobe Inc.',
    company: 'Adobe Inc.',
    products: ['Adobe Acrobat Reader', 'Adobe Creative Cloud'],
  },
  {
    publisher: 'Oracle America, Inc.',
    issuer: 'DigiCert EV Code Signing CA (SHA2)',
    subject: 'Oracle America, Inc.',
    company: 'Oracle Corporation',
    products: ['Java(TM) Platform SE 8'],
  },
  {
    publisher: 'Mozilla Corporation',
    issuer: 'DigiCert SHA2 Assured ID Code Signing CA',
    subject: 'Mozilla Corporation',
    company: 'Mozilla Corporation',
    products: ['Firefox', 'Mozilla Maintenance Service'],
  },
  {
    publisher: 'Zoom Video Communications, Inc.',
    issuer: 'DigiCert EV Code Signing CA (SHA2)',
    subject: 'Zoom Video Communications, Inc.',
    company: 'Zoom Video Communications, Inc.',
    products: ['Zoom Meetings'],
  },
  {
    publisher: 'Citrix Systems, Inc.',
    issuer: 'Symantec Class 3 SHA256 Code Signing CA',
    subject: 'Citrix Systems, Inc.',
    company: 'Citrix Systems, Inc.',
    products: ['Citrix Workspace'],
  },
  {
    publisher: 'Intel Corporation',
    issuer: 'DigiCert SHA2 Assured ID Code Signing CA',
    subject: 'Intel Corporation',
    company: 'Intel Corporation',
    products: ['Intel(R) Graphics Driver', 'Intel(R) Management Engine Components'],
  },
  {
    publisher: 'VMware, Inc.',
    issuer: 'DigiCert SHA2 Assured ID Code Signing CA',
    subject: 'VMware, Inc.',
    company: 'VMware, Inc.',
    products: ['VMware Tools'],
  },
];

const DAY_MS = 86_400_000;
// Valid signatures are from 2015 to 2023; expired ones from 2008 to 2014.
const SIGN_FROM_MS = Date.UTC(2015, 0, 1);
const SIGN_SPAN_DAYS = 9 * 365;
const EXPIRED_FROM_MS = Date.UTC(2008, 0, 1);
const EXPIRED_SPAN_DAYS = 7 * 365;

interface EntryTraits {
  result: DigsigResult;
  /** undefined: the signature has no program name (or there is no signature). */
  programName: string | undefined;
  vendor: Vendor | undefined;
  product: string | undefined;
  detail: number;
  time: number;
}

function traits(i: number): EntryTraits {
  const draw = saltedMix(i, KIND_SALT) % 1000;
  const detail = saltedMix(i, DETAIL_SALT);
  const time = saltedMix(i, TIME_SALT);
  let threshold = 0;
  let band = POPULATION_SHARES[POPULATION_SHARES.length - 1] as (typeof POPULATION_SHARES)[number];
  for (const share of POPULATION_SHARES) {
    threshold += share.perMille;
    if (draw < threshold) {
      band = share;
      break;
    }
  }
  const hasSignature = band.result !== 'Unsigned' && band.result !== '(Unknown)';
  const vendor = hasSignature ? (VENDORS[detail % VENDORS.length] as Vendor) : undefined;
  const products = vendor?.products;
  const product = products === undefined ? undefined : (products[(detail >>> 8) % products.length] as string);
  const byName = band.programName === 'name' || (band.programName === 'mixed' && (detail >>> 16) % 2 === 0);
  const byProduct = band.programName === 'other' || (band.programName === 'mixed' && !byName);
  const programName = byName ? `Proc-${i}.exe` : byProduct ? product : undefined;
  return { result: band.result, programName, vendor, product, detail, time };
}

function signTime(result: DigsigResult, time: number): string {
  const [from, span] = result === 'Expired' ? [EXPIRED_FROM_MS, EXPIRED_SPAN_DAYS] : [SIGN_FROM_MS, SIGN_SPAN_DAYS];
  // Whole minutes, as records show them.
  const ms = from + (time % span) * DAY_MS + ((time >>> 12) % 1440) * 60_000;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/u, 'Z');
}

/** The digsig_result of entry i. */
export function populationDigsigResult(i: number): DigsigResult {
  return traits(i).result;
}

/** True when entry i's digsig_result is exactly `Signed`. */
export function populationIsSigned(i: number): boolean {
  return populationDigsigResult(i) === 'Signed';
}

export function populationName(i: number): string {
  return `proc-${i}.exe`;
}

/** The program name in entry i's signature, or undefined when it has none. */
export function populationProgName(i: number): string | undefined {
  return traits(i).programName;
}

/**
 * An md5 in the population's shape that no entry has: the server never saw
 * it. Distinct for each i, never a population md5 (its last word fails the
 * check) and never one of the fixture md5s (a test checks that).
 */
export function unseenMd5(i: number): string {
  return saltedHex(i, INDEX_SALT, [CHECK_SALTS[0], CHECK_SALTS[1], UNSEEN_SALT]);
}

export interface PopulationEntry {
  index: number;
  md5: string;
  name: string;
  /** True when digsig_result is exactly `Signed` (what the official SDK counts as signed). */
  signed: boolean;
  /** The program name in the signature, when it has one (the same as programName). */
  progName?: string;
  /** `signed` exactly when digsig_result is `Signed`, otherwise `unsigned` (every entry has a record). */
  verdict: 'signed' | 'unsigned';
  digsigResult: DigsigResult;
  programName: string | undefined;
  /** Whether the seed join `process_md5:<md5> digsig_prog_name:"proc-<i>.exe"` finds the entry's row. */
  nameMatchesSignature: boolean;
}

/** Everything a test or the bench needs to know about entry i, without a simulator. */
export function populationEntry(i: number): PopulationEntry {
  const { result, programName } = traits(i);
  const signed = result === 'Signed';
  return {
    index: i,
    md5: populationMd5(i),
    name: populationName(i),
    signed,
    ...(programName === undefined ? {} : { progName: programName }),
    verdict: signed ? 'signed' : 'unsigned',
    digsigResult: result,
    programName,
    // `Proc-${i}.exe` tokenizes like the process name; no vendor product contains "proc <i> exe".
    nameMatchesSignature: programName === `Proc-${i}.exe`,
  };
}

// Entry 0 was last updated at this instant; entry i, i seconds earlier.
const BASE_LAST_UPDATE_MS = Date.parse('2024-01-01T00:00:00.000Z');
// A process row starts this long before its last update.
const RUN_MS = 60_000;

function populationSigning(i: number): BinarySigning {
  const t = traits(i);
  if (t.vendor === undefined) return { result: t.result };
  const signing: BinarySigning = { result: t.result };
  if (t.programName !== undefined) signing.progName = t.programName;
  signing.publisher = t.vendor.publisher;
  // Half the binaries without a program name are like the recorded Microsoft driver: publisher and sign time only.
  if (t.programName !== undefined || (t.detail >>> 20) % 2 === 0) {
    signing.issuer = t.vendor.issuer;
    signing.subject = t.vendor.subject;
  }
  signing.signTime = signTime(t.result, t.time);
  return signing;
}

function populationFile(i: number): BinaryFileInfo {
  const t = traits(i);
  const detail = t.detail;
  const file: BinaryFileInfo = {
    is64bit: (detail >>> 24) % 4 !== 0,
    isExecutableImage: true,
    size: 16_384 + ((t.time >>> 4) % 16_000) * 512,
  };
  // Binaries without a signature have a version resource only half the time.
  if (t.vendor === undefined && (detail >>> 28) % 2 === 1) return file;
  const version = `${1 + (detail % 23)}.${(detail >>> 5) % 10}.${(detail >>> 9) % 10_000}.0`;
  file.originalFilename = populationName(i);
  file.internalName = `proc-${i}`;
  file.companyName = t.vendor?.company ?? 'Population Software';
  file.productName = t.product ?? `Proc ${i}`;
  file.fileVersion = version;
  file.productVersion = version;
  file.fileDesc = `${t.product ?? 'Population'} worker ${i % 8}`;
  if (t.vendor !== undefined) file.legalCopyright = `© ${t.vendor.company}. All rights reserved.`;
  return file;
}

/** Entry i's binary: its signing and file facts, computed on demand. */
export class PopulationBinary implements BinaryEntry {
  private cachedMd5: string | undefined;
  private cachedSigning: BinarySigning | undefined;
  private cachedFile: BinaryFileInfo | undefined;
  private cachedProcesses: readonly SearchRecord[] | undefined;

  constructor(readonly index: number) {}

  get md5(): string {
    this.cachedMd5 ??= populationMd5(this.index);
    return this.cachedMd5;
  }

  get signing(): BinarySigning {
    this.cachedSigning ??= populationSigning(this.index);
    return this.cachedSigning;
  }

  get file(): BinaryFileInfo {
    this.cachedFile ??= populationFile(this.index);
    return this.cachedFile;
  }

  get processes(): readonly SearchRecord[] {
    this.cachedProcesses ??= [new PopulationRecord(this.index)];
    return this.cachedProcesses;
  }

  get lastSeenMs(): number {
    return BASE_LAST_UPDATE_MS - this.index * 1000;
  }

  get firstSeenMs(): number {
    return this.lastSeenMs - RUN_MS;
  }
}

/** A population entry as a search record; the md5 and the full row are computed only on demand. */
export class PopulationRecord implements SearchRecord {
  readonly lastUpdateMs: number;
  private cachedMd5: string | undefined;
  private cachedSigning: BinarySigning | undefined;

  constructor(readonly index: number) {
    this.lastUpdateMs = BASE_LAST_UPDATE_MS - index * 1000;
  }

  get md5(): string {
    this.cachedMd5 ??= populationMd5(this.index);
    return this.cachedMd5;
  }

  get signing(): BinarySigning {
    this.cachedSigning ??= populationSigning(this.index);
    return this.cachedSigning;
  }

  processField(key: ProcessRowKey): ProcessRow[ProcessRowKey] {
    // The cheap fields a scan is likely to test, without building the row.
    switch (key) {
      case 'process_name':
        return populationName(this.index);
      case 'process_md5':
        return this.md5;
      case 'hostname':
        return `pop-host-${this.index % 1000}`;
      case 'username':
        return `pop-user-${this.index % 250}`;
      case 'last_update':
        return new Date(this.lastUpdateMs).toISOString();
      default:
        return this.toRow()[key];
    }
  }

  toRow(): ProcessRow {
    const i = this.index;
    const lastUpdate = new Date(this.lastUpdateMs).toISOString();
    const hex = i.toString(16).padStart(12, '0');
    const path = `c:\\program files\\population\\proc-${i}.exe`;
    return {
      childproc_count: i % 3,
      cmdline: `"${path}" --worker ${i % 8}`,
      comms_ip: -1062698981 + (i % 200),
      crossproc_count: 0,
      current_segment: 0,
      emet_config: '',
      emet_count: 0,
      filemod_count: i % 17,
      filtering_known_dlls: false,
      group: 'Population Group',
      host_type: 'workstation',
      hostname: `pop-host-${i % 1000}`,
      id: (-4000000000000000000 + i).toString(),
      interface_ip: 0,
      last_update: lastUpdate,
      modload_count: 20 + (i % 40),
      netconn_count: i % 5,
      os_type: 'windows',
      parent_md5: '00000000000000000000000000000000',
      parent_name: 'services.exe',
      parent_pid: 600 + (i % 100),
      parent_unique_id: `000003e8-0000-0258-01da-${hex}-00000001`,
      path,
      process_md5: this.md5,
      process_name: populationName(i),
      process_pid: 1000 + (i % 60000),
      processblock_count: 0,
      regmod_count: i % 11,
      segment_id: 1,
      sensor_id: 1000 + (i % 1000),
      start: new Date(this.lastUpdateMs - RUN_MS).toISOString(),
      terminated: i % 2 === 0,
      unique_id: `000003e8-0000-1000-01da-${hex}-00000001`,
      username: `pop-user-${i % 250}`,
    };
  }
}

const NAME_PATTERN = /^proc-(0|[1-9]\d{0,8})\.exe$/iu;

/** Finds entries of a population of `size` by md5 or by process name, in O(1) and with nothing stored. */
export class PopulationIndex {
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_POPULATION) {
      throw new RangeError(`population must be an integer from 0 to ${MAX_POPULATION}`);
    }
  }

  /** The entry whose md5 this is (any case), or -1. */
  indexOfMd5(md5: string): number {
    const i = populationIndexOf(md5);
    return i < this.size ? i : -1;
  }

  /** The entry whose process name this is (case-insensitive), or -1. */
  indexOfName(name: string): number {
    const match = NAME_PATTERN.exec(name);
    if (match === null) return -1;
    const i = Number(match[1]);
    return i < this.size ? i : -1;
  }
}

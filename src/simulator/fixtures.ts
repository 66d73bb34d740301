import type { BinarySigning, DigsigResult, ProcessRow } from './records.js';

/**
 * The hand-written part of the simulator's data: a few binaries chosen to show
 * each behaviour of the signing lookup, including the ones that surprise people
 * (a signed binary the name join misses, an expired signature the name join
 * still finds). The demo prints `samples`; tests use them as known answers.
 *
 * The lookup under test is the seed query
 *   process_md5:<md5> digsig_prog_name:<name>
 * whose digsig_prog_name value is tokenized (see text-analysis.ts).
 */

export interface FixtureBinary {
  md5: string;
  signing: BinarySigning;
  /** Process rows that ran this binary; the first one is the most recent. */
  processes: ProcessRow[];
}

export interface Sample {
  md5: string;
  /** The process name a caller would look up (process_name of the rows). */
  name: string;
  /** True when the binary's digsig_result is `Signed`. */
  signed: boolean;
  /** The program name in the signature, when there is a signature. */
  progName?: string;
  digsigResult: DigsigResult;
  /** Whether `process_md5:<md5> digsig_prog_name:"<name>"` returns a row. */
  joinFindsRow: boolean;
  description: string;
}

let rowCounter = 0;

/** A row with plausible defaults; the tests only rely on the fields passed in. */
function row(fields: Partial<ProcessRow> & Pick<ProcessRow, 'process_md5' | 'process_name' | 'path' | 'last_update'>): ProcessRow {
  rowCounter += 1;
  const n = rowCounter.toString(16).padStart(12, '0');
  return {
    childproc_count: 0,
    cmdline: fields.path,
    comms_ip: -1062698981,
    crossproc_count: 0,
    current_segment: 0,
    emet_config: '',
    emet_count: 0,
    filemod_count: 2,
    filtering_known_dlls: false,
    group: 'Default Group',
    host_type: 'workstation',
    hostname: 'host002',
    id: `-${(7000000000000000000n + BigInt(rowCounter) * 7919n).toString()}`,
    interface_ip: 0,
    modload_count: 12,
    netconn_count: 0,
    os_type: 'windows',
    parent_md5: '000000000000000000000000000000',
    parent_name: 'explorer.exe',
    parent_pid: 4312,
    parent_unique_id: `0000001f-0000-10d8-01d3-ec2c${n.slice(-8)}-00000001`,
    process_pid: 5120 + rowCounter,
    processblock_count: 0,
    regmod_count: 0,
    segment_id: 1,
    sensor_id: 31,
    start: fields.last_update,
    terminated: true,
    unique_id: `0000001f-0000-1400-01d3-${n}-00000001`,
    username: 'user002',
    ...fields,
  };
}

/** The row printed in the seed blog post, verbatim (tests of the client read it as data). */
export const seedGitRow: ProcessRow = {
  childproc_count: 0,
  cmdline: '/usr/bin/git rev-list --left-right master...origin/master',
  comms_ip: -1062698981,
  crossproc_count: 0,
  current_segment: 0,
  emet_config: '',
  emet_count: 0,
  filemod_count: 0,
  filtering_known_dlls: false,
  group: 'MAC Devices Group',
  host_type: 'workstation',
  hostname: 'host001',
  id: '-8377683872379532238',
  interface_ip: 0,
  last_update: '2017-06-23T14:26:19.601Z',
  modload_count: 0,
  netconn_count: 0,
  os_type: 'osx',
  parent_md5: '000000000000000000000000000000',
  parent_name: 'Code Helper',
  parent_pid: 75463,
  parent_unique_id: '53f564bf-ce84-ce9d-0000-000000000001',
  path: '/usr/bin/git',
  process_md5: '82a7bf2b1f51f1988be571b8176aa545',
  process_name: 'git',
  process_pid: -1,
  processblock_count: 0,
  regmod_count: 0,
  segment_id: 1,
  sensor_id: 31,
  start: '2017-06-23T14:26:19.601Z',
  terminated: true,
  unique_id: '8bbc7ce7-aa4c-8c32-0000-000000000001',
  username: 'user001',
};

const MD5 = {
  git: '82a7bf2b1f51f1988be571b8176aa545',
  // The md5 of the unsigned example in the seed blog post.
  nc: '3d485deffe2f74d0c15f1cb23086f936',
  chrome: 'ceeb06eb47f6d0a30cc1581213bce2c9',
  powershell: '6d585231fe0fbc65d58ef9845d77fe9d',
  python: '20834c97c8291a10bfd3981c53fd413c',
  scanner: 'e7afdbd9679fc63ccdb82fe6154a2854',
  legacyVpn: '182e1f699b6e7f2ad4b470a726a97388',
  tampered: '1d0dd13761fe100e08e1bc8953d5460a',
  codeHelper: 'e01b4ab2258ddcf48b19b9c138ee3a34',
  tricky: '401b4f401bed540d779fd93400130ee5',
} as const;

const TRICKY_NAME = 'Tricky "Tool" (x86) OR c:\\bin\\*: v2';

const mac = { group: 'MAC Devices Group', os_type: 'osx', parent_name: 'Code Helper', hostname: 'host001', username: 'user001' };

export const fixtureBinaries: readonly FixtureBinary[] = [
  {
    md5: MD5.git,
    signing: {
      result: 'Signed',
      progName: 'git',
      publisher: 'Apple Inc.',
      issuer: 'Apple Code Signing Certification Authority',
      subject: 'Software Signing',
      signTime: '2017-03-28T04:14:06Z',
    },
    processes: [
      seedGitRow,
      row({
        ...mac,
        process_md5: MD5.git,
        process_name: 'git',
        path: '/usr/bin/git',
        cmdline: '/usr/bin/git status --porcelain',
        hostname: 'host003',
        username: 'user003',
        last_update: '2017-06-22T09:12:44.120Z',
      }),
    ],
  },
  {
    md5: MD5.nc,
    signing: { result: 'Unsigned' },
    processes: [
      row({
        ...mac,
        process_md5: MD5.nc,
        process_name: 'nc',
        path: '/usr/local/bin/nc',
        cmdline: 'nc -l 4444',
        last_update: '2017-06-23T02:01:13.004Z',
      }),
    ],
  },
  {
    md5: MD5.chrome,
    signing: {
      result: 'Signed',
      progName: 'Google Chrome',
      publisher: 'Google LLC',
      issuer: 'DigiCert SHA2 Assured ID Code Signing CA',
      subject: 'Google LLC',
      signTime: '2019-05-02T18:11:40Z',
    },
    processes: [
      row({
        process_md5: MD5.chrome,
        process_name: 'chrome.exe',
        path: 'c:\\program files (x86)\\google\\chrome\\application\\chrome.exe',
        cmdline: '"C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe" --type=renderer',
        last_update: '2019-05-10T16:40:02.311Z',
      }),
      row({
        process_md5: MD5.chrome,
        process_name: 'chrome.exe',
        path: 'c:\\program files (x86)\\google\\chrome\\application\\chrome.exe',
        hostname: 'host004',
        username: 'user004',
        last_update: '2019-05-09T08:03:51.907Z',
      }),
    ],
  },
  {
    md5: MD5.powershell,
    signing: {
      result: 'Signed',
      progName: 'Windows PowerShell',
      publisher: 'Microsoft Windows',
      issuer: 'Microsoft Windows Production PCA 2011',
      subject: 'Microsoft Windows',
      signTime: '2019-03-19T05:41:22Z',
    },
    processes: [
      row({
        process_md5: MD5.powershell,
        process_name: 'powershell.exe',
        path: 'c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe',
        cmdline: 'powershell.exe -NoProfile -ExecutionPolicy Bypass',
        parent_name: 'cmd.exe',
        last_update: '2019-05-11T11:22:33.444Z',
      }),
    ],
  },
  {
    md5: MD5.python,
    signing: {
      result: 'Signed',
      progName: 'Python',
      publisher: 'Python Software Foundation',
      issuer: 'Developer ID Certification Authority',
      subject: 'Developer ID Application: Python Software Foundation (BMM5U3QVKW)',
      signTime: '2023-10-02T14:03:09Z',
    },
    processes: [
      row({
        ...mac,
        process_md5: MD5.python,
        process_name: 'python',
        path: '/Library/Frameworks/Python.framework/Versions/3.12/bin/python',
        cmdline: 'python -m http.server',
        last_update: '2023-11-14T10:00:00.000Z',
      }),
    ],
  },
  {
    md5: MD5.scanner,
    signing: { result: 'Unsigned' },
    processes: [
      row({
        process_md5: MD5.scanner,
        process_name: 'custom-scanner.exe',
        path: 'c:\\users\\user002\\downloads\\custom-scanner.exe',
        last_update: '2020-01-15T07:30:00.000Z',
      }),
    ],
  },
  {
    md5: MD5.legacyVpn,
    signing: {
      result: 'Expired',
      progName: 'Legacy VPN',
      publisher: 'Legacy Networks Ltd',
      issuer: 'Symantec Class 3 SHA256 Code Signing CA',
      subject: 'Legacy Networks Ltd',
      signTime: '2014-02-11T12:00:00Z',
    },
    processes: [
      row({
        process_md5: MD5.legacyVpn,
        process_name: 'legacy-vpn',
        path: 'c:\\program files\\legacy vpn\\legacy-vpn',
        last_update: '2020-02-01T09:00:00.000Z',
      }),
    ],
  },
  {
    md5: MD5.tampered,
    signing: {
      result: 'Bad Signature',
      progName: 'Tampered',
      publisher: 'Contoso Software',
      issuer: 'DigiCert SHA2 Assured ID Code Signing CA',
      subject: 'Contoso Software',
      signTime: '2018-08-08T08:08:08Z',
    },
    processes: [
      row({ process_md5: MD5.tampered, process_name: 'tampered', path: 'c:\\temp\\tampered', last_update: '2020-03-03T03:03:03.000Z' }),
    ],
  },
  {
    md5: MD5.codeHelper,
    signing: {
      result: 'Signed',
      progName: 'Code Helper',
      publisher: 'Microsoft Corporation',
      issuer: 'Developer ID Certification Authority',
      subject: 'Developer ID Application: Microsoft Corporation (UBF8T346G9)',
      signTime: '2017-06-01T00:00:00Z',
    },
    processes: [
      row({
        ...mac,
        process_md5: MD5.codeHelper,
        process_name: 'Code Helper',
        path: '/Applications/Visual Studio Code.app/Contents/Frameworks/Code Helper.app/Contents/MacOS/Code Helper',
        parent_name: 'Electron',
        last_update: '2017-06-23T14:20:00.000Z',
      }),
    ],
  },
  {
    md5: MD5.tricky,
    signing: {
      result: 'Signed',
      progName: TRICKY_NAME,
      publisher: 'Quoting Torture Test Inc.',
      issuer: 'Signet Test CA',
      subject: 'Quoting Torture Test Inc.',
      signTime: '2021-01-01T00:00:00Z',
    },
    processes: [
      row({ process_md5: MD5.tricky, process_name: TRICKY_NAME, path: 'c:\\bin\\tricky.exe', last_update: '2021-02-02T02:02:02.000Z' }),
    ],
  },
];

export const samples = {
  signed: {
    md5: MD5.git,
    name: 'git',
    signed: true,
    progName: 'git',
    digsigResult: 'Signed',
    joinFindsRow: true,
    description: 'The seed blog post\'s git binary: signed, program name "git", so the seed query finds its row.',
  },
  unsigned: {
    md5: MD5.nc,
    name: 'nc',
    signed: false,
    digsigResult: 'Unsigned',
    joinFindsRow: false,
    description: "netcat, unsigned (the md5 of the seed post's unsigned example): the join returns results: [].",
  },
  nameDiffers: {
    md5: MD5.chrome,
    name: 'chrome.exe',
    signed: true,
    progName: 'Google Chrome',
    digsigResult: 'Signed',
    joinFindsRow: false,
    description:
      'chrome.exe is signed as "Google Chrome": digsig_prog_name:"chrome.exe" ([chrome, exe]) finds no row although ' +
      'the binary is signed; digsig_prog_name:chrome or digsig_result:Signed does.',
  },
  powershell: {
    md5: MD5.powershell,
    name: 'powershell.exe',
    signed: true,
    progName: 'Windows PowerShell',
    digsigResult: 'Signed',
    joinFindsRow: false,
    description: 'powershell.exe signed as "Windows PowerShell": another signed binary the name join misses.',
  },
  python: {
    md5: MD5.python,
    name: 'python',
    signed: true,
    progName: 'Python',
    digsigResult: 'Signed',
    joinFindsRow: true,
    description: 'python, signed as "Python" by the Python Software Foundation: the name join finds it.',
  },
  unsignedTool: {
    md5: MD5.scanner,
    name: 'custom-scanner.exe',
    signed: false,
    digsigResult: 'Unsigned',
    joinFindsRow: false,
    description: 'An unsigned in-house tool.',
  },
  expired: {
    md5: MD5.legacyVpn,
    name: 'legacy-vpn',
    signed: false,
    progName: 'Legacy VPN',
    digsigResult: 'Expired',
    joinFindsRow: true,
    description:
      'Expired signature named "Legacy VPN": the name join still finds a row (it only tests the name), ' +
      'while digsig_result:Signed does not.',
  },
  badSignature: {
    md5: MD5.tampered,
    name: 'tampered',
    signed: false,
    progName: 'Tampered',
    digsigResult: 'Bad Signature',
    joinFindsRow: true,
    description: 'A tampered binary (digsig_result "Bad Signature") whose signature still names "Tampered": the name join finds it.',
  },
  codeHelper: {
    md5: MD5.codeHelper,
    name: 'Code Helper',
    signed: true,
    progName: 'Code Helper',
    digsigResult: 'Signed',
    joinFindsRow: true,
    description: 'A name with a space: found only when the value is quoted or the space escaped.',
  },
  tricky: {
    md5: MD5.tricky,
    name: TRICKY_NAME,
    signed: true,
    progName: TRICKY_NAME,
    digsigResult: 'Signed',
    joinFindsRow: true,
    description: 'A name full of query syntax (quotes, backslashes, OR, *, parentheses, colons): found only when quoted correctly.',
  },
} as const satisfies Record<string, Sample>;

export type SampleName = keyof typeof samples;

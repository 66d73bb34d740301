import type { BinaryFileInfo, BinarySigning, DigsigResult, ProcessRow } from './records.js';

/**
 * The hand-written part of the simulator's data: a few binaries chosen to show
 * each behaviour of the signing lookup, including the ones that surprise people
 * (a signed binary the name join misses, an expired signature the name join
 * still finds). The demo prints `samples`; tests use them as known answers.
 *
 * The lookup under test is the seed query
 *   process_md5:<md5> digsig_prog_name:<name>
 * whose digsig_prog_name value is tokenized (see text-analysis.ts).
 *
 * Between them the fixtures carry every digsig_result (DIGSIG_RESULTS), a
 * Microsoft driver whose signature has no program name (so the name join can
 * never find it), a signed tool renamed to another program's name, and one
 * sample md5 that has no record at all.
 */

export interface FixtureBinary {
  md5: string;
  signing: BinarySigning;
  /** The file's version resource and image facts, as the binary record shows them. */
  file: BinaryFileInfo;
  /** Process rows that ran this binary; the first one is the most recent. */
  processes: ProcessRow[];
}

export interface Sample {
  md5: string;
  /** The process name a caller would look up (process_name of the rows). */
  name: string;
  /** True when the binary's digsig_result is `Signed` (false when there is no record). */
  signed: boolean;
  /** The program name in the signature, when the signature has one. */
  progName?: string;
  /** The record's digsig_result; undefined when the server has no record of the md5. */
  digsigResult: DigsigResult | undefined;
  /** `signed` exactly when digsig_result is `Signed`; `unknown` when there is no record. */
  verdict: 'signed' | 'unsigned' | 'unknown';
  /** Whether `process_md5:<md5> digsig_prog_name:"<name>"` returns a row; null when there is no record. */
  nameMatchesSignature: boolean | null;
  /** Whether `process_md5:<md5> digsig_prog_name:"<name>"` returns a row (false when there is no record). */
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
  // The Microsoft driver of the official SDK's recordings.
  appid: 'c7f5cae0b450be875eee0e6ddfa771fe',
  psexec: '758f19cb09e278f0d3a85464ca93d0f1',
  bootstrapHelper: 'c66c5caeb75e62b3f31d42ea52ae034e',
  vpnClient: 'bc279abec2892e70c668e568a4669ea8',
  buildAgent: '0e22614edfb4776723ec63ce7bed096b',
  netsvc: 'd40fc57ae1101b92e631ec4b2844efc3',
  installerStub: 'e90733b1036c76f78264d9f8867f3743',
  // No binary has this md5: the server has never seen it.
  unseen: '456c234f1bfada1805b36118282fed3e',
} as const;

const TRICKY_NAME = 'Tricky "Tool" (x86) OR c:\\bin\\*: v2';

const mac = { group: 'MAC Devices Group', os_type: 'osx', parent_name: 'Code Helper', hostname: 'host001', username: 'user001' };

// Mach-O binaries have no PE version resource: their records lack those keys (file_desc reads "(unknown)").
const machO = (size: number): BinaryFileInfo => ({ is64bit: true, isExecutableImage: true, size });
const MS_COPYRIGHT = '© Microsoft Corporation. All rights reserved.';
const WINDOWS_PRODUCT = 'Microsoft® Windows® Operating System';

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
    file: machO(1_587_264),
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
    file: machO(95_744),
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
    file: {
      originalFilename: 'chrome.exe',
      internalName: 'chrome_exe',
      companyName: 'Google LLC',
      productName: 'Google Chrome',
      fileVersion: '74.0.3729.131',
      productVersion: '74.0.3729.131',
      fileDesc: 'Google Chrome',
      legalCopyright: 'Copyright 2019 Google LLC. All rights reserved.',
      is64bit: false,
      isExecutableImage: true,
      size: 1_684_808,
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
    file: {
      originalFilename: 'PowerShell.EXE.MUI',
      internalName: 'POWERSHELL',
      companyName: 'Microsoft Corporation',
      productName: WINDOWS_PRODUCT,
      fileVersion: '10.0.17763.1 (WinBuild.160101.0800)',
      productVersion: '10.0.17763.1',
      fileDesc: 'Windows PowerShell',
      legalCopyright: MS_COPYRIGHT,
      is64bit: true,
      isExecutableImage: true,
      size: 448_000,
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
    file: machO(51_744),
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
    file: { is64bit: true, isExecutableImage: true, size: 241_664 },
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
    file: {
      originalFilename: 'legacy-vpn.exe',
      internalName: 'legacy-vpn',
      companyName: 'Legacy Networks Ltd',
      productName: 'Legacy VPN',
      fileVersion: '3.2.1.0',
      productVersion: '3.2',
      fileDesc: 'Legacy VPN Client',
      legalCopyright: 'Copyright (C) 2013 Legacy Networks Ltd',
      is64bit: false,
      isExecutableImage: true,
      size: 2_310_144,
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
    file: {
      originalFilename: 'tampered.exe',
      internalName: 'tampered',
      companyName: 'Contoso Software',
      productName: 'Contoso Tools',
      fileVersion: '1.0.0.0',
      productVersion: '1.0',
      fileDesc: 'Contoso Utility',
      is64bit: true,
      isExecutableImage: true,
      size: 77_312,
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
    file: machO(74_832),
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
    file: {
      originalFilename: 'tricky.exe',
      internalName: 'tricky',
      companyName: 'Quoting Torture Test Inc.',
      productName: TRICKY_NAME,
      fileVersion: '2.0.0.0',
      fileDesc: TRICKY_NAME,
      is64bit: true,
      isExecutableImage: true,
      size: 12_800,
    },
    processes: [
      row({ process_md5: MD5.tricky, process_name: TRICKY_NAME, path: 'c:\\bin\\tricky.exe', last_update: '2021-02-02T02:02:02.000Z' }),
    ],
  },
  {
    // As recorded from a real server: a publisher and a sign time, no program name, issuer or subject.
    md5: MD5.appid,
    signing: { result: 'Signed', publisher: 'Microsoft Corporation', signTime: '2016-04-12T09:21:00Z' },
    file: {
      originalFilename: 'appid.sys',
      internalName: 'appid.sys',
      companyName: 'Microsoft Corporation',
      productName: WINDOWS_PRODUCT,
      fileVersion: '10.0.14393.0 (rs1_release.160715-1616)',
      productVersion: '10.0.14393.0',
      fileDesc: 'AppID Driver',
      legalCopyright: MS_COPYRIGHT,
      is64bit: true,
      isExecutableImage: true,
      size: 176_640,
    },
    processes: [
      row({
        process_md5: MD5.appid,
        process_name: 'appid.sys',
        path: 'c:\\windows\\system32\\drivers\\appid.sys',
        parent_name: 'system',
        parent_pid: 4,
        username: 'SYSTEM',
        hostname: 'host005',
        last_update: '2018-03-01T06:00:00.000Z',
      }),
    ],
  },
  {
    // Sysinternals PsExec, validly signed, copied to c:\users\public and run as svchost.exe.
    md5: MD5.psexec,
    signing: {
      result: 'Signed',
      progName: 'Sysinternals PsExec',
      publisher: 'Microsoft Corporation',
      issuer: 'Microsoft Code Signing PCA 2011',
      subject: 'Microsoft Corporation',
      signTime: '2021-04-20T17:53:00Z',
    },
    file: {
      originalFilename: 'psexec.c',
      internalName: 'PsExec',
      companyName: 'Sysinternals - www.sysinternals.com',
      productName: 'Sysinternals PsExec',
      fileVersion: '2.34',
      productVersion: '2.34',
      fileDesc: 'Execute processes remotely',
      legalCopyright: 'Copyright (C) 2001-2021 Mark Russinovich',
      is64bit: false,
      isExecutableImage: true,
      size: 389_024,
    },
    processes: [
      row({
        process_md5: MD5.psexec,
        process_name: 'svchost.exe',
        path: 'c:\\users\\public\\svchost.exe',
        cmdline: 'svchost.exe \\\\10.0.4.17 -accepteula -s cmd.exe',
        parent_name: 'cmd.exe',
        last_update: '2022-09-14T22:41:07.512Z',
      }),
    ],
  },
  {
    md5: MD5.bootstrapHelper,
    signing: {
      result: 'Invalid Signature',
      progName: 'Bootstrap-Helper.exe',
      publisher: 'Fabrikam, Inc.',
      issuer: 'Sectigo RSA Code Signing CA',
      subject: 'Fabrikam, Inc.',
      signTime: '2020-07-07T12:30:00Z',
    },
    file: {
      originalFilename: 'bootstrap-helper.exe',
      internalName: 'bootstrap-helper',
      companyName: 'Fabrikam, Inc.',
      productName: 'Fabrikam Bootstrap',
      fileVersion: '4.1.0.12',
      productVersion: '4.1',
      fileDesc: 'Fabrikam Bootstrap Helper',
      is64bit: true,
      isExecutableImage: true,
      size: 524_288,
    },
    processes: [
      row({
        process_md5: MD5.bootstrapHelper,
        process_name: 'bootstrap-helper.exe',
        path: 'c:\\program files\\fabrikam\\bootstrap-helper.exe',
        last_update: '2020-08-01T10:00:00.000Z',
      }),
    ],
  },
  {
    md5: MD5.vpnClient,
    signing: {
      result: 'Invalid Chain',
      progName: 'VPN Client',
      publisher: 'Northwind Traders',
      issuer: 'Northwind Intermediate CA 2',
      subject: 'Northwind Traders',
      signTime: '2019-11-19T08:15:00Z',
    },
    file: {
      originalFilename: 'vpnclient.exe',
      internalName: 'vpnclient',
      companyName: 'Northwind Traders',
      productName: 'Northwind VPN Client',
      fileVersion: '5.0.2.1',
      productVersion: '5.0',
      fileDesc: 'VPN Client',
      is64bit: true,
      isExecutableImage: true,
      size: 3_145_728,
    },
    processes: [
      row({
        process_md5: MD5.vpnClient,
        process_name: 'vpnclient.exe',
        path: 'c:\\program files\\northwind\\vpnclient.exe',
        last_update: '2020-04-04T04:04:04.000Z',
      }),
    ],
  },
  {
    md5: MD5.buildAgent,
    signing: {
      result: 'Untrusted Root',
      progName: 'build-agent.exe',
      publisher: 'Acme Corp IT',
      issuer: 'Acme Corp Internal Root CA',
      subject: 'Acme Corp IT',
      signTime: '2022-01-10T16:45:00Z',
    },
    file: {
      originalFilename: 'build-agent.exe',
      internalName: 'build-agent',
      companyName: 'Acme Corp',
      productName: 'Acme Build Agent',
      fileVersion: '0.9.3.0',
      fileDesc: 'Acme Build Agent',
      is64bit: true,
      isExecutableImage: true,
      size: 9_437_184,
    },
    processes: [
      row({
        process_md5: MD5.buildAgent,
        process_name: 'build-agent.exe',
        path: 'c:\\ci\\build-agent.exe',
        username: 'svc-build',
        hostname: 'build01',
        last_update: '2022-02-02T02:22:22.000Z',
      }),
    ],
  },
  {
    md5: MD5.netsvc,
    signing: {
      result: 'Explicit Distrust',
      progName: 'netsvc.exe',
      publisher: 'Woodgrove Software',
      issuer: 'VeriSign Class 3 Code Signing 2010 CA',
      subject: 'Woodgrove Software',
      signTime: '2012-05-30T21:10:00Z',
    },
    file: {
      originalFilename: 'netsvc.exe',
      internalName: 'netsvc',
      companyName: 'Woodgrove Software',
      productName: 'Woodgrove Network Service',
      fileVersion: '1.2.0.0',
      fileDesc: 'Network Service Host',
      is64bit: false,
      isExecutableImage: true,
      size: 61_440,
    },
    processes: [
      row({
        process_md5: MD5.netsvc,
        process_name: 'netsvc.exe',
        path: 'c:\\windows\\temp\\netsvc.exe',
        parent_name: 'services.exe',
        username: 'SYSTEM',
        last_update: '2021-06-06T06:06:06.000Z',
      }),
    ],
  },
  {
    // A verdict outside the documented eight: the sensor could not tell.
    md5: MD5.installerStub,
    signing: { result: '(Unknown)' },
    file: { is64bit: false, isExecutableImage: true, size: 1_048_576 },
    processes: [
      row({
        process_md5: MD5.installerStub,
        process_name: 'installer-stub.exe',
        path: 'c:\\users\\user002\\appdata\\local\\temp\\installer-stub.exe',
        last_update: '2023-03-03T03:03:03.000Z',
      }),
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
    verdict: 'signed',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'The seed blog post\'s git binary: signed, program name "git", so the seed query finds its row.',
  },
  unsigned: {
    md5: MD5.nc,
    name: 'nc',
    signed: false,
    digsigResult: 'Unsigned',
    verdict: 'unsigned',
    nameMatchesSignature: false,
    joinFindsRow: false,
    description: "netcat, unsigned (the md5 of the seed post's unsigned example): the join returns results: [].",
  },
  nameDiffers: {
    md5: MD5.chrome,
    name: 'chrome.exe',
    signed: true,
    progName: 'Google Chrome',
    digsigResult: 'Signed',
    verdict: 'signed',
    nameMatchesSignature: false,
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
    verdict: 'signed',
    nameMatchesSignature: false,
    joinFindsRow: false,
    description: 'powershell.exe signed as "Windows PowerShell": another signed binary the name join misses.',
  },
  python: {
    md5: MD5.python,
    name: 'python',
    signed: true,
    progName: 'Python',
    digsigResult: 'Signed',
    verdict: 'signed',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'python, signed as "Python" by the Python Software Foundation: the name join finds it.',
  },
  unsignedTool: {
    md5: MD5.scanner,
    name: 'custom-scanner.exe',
    signed: false,
    digsigResult: 'Unsigned',
    verdict: 'unsigned',
    nameMatchesSignature: false,
    joinFindsRow: false,
    description: 'An unsigned in-house tool.',
  },
  expired: {
    md5: MD5.legacyVpn,
    name: 'legacy-vpn',
    signed: false,
    progName: 'Legacy VPN',
    digsigResult: 'Expired',
    verdict: 'unsigned',
    nameMatchesSignature: true,
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
    verdict: 'unsigned',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'A tampered binary (digsig_result "Bad Signature") whose signature still names "Tampered": the name join finds it.',
  },
  codeHelper: {
    md5: MD5.codeHelper,
    name: 'Code Helper',
    signed: true,
    progName: 'Code Helper',
    digsigResult: 'Signed',
    verdict: 'signed',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'A name with a space: found only when the value is quoted or the space escaped.',
  },
  tricky: {
    md5: MD5.tricky,
    name: TRICKY_NAME,
    signed: true,
    progName: TRICKY_NAME,
    digsigResult: 'Signed',
    verdict: 'signed',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'A name full of query syntax (quotes, backslashes, OR, *, parentheses, colons): found only when quoted correctly.',
  },
  microsoftDriver: {
    md5: MD5.appid,
    name: 'appid.sys',
    signed: true,
    digsigResult: 'Signed',
    verdict: 'signed',
    nameMatchesSignature: false,
    joinFindsRow: false,
    description:
      'A Microsoft driver signed with no program name, issuer or subject (as recorded from a real server): ' +
      'the name join finds no row under any name, while digsig_result:Signed does.',
  },
  renamed: {
    md5: MD5.psexec,
    name: 'svchost.exe',
    signed: true,
    progName: 'Sysinternals PsExec',
    digsigResult: 'Signed',
    verdict: 'signed',
    nameMatchesSignature: false,
    joinFindsRow: false,
    description:
      "Sysinternals PsExec, validly signed by Microsoft, renamed and run as svchost.exe: the caller's name does not match " +
      "the signature's program name, so the name join finds nothing; digsig_prog_name:psexec would.",
  },
  unseen: {
    md5: MD5.unseen,
    name: 'dropper.exe',
    signed: false,
    digsigResult: undefined,
    verdict: 'unknown',
    nameMatchesSignature: null,
    joinFindsRow: false,
    description: 'An md5 the server has never seen: no process row, no binary record (the summary answers 404).',
  },
  invalidSignature: {
    md5: MD5.bootstrapHelper,
    name: 'bootstrap-helper.exe',
    signed: false,
    progName: 'Bootstrap-Helper.exe',
    digsigResult: 'Invalid Signature',
    verdict: 'unsigned',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'digsig_result "Invalid Signature" with a program name matching the file name: the name join finds it anyway.',
  },
  invalidChain: {
    md5: MD5.vpnClient,
    name: 'vpnclient.exe',
    signed: false,
    progName: 'VPN Client',
    digsigResult: 'Invalid Chain',
    verdict: 'unsigned',
    nameMatchesSignature: false,
    joinFindsRow: false,
    description: 'digsig_result "Invalid Chain", signed as "VPN Client": neither join finds it.',
  },
  untrustedRoot: {
    md5: MD5.buildAgent,
    name: 'build-agent.exe',
    signed: false,
    progName: 'build-agent.exe',
    digsigResult: 'Untrusted Root',
    verdict: 'unsigned',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'Signed under an internal root the endpoint does not trust ("Untrusted Root"): the name join finds it.',
  },
  explicitDistrust: {
    md5: MD5.netsvc,
    name: 'netsvc.exe',
    signed: false,
    progName: 'netsvc.exe',
    digsigResult: 'Explicit Distrust',
    verdict: 'unsigned',
    nameMatchesSignature: true,
    joinFindsRow: true,
    description: 'Signed with an explicitly distrusted certificate ("Explicit Distrust"): the name join still finds it.',
  },
  unknownResult: {
    md5: MD5.installerStub,
    name: 'installer-stub.exe',
    signed: false,
    digsigResult: '(Unknown)',
    verdict: 'unsigned',
    nameMatchesSignature: false,
    joinFindsRow: false,
    description: 'digsig_result "(Unknown)", a value outside the documented eight, with no other signing data.',
  },
} as const satisfies Record<string, Sample>;

export type SampleName = keyof typeof samples;

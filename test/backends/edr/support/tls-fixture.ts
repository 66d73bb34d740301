import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Throwaway certificates made with the openssl CLI at test time, in a temp
 * directory: nothing secret is committed and nothing outlives the test run.
 * EC keys keep generation fast on a small CI machine.
 */
export interface TlsFixture {
  dir: string;
  /** Path of the private CA certificate (PEM), for `caFile`. */
  caFile: string;
  /** Leaf for 127.0.0.1 / localhost, issued by the CA. */
  leaf: { key: string; cert: string };
  /** Leaf issued by the CA but only for `cb.internal`: wrong name when reached as 127.0.0.1. */
  wrongName: { key: string; cert: string };
  /** Self-signed leaf for 127.0.0.1, no CA behind it. */
  selfSigned: { key: string; cert: string };
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(dir: string, name: string): string {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name], dir);
  return name;
}

function issueLeaf(dir: string, name: string, subjectAltName: string): void {
  newKey(dir, `${name}.key`);
  openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  writeFileSync(
    join(dir, `${name}.ext`),
    `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
}

export function createTlsFixture(): TlsFixture {
  const dir = mkdtempSync(join(tmpdir(), 'signet-cb-tls-'));
  newKey(dir, 'ca.key');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-sha256',
      '-subj',
      '/CN=Signet Test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  issueLeaf(dir, 'leaf', 'IP:127.0.0.1,DNS:localhost');
  issueLeaf(dir, 'wrong-name', 'DNS:cb.internal');
  newKey(dir, 'self.key');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'self.key',
      '-out',
      'self.pem',
      '-days',
      '2',
      '-sha256',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    dir,
  );
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    leaf: { key: read('leaf.key'), cert: read('leaf.pem') },
    wrongName: { key: read('wrong-name.key'), cert: read('wrong-name.pem') },
    selfSigned: { key: read('self.key'), cert: read('self.pem') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

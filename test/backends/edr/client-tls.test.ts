import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCarbonBlackClient, type CarbonBlackClient } from '../../../src/backends/edr/client.js';
import { createCarbonBlackDispatcher, type CarbonBlackDispatcherOptions } from '../../../src/backends/http/dispatcher.js';
import { startLoopbackServer, type LoopbackServer } from './support/loopback.js';
import { rejection, TOKEN } from './support/secrets.js';
import { createTlsFixture, type TlsFixture } from './support/tls-fixture.js';

/**
 * TLS against a real https server on 127.0.0.1, with a throwaway CA and
 * leaves made by openssl at test time. Verification is on by default; a
 * private CA is trusted through `caFile`; `insecure` turns verification off.
 */

const MD5 = '82a7bf2b1f51f1988be571b8176aa545';
const signedBody = JSON.stringify({ results: [{ process_md5: MD5, process_name: 'git' }], total_results: 1 });

let fixture: TlsFixture;
const servers: LoopbackServer[] = [];
const clients: CarbonBlackClient[] = [];

async function httpsServer(cert: { key: string; cert: string }): Promise<LoopbackServer> {
  const server = await startLoopbackServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(signedBody);
  }, cert);
  servers.push(server);
  return server;
}

function client(server: LoopbackServer, dispatcher?: CarbonBlackDispatcherOptions): CarbonBlackClient {
  const created = createCarbonBlackClient({
    baseUrl: server.url,
    token: TOKEN,
    joinField: 'digsig_prog_name',
    timeoutMs: 5000,
    ...(dispatcher === undefined ? {} : { dispatcher: createCarbonBlackDispatcher(dispatcher) }),
  });
  clients.push(created);
  return created;
}

beforeAll(() => {
  fixture = createTlsFixture();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => {
  fixture.cleanup();
});

describe('certificate verification', () => {
  it('refuses a server whose CA is not trusted (default dispatcher): CB_TLS_UNTRUSTED', async () => {
    const server = await httpsServer(fixture.leaf);
    const error = await rejection(client(server).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_TLS_UNTRUSTED');
    expect(error.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(error.transient).toBe(false);
    expect(server.requests()).toBe(0);
  });

  it('refuses a self-signed leaf: CB_TLS_UNTRUSTED', async () => {
    const server = await httpsServer(fixture.selfSigned);
    const error = await rejection(client(server, {}).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_TLS_UNTRUSTED');
    expect(error.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('trusts a private CA given as caFile', async () => {
    const server = await httpsServer(fixture.leaf);
    await expect(client(server, { caFile: fixture.caFile }).isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('still checks the name with a trusted CA: CB_TLS_UNTRUSTED for a certificate issued to another host', async () => {
    const server = await httpsServer(fixture.wrongName);
    const error = await rejection(client(server, { caFile: fixture.caFile }).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_TLS_UNTRUSTED');
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('skips verification with insecure: true', async () => {
    const server = await httpsServer(fixture.selfSigned);
    await expect(client(server, { insecure: true }).isSigned(MD5, 'git')).resolves.toBe(true);
    const wrongName = await httpsServer(fixture.wrongName);
    await expect(client(wrongName, { insecure: true }).isSigned(MD5, 'git')).resolves.toBe(true);
  });

  it('maps https spoken to a plain-http server to CB_UNREACHABLE, not to a verdict or TLS distrust', async () => {
    const plain = await startLoopbackServer((_req, res) => res.end(signedBody));
    servers.push(plain);
    const pretend = { ...plain, url: plain.url.replace('http:', 'https:') };
    const error = await rejection(client(pretend, { insecure: true }).isSigned(MD5, 'git'));
    expect(error.code).toBe('CB_UNREACHABLE');
  });
});

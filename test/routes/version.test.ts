import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

/** GET /version and signet_build_info: the same record, from the build's arguments or package.json. */
const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const open: Stack[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

describe('version and build information', () => {
  it("without build arguments: package.json's version, an unknown revision, this Node, the backend; no API key needed", async () => {
    const stack = await startStack({ env: { AUTH_DISABLED: 'false', API_KEYS: 'soar:version-test-key-0123456789abcdef' } });
    open.push(stack);
    const response = await stack.app.inject('/version');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ version: packageVersion, revision: 'unknown', node: process.version, backend: 'edr' });
  });

  it('reports what the image build set, and the metric carries the same labels', async () => {
    const stack = await startStack({ env: { SIGNET_VERSION: '9.8.7', SIGNET_REVISION: '0123abcd' } });
    open.push(stack);
    expect((await stack.app.inject('/version')).json()).toEqual({
      version: '9.8.7',
      revision: '0123abcd',
      node: process.version,
      backend: 'edr',
    });
    const metrics = (await stack.app.inject('/metrics')).body;
    expect(metrics).toContain(`signet_build_info{version="9.8.7",revision="0123abcd",node="${process.version}",backend="edr"} 1`);
  });

  it('the Dockerfile passes its VERSION and REVISION arguments to the running process', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runtime).toMatch(/ARG VERSION=/);
    expect(runtime).toMatch(/ARG REVISION=/);
    expect(runtime).toMatch(/SIGNET_VERSION="\$\{VERSION\}"/);
    expect(runtime).toMatch(/SIGNET_REVISION="\$\{REVISION\}"/);
  });
});

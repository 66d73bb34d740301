import { execFile } from 'node:child_process';
import { expect, it } from 'vitest';
import { describePython, examplePath, python } from './support.js';

/** The Splunk SOAR custom function that builds the lookup's location, run as SOAR would call it. */
function location(fileHash: string, processName: string): Promise<string> {
  const script = [
    'import importlib.util, json, sys',
    'spec = importlib.util.spec_from_file_location("signet_location", sys.argv[1])',
    'module = importlib.util.module_from_spec(spec)',
    'spec.loader.exec_module(module)',
    'print(json.dumps(module.signet_location(file_hash=sys.argv[2], process_name=sys.argv[3])))',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(
      python ?? 'python3',
      ['-c', script, examplePath('soar', 'splunk-soar', 'signet_location.py'), fileHash, processName],
      { env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1' } },
      (error, stdout) => (error ? reject(error) : resolve((JSON.parse(stdout) as { location: string }).location)),
    );
  });
}

describePython('examples/soar: the Splunk SOAR custom function signet_location', () => {
  it('percent-encodes the name (spaces, &, #, +, %) and the hash into /v1/signatures/<hash>?name=<name>', async () => {
    const built = await location('82a7bf2b1f51f1988be571b8176aa545', 'g++ & co #1 100%');
    expect(built).toBe('/v1/signatures/82a7bf2b1f51f1988be571b8176aa545?name=g%2B%2B%20%26%20co%20%231%20100%25');
    const url = new URL(built, 'https://signet.internal');
    expect(url.pathname).toBe('/v1/signatures/82a7bf2b1f51f1988be571b8176aa545');
    expect(url.searchParams.get('name')).toBe('g++ & co #1 100%');
  });
});

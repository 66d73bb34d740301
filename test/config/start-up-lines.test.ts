import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';

/** What the real process says at start: typos named, the settings in force (secrets redacted), a taken port explained. */
function run(env: Record<string, string>, untilLine: RegExp | 'exit'): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no line matching ${String(untilLine)} in:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      // A process expected to exit by itself is left alone: a SIGTERM could race its own exit code.
      if (untilLine !== 'exit' && untilLine.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

const base = {
  CB_URL: 'http://127.0.0.1:9',
  CB_API_TOKEN: 'edr-token-value-4711',
  API_KEYS: 'ops:start-up-key-0123456789abcdef',
  HOST: '127.0.0.1',
};

describe('start-up lines of the real process', () => {
  it('warns about a misspelt setting and lists the settings in force with secrets redacted', async () => {
    const { output } = await run({ ...base, PORT: '0', CB_TIMEOUT: '5' }, /Server listening|listening at/i);
    expect(output).toContain('CB_TIMEOUT is not a Signet setting and is ignored; did you mean CB_TIMEOUT_MS?');
    const settings = output.split('\n').find((line) => line.includes('settings in force'));
    expect(settings).toBeDefined();
    expect(settings).toContain('"CB_TIMEOUT_MS":3000');
    expect(output).not.toContain('edr-token-value-4711');
    expect(output).not.toContain('start-up-key-0123456789abcdef');
  });

  it('a taken port gets one line naming PORT, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const { output, code } = await run({ ...base, PORT: String(port) }, 'exit');
      expect(output).toContain(`cannot listen: 127.0.0.1:${port} is taken by another process; set PORT (or HOST) to another`);
      expect(code).not.toBe(0);
    } finally {
      blocker.close();
    }
  });
});

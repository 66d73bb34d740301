import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs the real entry point the way `npm start` does (through tsx, so no build is needed). */
function start(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe('start-up refuses a bad configuration', () => {
  it('without CB_URL: one line naming it and pointing to the demo, exit 1', () => {
    const { status, stderr } = start({ API_KEYS: 'ops:0123456789abcdef0123' });
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/CB_URL is required.*npm run demo/);
  });

  it('without API keys: names API_KEYS and API_KEYS_FILE, exit 1', () => {
    const { status, stderr } = start({ CB_URL: 'http://127.0.0.1:9', CB_API_TOKEN: 'token-value-xyz' });
    expect(status).toBe(1);
    expect(stderr).toContain('API_KEYS');
    expect(stderr).toContain('API_KEYS_FILE');
    expect(stderr).not.toContain('token-value-xyz');
  });
});

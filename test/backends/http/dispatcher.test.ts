import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createCarbonBlackDispatcher } from '../../../src/backends/http/dispatcher.js';

const dir = mkdtempSync(join(tmpdir(), 'signet-cb-dispatcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createCarbonBlackDispatcher', () => {
  it('returns an undici Agent, with or without options', async () => {
    for (const options of [{}, { connections: 4, keepAliveTimeoutMs: 1000 }, { insecure: true }]) {
      const agent = createCarbonBlackDispatcher(options);
      expect(agent).toBeInstanceOf(Agent);
      await agent.close();
    }
  });

  it('fails at creation, naming the path, when the CA file cannot be read', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => createCarbonBlackDispatcher({ caFile: missing })).toThrow(`cannot read Carbon Black CA file ${missing} (ENOENT)`);
  });

  it('fails at creation when the CA file holds no PEM certificate', () => {
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(() => createCarbonBlackDispatcher({ caFile: notPem })).toThrow(/holds no PEM certificate/);
  });
});

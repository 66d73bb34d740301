import { expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { describePython, runClient, useLiveSignet } from './support.js';

const signet = useLiveSignet();

describePython('examples/python: a binary Carbon Black has never seen', () => {
  it('prints verdict unknown (not unsigned) and exits 0: unknown is a verdict, not an error', async () => {
    const { env } = signet();
    const run = await runClient(['lookup', samples.unseen.md5, samples.unseen.name], env);

    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({
      md5: samples.unseen.md5,
      verdict: 'unknown',
      signed: false,
      signature: null,
      nameMatchesSignature: null,
    });
  });
});

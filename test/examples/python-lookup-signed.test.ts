import { expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { describePython, runClient, useLiveSignet } from './support.js';

const signet = useLiveSignet();

describePython('examples/python: a signed binary', () => {
  it('`lookup <md5> <name>` prints the verdict JSON, sends the key as a Bearer token and exits 0', async () => {
    const { env } = signet();
    const run = await runClient(['lookup', samples.signed.md5, samples.signed.name], env);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      md5: samples.signed.md5,
      name: samples.signed.name,
      verdict: 'signed',
      signed: true,
      signature: { status: 'Signed', programName: 'git' },
      nameMatchesSignature: true,
      basis: 'binary-record',
    });
  });

  it('percent-encodes the name, so one with spaces, &, # and + reaches Signet as it is', async () => {
    const { env } = signet();
    const name = 'Google Chrome & co #1 (x+y)';
    const run = await runClient(['lookup', samples.nameDiffers.md5, name], env);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ md5: samples.nameDiffers.md5, name, verdict: 'signed' });
  });
});

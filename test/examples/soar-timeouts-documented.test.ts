import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../../src/config.js';
import { readJson, readText } from './support.js';

/** The examples' READMEs state Signet's timeouts; they must be the ones the code defaults to. */
const defaultOf = (name: 'CB_TIMEOUT_MS' | 'CB_DEADLINE_MS'): number => environmentSchema.shape[name].parse(undefined) as number;
const seconds = (ms: number): string => `${ms / 1000} s`;

describe('examples/soar: timeouts', () => {
  const readme = readText('soar', 'README.md');

  it.each(['CB_TIMEOUT_MS', 'CB_DEADLINE_MS'] as const)('the README gives %s its current default', (name) => {
    expect(readme).toContain(`\`${name}\` (default ${defaultOf(name)} ms, ${seconds(defaultOf(name))})`);
  });

  it('examples/python/README.md gives CB_DEADLINE_MS its current default', () => {
    expect(readText('python', 'README.md')).toContain(`Signet's \`CB_DEADLINE_MS\` (${seconds(defaultOf('CB_DEADLINE_MS'))}\nby default)`);
  });

  it("the Splunk SOAR asset's timeout is above CB_DEADLINE_MS, so Signet answers before the step gives up", () => {
    const asset = readJson('soar', 'splunk-soar-http-asset.json') as { configuration: { timeout: number } };
    expect(asset.configuration.timeout * 1000).toBeGreaterThan(defaultOf('CB_DEADLINE_MS'));
  });
});

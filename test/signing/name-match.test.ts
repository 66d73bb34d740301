import { describe, expect, it } from 'vitest';
import { nameMatchesProgram, textWords } from '../../src/signing/name-match.js';

const matches = (programName: string, name: string) => nameMatchesProgram(programName, name);

describe("the seed's name test on a record's digsig_prog_name", () => {
  it('splits free text into lower-case words on anything that is not a letter or digit', () => {
    expect(textWords('Google Chrome')).toEqual(['google', 'chrome']);
    expect(textWords('chrome.exe')).toEqual(['chrome', 'exe']);
    expect(textWords('  --Tricky "Tool" (x86)--  ')).toEqual(['tricky', 'tool', 'x86']);
    expect(textWords('***')).toEqual([]);
    expect(textWords('')).toEqual([]);
    expect(textWords('Café Übersetzer')).toEqual(['café', 'übersetzer']);
  });

  it.each([
    ['git', 'git', true],
    ['git', 'GIT', true],
    ['Google Chrome', 'chrome', true],
    ['Google Chrome', 'chrome.exe', false],
    ['Google Chrome', 'google chrome', true],
    ['Google Chrome', 'chrome google', false],
    ['Windows PowerShell', 'powershell.exe', false],
    ['Windows PowerShell', 'PowerShell', true],
    ['Microsoft Office', 'office', true],
    ['Code Helper', 'Code Helper', true],
    ['Code Helper', 'code-helper', true],
    ['Legacy VPN', 'legacy-vpn', true],
    ['Sysinternals PsExec', 'svchost.exe', false],
    ['git', '***', false],
    ['git', '', false],
    ['git', 'gi', false],
    ['git', 'git OR *', false],
  ])('program %j, name %j: %s', (programName, name, expected) => {
    expect(matches(programName, name)).toBe(expected);
  });
});

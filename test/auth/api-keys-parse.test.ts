import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiKeySource } from '../../src/auth/api-keys.js';
import { ApiKeyError, parseApiKeys } from '../../src/auth/api-keys.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

function errorOf(text: string, source: ApiKeySource = 'API_KEYS_FILE'): string {
  try {
    parseApiKeys(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiKeyError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected an ApiKeyError');
}

describe('parsing API keys', () => {
  it('reads name:key[:role] lines, skipping blank lines and comments, with lookup as the default role', () => {
    const keys = parseApiKeys(
      [
        '# Signet callers',
        '',
        'soar:soar-key-0123456789abcdef',
        '   ',
        '  # indented comment',
        'ops.team_1:ops-key-0123456789abcdef:admin',
        'edr-sync:sync-key-#0123456789:lookup\r',
        '',
      ].join('\n'),
      'API_KEYS_FILE',
    );
    expect(keys.map(({ name, role }) => ({ name, role }))).toEqual([
      { name: 'soar', role: 'lookup' },
      { name: 'ops.team_1', role: 'admin' },
      { name: 'edr-sync', role: 'lookup' },
    ]);
    expect(keys[0]!.digest.equals(sha256('soar-key-0123456789abcdef'))).toBe(true);
    // A "#" inside a key is part of the key, not a comment.
    expect(keys[2]!.digest.equals(sha256('sync-key-#0123456789'))).toBe(true);
  });

  it('keeps only the digest, never the key', () => {
    const [key] = parseApiKeys('soar:soar-key-0123456789abcdef', 'API_KEYS');
    expect(Object.keys(key!).sort()).toEqual(['digest', 'name', 'role']);
    expect(JSON.stringify(key)).not.toContain('soar-key');
    expect(Object.isFrozen(key)).toBe(true);
  });

  it('reads comma-separated entries from API_KEYS, tolerating empty entries', () => {
    const keys = parseApiKeys('a:aaaaaaaaaaaaaaaa, b:bbbbbbbbbbbbbbbb:admin,', 'API_KEYS');
    expect(keys.map(({ name, role }) => `${name}/${role}`)).toEqual(['a/lookup', 'b/admin']);
  });

  it('accepts every printable ASCII character but "," and ":" in a key, and exactly 16 characters', () => {
    const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
      .filter((c) => c !== ':' && c !== ',')
      .join('');
    expect(parseApiKeys(`all:${printable}`, 'API_KEYS_FILE')).toHaveLength(1);
    expect(parseApiKeys('short:0123456789abcdef', 'API_KEYS_FILE')).toHaveLength(1);
    expect(parseApiKeys('n'.repeat(64) + ':0123456789abcdef', 'API_KEYS_FILE')).toHaveLength(1);
  });

  it('returns no keys for a file of comments', () => {
    expect(parseApiKeys('# nothing yet\n\n', 'API_KEYS_FILE')).toEqual([]);
  });

  describe('rejects, naming the line and never the key', () => {
    const secret = 'S3cretKeyMaterial-xyz';
    const cases: Array<{ what: string; text: string; line: number; message: RegExp; echoesName?: string }> = [
      { what: 'a line without a colon', text: `# c\n${secret}`, line: 2, message: /expected name:key or name:key:role/ },
      { what: 'too many colons', text: `svc:${secret}:x:admin`, line: 1, message: /expected name:key or name:key:role/ },
      { what: 'an empty name', text: `:${secret}`, line: 1, message: /the name must be 1 to 64 characters/ },
      { what: 'a name with a space', text: `my svc:${secret}`, line: 1, message: /the name must be/ },
      { what: 'a name of 65 characters', text: `${'n'.repeat(65)}:${secret}`, line: 1, message: /the name must be/ },
      { what: 'a name with a slash', text: `a/b:${secret}`, line: 1, message: /the name must be/ },
      { what: 'the reserved name anonymous', text: `anonymous:${secret}`, line: 1, message: /"anonymous" is reserved/ },
      { what: 'a key of 15 characters', text: 'svc:0123456789abcde', line: 1, message: /at least 16 characters/, echoesName: 'svc' },
      { what: 'an empty key', text: 'svc:', line: 1, message: /at least 16 characters/, echoesName: 'svc' },
      { what: 'a key with a space', text: `svc:${secret} more`, line: 1, message: /printable ASCII without spaces/, echoesName: 'svc' },
      { what: 'a key with a tab', text: `svc:${secret}\tmore`, line: 1, message: /printable ASCII without spaces/, echoesName: 'svc' },
      { what: 'a key with a non-ASCII letter', text: `svc:${secret}é`, line: 1, message: /printable ASCII/, echoesName: 'svc' },
      { what: 'a key with a control character', text: `svc:${secret}\u0007`, line: 1, message: /printable ASCII/, echoesName: 'svc' },
      { what: 'an unknown role', text: `svc:${secret}:root`, line: 1, message: /the role must be lookup or admin/, echoesName: 'svc' },
      { what: 'an empty role', text: `svc:${secret}:`, line: 1, message: /the role must be lookup or admin/, echoesName: 'svc' },
      {
        what: 'a role in upper case',
        text: `svc:${secret}:ADMIN`,
        line: 1,
        message: /the role must be lookup or admin/,
        echoesName: 'svc',
      },
      {
        what: 'a duplicate name',
        text: `svc:${secret}\n\nsvc:another-key-0123456789`,
        line: 3,
        message: /the name is already used on line 1/,
        echoesName: 'svc',
      },
      {
        what: 'a duplicate key',
        text: `first:${secret}\n# comment\nsecond:${secret}:admin`,
        line: 3,
        message: /the key is the same as on line 1 \(name "first"\)/,
        echoesName: 'second',
      },
    ];

    for (const { what, text, line, message, echoesName } of cases) {
      it(what, () => {
        const error = errorOf(text);
        expect(error).toMatch(new RegExp(`^API_KEYS_FILE is invalid: line ${line}\\b`));
        expect(error).toMatch(message);
        expect(error).not.toContain(secret);
        expect(error).not.toContain('0123456789');
        if (echoesName) expect(error).toContain(`(name "${echoesName}")`);
      });
    }

    it('a key split by a stray colon does not leak either half through the role', () => {
      const error = errorOf('svc:first-half-of-key:second-half-of-key');
      expect(error).not.toContain('first-half');
      expect(error).not.toContain('second-half');
    });

    it('numbers API_KEYS entries instead of lines', () => {
      const error = errorOf(`a:${secret},b:tooshort`, 'API_KEYS');
      expect(error).toMatch(/^API_KEYS is invalid: entry 2 \(name "b"\): the key must be at least 16 characters$/);
      expect(error).not.toContain('tooshort');
    });
  });
});

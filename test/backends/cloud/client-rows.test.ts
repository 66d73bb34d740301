import { afterEach, describe, expect, it } from 'vitest';
import type { CloudBinarySigning } from '../../../src/backends/cloud/client.js';
import { assessPublisherStates } from '../../../src/backends/cloud/publisher-state.js';
import {
  binary,
  closeClients,
  cloudClient,
  complete,
  createJob,
  expectNoPendingMocks,
  FAR,
  JOB_ID,
  OS_BINARY_STATES,
  results,
  row,
  STATE,
  UNSIGNED_STATES,
} from './support/cloud-fixtures.js';

/** What a search reports for each asked hash, from the rows read for it. */

const notepad = binary('notepad.exe');
const tool = binary('tool.exe');

afterEach(async () => {
  await closeClients();
  expectNoPendingMocks();
});

/** One job whose complete answer holds `rows`. */
async function search(hashes: string[], rows: object[]): Promise<Map<string, CloudBinarySigning>> {
  createJob().reply(200, { job_id: JOB_ID });
  results().reply(200, complete(rows));
  return await cloudClient().searchHashes(hashes, new AbortController().signal, FAR());
}

describe('hashes', () => {
  it.each(['sha256-first', 'md5-first'] as const)('reports md5 and sha256 of a row asked by md5 (process_hash %s)', async (hashOrder) => {
    const found = await search([notepad.md5], [row(notepad, OS_BINARY_STATES, { hashOrder })]);
    expect(found.get(notepad.md5)).toMatchObject({ md5: notepad.md5, sha256: notepad.sha256 });
  });

  it('matches a row by process_sha256 when process_hash holds only the md5', async () => {
    const found = await search([notepad.sha256], [row(notepad, UNSIGNED_STATES, { hashOrder: 'md5-only' })]);
    expect(found.get(notepad.sha256)).toMatchObject({ md5: notepad.md5, sha256: notepad.sha256 });
  });

  it('reports md5 null when the row has no 32-hex entry', async () => {
    const found = await search([notepad.sha256], [{ process_hash: [notepad.sha256], process_publisher_state: OS_BINARY_STATES }]);
    expect(found.get(notepad.sha256)).toEqual({ md5: null, sha256: notepad.sha256, publishers: [], states: OS_BINARY_STATES });
  });

  it('reports sha256 null when the row has only the md5', async () => {
    const found = await search([notepad.md5], [{ process_hash: [notepad.md5] }]);
    expect(found.get(notepad.md5)).toEqual({ md5: notepad.md5, sha256: null, publishers: [], states: [] });
  });

  it('keys the map by each asked hash, lower case, even when the caller asked in upper case', async () => {
    const found = await search(
      [notepad.md5.toUpperCase(), tool.sha256.toUpperCase()],
      [row(notepad, OS_BINARY_STATES), row(tool, UNSIGNED_STATES)],
    );
    expect([...found.keys()].sort()).toEqual([notepad.md5, tool.sha256].sort());
  });

  it('reports a binary asked by both md5 and sha256 under both keys', async () => {
    const found = await search([notepad.md5, notepad.sha256], [row(notepad, OS_BINARY_STATES, { publishers: ['Microsoft Windows'] })]);
    const expected = { md5: notepad.md5, sha256: notepad.sha256, publishers: ['Microsoft Windows'], states: OS_BINARY_STATES };
    expect(found.get(notepad.md5)).toEqual(expected);
    expect(found.get(notepad.sha256)).toEqual(expected);
  });

  it('accepts rows whose hashes are upper case, reporting them lower case', async () => {
    const shouting = { ...row(notepad, OS_BINARY_STATES), process_hash: [notepad.sha256.toUpperCase(), notepad.md5.toUpperCase()] };
    const found = await search([notepad.md5], [shouting]);
    expect(found.get(notepad.md5)).toMatchObject({ md5: notepad.md5, sha256: notepad.sha256 });
  });

  it('ignores extra entries of process_hash that are not hashes', async () => {
    const found = await search([notepad.md5], [{ ...row(notepad, OS_BINARY_STATES), process_hash: ['n/a', notepad.md5, notepad.sha256] }]);
    expect(found.get(notepad.md5)).toMatchObject({ md5: notepad.md5, sha256: notepad.sha256 });
  });
});

describe('states and publishers', () => {
  it('unions them over the rows of one binary, first seen first, without duplicates', async () => {
    const found = await search(
      [notepad.md5],
      [
        row(notepad, OS_BINARY_STATES, { publishers: ['Microsoft Windows'], device: 'a' }),
        row(notepad, UNSIGNED_STATES, { publishers: [], device: 'b' }),
        row(notepad, [STATE.SIGNED, STATE.VERIFIED], { publishers: ['Microsoft Corporation', 'Microsoft Windows'], device: 'c' }),
      ],
    );
    const signing = found.get(notepad.md5)!;
    expect(signing.states).toEqual([STATE.OS, STATE.SIGNED, STATE.TRUSTED, STATE.VERIFIED, STATE.NOT_SIGNED]);
    expect(signing.publishers).toEqual(['Microsoft Windows', 'Microsoft Corporation']);
    // Rows that disagree: the conservative answer.
    expect(assessPublisherStates(signing.states)).toEqual({ kind: 'unsigned', decisive: STATE.NOT_SIGNED });
  });

  it('keeps binaries apart', async () => {
    const found = await search(
      [notepad.md5, tool.md5],
      [row(notepad, OS_BINARY_STATES, { publishers: ['Microsoft Windows'] }), row(tool, UNSIGNED_STATES, { publishers: ['Nobody'] })],
    );
    expect(found.get(notepad.md5)).toMatchObject({ publishers: ['Microsoft Windows'], states: OS_BINARY_STATES });
    expect(found.get(tool.md5)).toMatchObject({ publishers: ['Nobody'], states: UNSIGNED_STATES });
  });

  it('reports the raw strings Cloud sent, unknown ones included', async () => {
    const found = await search([notepad.md5], [row(notepad, ['FILE_SIGNATURE_STATE_SOMETHING_NEW', 'file_signature_state_signed'])]);
    expect(found.get(notepad.md5)?.states).toEqual(['FILE_SIGNATURE_STATE_SOMETHING_NEW', 'file_signature_state_signed']);
  });

  it('resolves a binary whose rows carry no publisher or state (empty lists: unknown, not unsigned)', async () => {
    const found = await search([notepad.md5], [{ process_hash: [notepad.sha256, notepad.md5], process_name: '/usr/bin/bash' }]);
    const signing = found.get(notepad.md5)!;
    expect(signing).toEqual({ md5: notepad.md5, sha256: notepad.sha256, publishers: [], states: [] });
    expect(assessPublisherStates(signing.states).kind).toBe('unknown');
  });

  it('gives the recorded fixtures their verdicts end to end', async () => {
    const found = await search([notepad.md5, tool.sha256], [row(notepad, OS_BINARY_STATES), row(tool, UNSIGNED_STATES)]);
    expect(assessPublisherStates(found.get(notepad.md5)!.states)).toEqual({ kind: 'signed', decisive: STATE.VERIFIED });
    expect(assessPublisherStates(found.get(tool.sha256)!.states)).toEqual({ kind: 'unsigned', decisive: STATE.NOT_SIGNED });
  });
});

import type { Config } from '../config.js';
import type { SignatureInterner } from '../signing/signature-interner.js';
import type { VerdictSource } from '../signing/signature-service.js';
import type { FleetSlots } from '../shared-tier/fleet-slots.js';
import type { GuardedUpstream, UpstreamCall } from '../upstream/guarded-upstream.js';
import { MissBatcher } from '../upstream/miss-batcher.js';
import type { BackendReads } from './backend-clients.js';
import { cloudVerdictSource } from './cloud/verdict-source.js';
import type { BinaryRecord } from './edr/binary-record.js';
import { binaryRecordSource, joinedSearchSource } from './edr/verdict-sources.js';

/**
 * The one place that knows which backend answers a miss (`CB_BACKEND`, and on
 * EDR `CB_VERDICT_SOURCE` and `CB_BINARY_READ`). Every call goes through the
 * guard (and, with CB_FLEET_MAX_CONCURRENCY, holds one of the fleet's
 * slots while it runs); past this, routes, cache and guard see a VerdictSource only.
 * Misses are batched (CB_BATCH_MAX_HASHES, CB_BATCH_WINDOW_MS) where one
 * request can answer many binaries: Cloud's search job and EDR's binary
 * search. EDR's summary read and joined search name one binary (and one
 * name) per request, so they stay one request per miss.
 */
export function verdictSourceFromConfig(
  settings: Config['carbonBlack'],
  clients: BackendReads,
  guard: GuardedUpstream,
  interner: SignatureInterner,
  onBatch?: (size: number) => void,
  fleetSlots?: FleetSlots,
): VerdictSource {
  const upstream = {
    run: <T>(call: UpstreamCall<T>): Promise<T> =>
      guard.run(fleetSlots ? (signal, deadlineAt) => fleetSlots.around(signal, () => call(signal, deadlineAt)) : call),
  };
  if (clients.backend === 'cloud') {
    const { cloud } = clients;
    if (settings.cloud === undefined) throw new TypeError('CB_BACKEND=cloud needs the Cloud settings');
    return cloudVerdictSource({
      // seal() inside the call: the batch takes misses until the guard (and the fleet) grant its slot.
      search: (seal) => upstream.run((signal, deadlineAt) => cloud.searchHashes(seal(), signal, deadlineAt)),
      batchMaxHashes: settings.batchMaxHashes,
      batchWindowMs: settings.batchWindowMs,
      interner,
      ...(onBatch && { onBatch }),
    });
  }
  const { edr } = clients;
  if (settings.verdictSource === 'joined-search') {
    return joinedSearchSource((md5, name) => upstream.run((signal) => edr.isSigned(md5, name, signal)), {
      nameTested: settings.joinField === 'digsig_prog_name',
    });
  }
  if (settings.binaryRead === 'summary') {
    return binaryRecordSource((md5) => upstream.run((signal) => edr.binarySummary(md5, signal)), interner);
  }
  // The binary search takes many md5s (`md5:A OR md5:B ...`): misses that arrive together share one.
  const batcher = new MissBatcher<BinaryRecord>({
    maxBatch: settings.batchMaxHashes,
    windowMs: settings.batchWindowMs,
    run: (seal) => upstream.run((signal) => edr.searchBinaries(seal(), signal)),
    // A search is cheap on EDR (no budget): on an idle guard a lone miss does not wait out the window.
    idle: () => guard.inFlight === 0 && guard.queued === 0,
    ...(onBatch && { onBatch }),
  });
  return binaryRecordSource((md5) => batcher.load(md5), interner);
}

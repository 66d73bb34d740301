import type { Config } from '../config.js';
import type { SignatureInterner } from '../signing/signature-interner.js';
import type { VerdictSource } from '../signing/signature-service.js';
import type { FleetSlots } from '../shared-tier/fleet-slots.js';
import type { GuardedUpstream, UpstreamCall } from '../upstream/guarded-upstream.js';
import type { BackendReads } from './backend-clients.js';
import { cloudVerdictSource } from './cloud/verdict-source.js';
import { binaryRecordSource, joinedSearchSource } from './edr/verdict-sources.js';

/**
 * The one place that knows which backend answers a miss (`CB_BACKEND`, and on
 * EDR `CB_VERDICT_SOURCE` and `CB_BINARY_READ`). Every call goes through the
 * guard (and, with CB_FLEET_MAX_CONCURRENCY, holds one of the fleet's
 * slots while it runs); past this, routes, cache and guard see a VerdictSource only.
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
      batchMaxHashes: settings.cloud.batchMaxHashes,
      batchWindowMs: settings.cloud.batchWindowMs,
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
  return binaryRecordSource((md5) => upstream.run(async (signal) => (await edr.searchBinaries([md5], signal)).get(md5)), interner);
}

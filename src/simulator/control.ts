import type { FaultSettings, FaultUpdate } from './faults.js';
import type { SimulatorStats } from './stats.js';

/** The handle tests and the demo use to observe and steer a running simulator (`instance.simulator`). */
export interface SimulatorControl {
  /** Live counters, mutated in place (hold the reference if you like). */
  readonly stats: SimulatorStats;
  resetStats(): void;
  /** A copy of the current fault settings. */
  readonly faults: FaultSettings;
  /** Applies a partial update (validated; throws a ZodError on bad values) and returns the new settings. */
  setFaults(update: FaultUpdate | Partial<FaultSettings>): FaultSettings;
  /** Back to no faults at all (not to the initial settings). */
  clearFaults(): FaultSettings;
  /** The X-Auth-Token the simulator expects. */
  readonly token: string;
}

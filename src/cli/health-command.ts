import type { CliCommand } from './arguments.js';
import type { ExitStatus } from './exit-codes.js';
import { exitForHealth } from './exit-codes.js';
import type { Output } from './output.js';
import { failureLine } from './output.js';
import type { Outcome, SignetClient } from './signet-client.js';
import { isObject } from './signet-client.js';

/**
 * `signet health`: both probes, as `{"healthz": {...}, "readyz": {...}}` on
 * stdout (each the probe's status and body, or its failure), and one line on
 * stderr. Ready means both answered 200: /readyz is 503 while the instance
 * starts or stops, and stays 200 while Carbon Black is down (the cache still
 * serves), so its body's Carbon Black state is shown too.
 */
export async function healthCommand(
  command: Extract<CliCommand, { command: 'health' }>,
  client: SignetClient,
  output: Output,
): Promise<ExitStatus> {
  const [healthz, readyz] = await Promise.all([client.probe('healthz'), client.probe('readyz')]);
  output.json({ healthz: probeView(healthz), readyz: probeView(readyz) }, command.json);
  const ready = healthz.ok && healthz.answer.status === 200 && readyz.ok && readyz.answer.status === 200;
  output.note(healthLine(ready, healthz, readyz));
  return exitForHealth(ready);
}

function probeView(outcome: Outcome): Record<string, unknown> {
  if (!outcome.ok) return { status: outcome.failure.status, error: outcome.failure };
  return { status: outcome.answer.status, body: outcome.answer.body ?? null };
}

function healthLine(ready: boolean, healthz: Outcome, readyz: Outcome): string {
  if (!healthz.ok) return `not live: ${failureLine(healthz.failure)}`;
  if (!readyz.ok) return `not ready: ${failureLine(readyz.failure)}`;
  const body = isObject(readyz.answer.body) ? readyz.answer.body : {};
  const carbonBlack = isObject(body.carbonBlack) ? body.carbonBlack : {};
  const state =
    typeof carbonBlack.breaker === 'string'
      ? ` (Carbon Black breaker ${carbonBlack.breaker}, ${String(carbonBlack.inFlight)} in flight, ${String(carbonBlack.queued)} queued)`
      : '';
  // Only a fleet's shared cache is worth a word; `disabled` (no REDIS_URL) says nothing.
  const shared = body.sharedCache === 'up' || body.sharedCache === 'down' ? `, shared cache ${body.sharedCache}` : '';
  if (ready) return `ready${state}${shared}`;
  if (healthz.answer.status !== 200) return `not live: /healthz answered ${healthz.answer.status}`;
  return `not ready: /readyz answered ${readyz.answer.status}${typeof body.status === 'string' ? ` ${body.status}` : ''}${state}${shared}`;
}

import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const examplePath = (...parts: string[]): string => join(root, 'examples', ...parts);
export const CLIENT = examplePath('python', 'signet_client.py');

// -- the Python example ----------------------------------------------------------------------------------------------

/** python3 (3.9 or later, which the example needs) when it is on PATH; null otherwise, and the Python suites skip. */
function findPython(): string | null {
  const probe = spawnSync('python3', ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)'], { encoding: 'utf8' });
  return probe.status === 0 ? 'python3' : null;
}
export const python = findPython();

/** A suite that needs python3: skipped, saying why in its title and on stderr, when python3 is not on PATH. */
export function describePython(title: string, suite: () => void): void {
  if (python) {
    describe(title, suite);
    return;
  }
  console.warn(`test/examples: skipping "${title}": python3 (3.9 or later) is not on PATH.`);
  describe.skip(`${title} [skipped: python3 (3.9 or later) is not on PATH]`, suite);
}

export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Runs `python3 examples/python/signet_client.py ...args` as a child process, asynchronously: Signet answers from
 * this same process, so a synchronous spawn would never get an answer. Only SIGNET_URL and SIGNET_API_KEY (and PATH)
 * reach the child.
 */
export function runClient(args: string[], env: { SIGNET_URL: string; SIGNET_API_KEY?: string }): Promise<ClientRun> {
  const started = Date.now();
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1', ...env };
  return new Promise((resolve, reject) => {
    execFile(python ?? 'python3', [CLIENT, ...args], { env: childEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      const elapsedMs = Date.now() - started;
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr, elapsedMs });
    });
  });
}

/** Lines of the client's stderr that announce a retry. */
export const retryLines = (run: ClientRun): string[] => run.stderr.split('\n').filter((line) => /retrying in|asking again in/.test(line));

export interface LiveSignet {
  stack: Stack;
  url: string;
  key: string;
  env: { SIGNET_URL: string; SIGNET_API_KEY: string };
}

/**
 * Signet with authentication on (one key, `soar`) and the EDR simulator behind it, Signet listening on loopback for
 * the client. `env` adds Signet settings, such as CB_RETRIES 0 so that a Carbon Black failure reaches the client.
 */
export function useLiveSignet(env: Record<string, string> = {}): () => LiveSignet {
  let live: LiveSignet | undefined;
  beforeAll(async () => {
    if (!python) return;
    const key = `soar-${randomBytes(16).toString('hex')}`;
    const stack = await startStack({ env: { AUTH_DISABLED: 'false', API_KEYS: `soar:${key}`, ...env } });
    const url = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    live = { stack, url, key, env: { SIGNET_URL: url, SIGNET_API_KEY: key } };
  });
  afterAll(async () => {
    await live?.stack.close();
  });
  return () => {
    if (!live) throw new Error('Signet is not started (useLiveSignet runs in beforeAll)');
    return live;
  };
}

/** A JSON Lines batch file in a fresh temporary directory, removed after the suite. */
export function useBatchFile(): (items: unknown[]) => string {
  let dir: string | undefined;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return (items) => {
    dir ??= mkdtempSync(join(tmpdir(), 'signet-examples-'));
    const file = join(dir, `batch-${randomBytes(4).toString('hex')}.jsonl`);
    writeFileSync(file, items.map((item) => JSON.stringify(item)).join('\n') + '\n');
    return file;
  };
}

// -- the SOAR files --------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
export const readJson = (...parts: string[]): Json => JSON.parse(readFileSync(examplePath(...parts), 'utf8')) as Json;
export const readYaml = (...parts: string[]): Json => parseYaml(readFileSync(examplePath(...parts), 'utf8')) as Json;
export const readText = (...parts: string[]): string => readFileSync(examplePath(...parts), 'utf8');

/** The OpenAPI document's component schemas, as committed. */
export function openApiSchemas(): Record<string, { properties?: Record<string, Json> }> {
  const document = JSON.parse(readFileSync(join(root, 'openapi', 'openapi.json'), 'utf8')) as {
    components: { schemas: Record<string, { properties?: Record<string, Json> }> };
  };
  return document.components.schemas;
}

/** What a SOAR file's single lookup sends, and what it reads from the answer. */
export interface SoarLookup {
  product: string;
  method: string;
  /** The URL (or, for Splunk SOAR, the base URL plus the location the custom function builds), placeholders as written. */
  url: string;
  /** The hash placeholder the URL puts after /v1/signatures/. */
  hashPlaceholder: string;
  /** The name= placeholder, and proof it is URL-encoded. */
  namePlaceholder: string;
  nameIsUrlEncoded: boolean;
  /** The Authorization header's value as the product sends it, placeholders as written. */
  authorization: string;
  /** The credential reference in it, as written after "Bearer ". */
  credentialReference: string;
  /** Where that reference takes the key from (a Tines credential, an XSOAR list, a Splunk SOAR asset's encrypted field). */
  credentialSource: string;
  /** Answer fields (top level of a verdict or a problem) the file reads. */
  fieldsRead: Set<string>;
  /** The values the file compares `verdict` with. */
  verdictBranches: Set<string>;
  /** Every string in the file(s), to look for literal keys. */
  text: string;
}

function fieldsAfter(text: string, prefix: RegExp): Set<string> {
  return new Set([...text.matchAll(prefix)].map((match) => match[1]!));
}

type TinesAgent = { type: string; name: string; options: Json };

export function tinesLookup(): SoarLookup {
  const story = readJson('soar', 'tines-story.json');
  const agents = story.agents as TinesAgent[];
  const http = agents.find((agent) => agent.name === 'Signet lookup' && agent.type === 'Agents::HTTPRequestAgent')!;
  const options = http.options as { url: string; method: string; headers: Record<string, string> };
  const url = options.url;
  const name = /[?&]name=(<<[^>]+>>)/.exec(url)?.[1] ?? '';
  const text = JSON.stringify(story);
  const verdictBranches = new Set(
    agents
      .filter((agent) => agent.type === 'Agents::TriggerAgent')
      .flatMap((agent) => (agent.options.rules as Array<{ path: string; value: string }>) ?? [])
      .filter((rule) => rule.path === '<<signet_lookup.body.verdict>>')
      .map((rule) => rule.value),
  );
  return {
    product: 'Tines',
    method: options.method.toUpperCase(),
    url,
    hashPlaceholder: /\/v1\/signatures\/(<<[^>]+>>)\?/.exec(url)?.[1] ?? '',
    namePlaceholder: name,
    nameIsUrlEncoded: /^<<URL_ENCODE\(.+\)>>$/.test(name),
    authorization: options.headers.Authorization ?? '',
    credentialReference: /^Bearer (<<CREDENTIAL\.[a-z_]+>>)$/.exec(options.headers.Authorization ?? '')?.[1] ?? '',
    credentialSource: /^Bearer <<(CREDENTIAL\.[a-z_]+)>>$/.exec(options.headers.Authorization ?? '')?.[1] ?? '',
    fieldsRead: fieldsAfter(text, /signet_lookup\.body\.([A-Za-z0-9]+)/g),
    verdictBranches,
    text,
  };
}

type XsoarTask = {
  type: string;
  task: { name: string; scriptName?: string; playbookName?: string };
  scriptarguments?: Record<string, { simple?: string; complex?: { root: string; transformers?: Array<{ operator: string }> } }>;
  conditions?: Array<{
    label: string;
    condition: Array<Array<{ left: { value: { simple: string } }; right?: { value: { simple: string } } }>>;
  }>;
  loop?: Json;
};
type XsoarPlaybook = { name: string; tasks: Record<string, XsoarTask>; inputs: Array<{ key: string; value: { simple?: string } }> };

export function xsoarLookup(): SoarLookup {
  const parent = readYaml('soar', 'cortex-xsoar-playbook.yml') as unknown as XsoarPlaybook;
  const attempt = readYaml('soar', 'cortex-xsoar-ask-once.yml') as unknown as XsoarPlaybook;
  const tasks = Object.values(attempt.tasks);
  const http = tasks.find((task) => task.task.scriptName === 'http')!;
  const args = http.scriptarguments!;
  const url = args.url!.simple!;
  const name = /[?&]name=(\$\{[^}]+\})/.exec(url)?.[1] ?? '';
  // The name placeholder is a context key that a Set task fills with the URLEncode transformer applied to the input.
  const encoder = tasks.find((task) => task.task.scriptName === 'Set' && `\${${task.scriptarguments?.key?.simple}}` === name);
  const nameIsUrlEncoded =
    encoder?.scriptarguments?.value?.complex?.root === 'inputs.ProcessName' &&
    (encoder.scriptarguments.value.complex.transformers ?? []).some((transformer) => transformer.operator === 'URLEncode');
  const headers = Object.fromEntries(
    args.headers!.simple!.split(',').map((header) => [header.slice(0, header.indexOf(':')), header.slice(header.indexOf(':') + 1)]),
  );
  const credentialReference = /^Bearer (\$\{inputs\.[A-Za-z]+\})$/.exec(headers.Authorization ?? '')?.[1] ?? '';
  const keyInput = /^\$\{inputs\.([A-Za-z]+)\}$/.exec(credentialReference)?.[1];
  // The sub-playbook's input is passed on from the parent's input of the same name, whose value says where the key is.
  const passedOn = Object.values(parent.tasks).find((task) => task.task.playbookName === attempt.name)?.scriptarguments?.[keyInput ?? '']
    ?.simple;
  const credentialSource =
    passedOn === credentialReference ? (parent.inputs.find((input) => input.key === keyInput)?.value.simple ?? '') : '';
  const text = JSON.stringify([parent, attempt]);
  const conditions = Object.values(parent.tasks).flatMap((task) => task.conditions ?? []);
  const verdictBranches = new Set(
    conditions
      .flatMap((condition) => condition.condition.flat())
      .filter((filter) => filter.left.value.simple === 'Signet.Answer.verdict')
      .map((filter) => filter.right!.value.simple),
  );
  return {
    product: 'Cortex XSOAR',
    method: args.method!.simple!,
    url,
    hashPlaceholder: /\/v1\/signatures\/(\$\{[^}]+\})\?/.exec(url)?.[1] ?? '',
    namePlaceholder: name,
    nameIsUrlEncoded,
    authorization: headers.Authorization ?? '',
    credentialReference,
    credentialSource,
    fieldsRead: fieldsAfter(text, /Signet\.Answer\.([A-Za-z0-9]+)/g),
    verdictBranches,
    text,
  };
}

type SplunkNode = { data: Json & { type: string; customName?: string } };

export function splunkLookup(): SoarLookup {
  const playbook = readJson('soar', 'splunk-soar-http-lookup.json') as { coa: { data: { nodes: Record<string, SplunkNode> } } };
  const asset = readJson('soar', 'splunk-soar-http-asset.json') as { name: string; configuration: Record<string, string | number> };
  const nodes = Object.values(playbook.coa.data.nodes).map((node) => node.data);
  const action = nodes.find((node) => node.type === 'action' && node.action === 'get data')!;
  const utility = nodes.find((node) => node.type === 'utility' && (node.customFunction as Json | undefined)?.name === 'signet_location')!;
  const values = (utility.values as Record<string, Record<string, string>>).signet_location!;
  // The custom function builds the location (its own test runs it); the URL is the asset's base URL plus that path.
  const url = `${asset.configuration.base_url}/v1/signatures/${values.file_hash}?name=${values.process_name}`;
  const locationFromFunction = (action.parameters as Json).location === 'signet_location:custom_function_result.data.location';
  const text = JSON.stringify([playbook, asset]);
  const decisions = nodes.filter((node) => node.type === 'decision');
  const verdictBranches = new Set(
    decisions
      .flatMap((node) => node.conditions as Array<{ comparisons: Array<{ param: string; value: unknown }> }>)
      .flatMap((condition) => condition.comparisons)
      .filter((comparison) => comparison.param.endsWith('parsed_response_body.verdict'))
      .map((comparison) => String(comparison.value)),
  );
  const uses = (action.connectorConfigs as string[]).includes(asset.name);
  const authorization = uses && asset.configuration.auth_token_name === 'Authorization' ? String(asset.configuration.auth_token) : '';
  return {
    product: 'Splunk SOAR',
    method: 'GET',
    url,
    hashPlaceholder: values.file_hash ?? '',
    namePlaceholder: values.process_name ?? '',
    nameIsUrlEncoded: locationFromFunction,
    authorization,
    // The asset's auth_token is a password field: SOAR keeps it encrypted; the file holds a placeholder to replace.
    credentialReference: /^Bearer (<[A-Z_]+>)$/.exec(authorization)?.[1] ?? '',
    credentialSource: uses && authorization ? `asset ${asset.name}: auth_token` : '',
    fieldsRead: fieldsAfter(text, /parsed_response_body\.([A-Za-z0-9]+)/g),
    verdictBranches,
    text,
  };
}

export const soarLookups = (): SoarLookup[] => [splunkLookup(), xsoarLookup(), tinesLookup()];

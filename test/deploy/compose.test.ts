/**
 * compose.yaml, the one-command container demo. No Docker engine runs in CI, so
 * the file is validated against the Compose Specification's JSON Schema
 * (fixtures/compose-spec.json, see fixtures/README.md) and checked against what
 * it runs: Signet's environment schema (src/config.ts) and the simulators'
 * (src/simulator/), the Dockerfile's stages and base image, ports on loopback
 * only, a healthcheck behind every `depends_on`, and demo-only credentials.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, posix } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { environmentSchema, loadConfig } from '../../src/config.js';
import { cloudEnvironmentSchema, readCloudSimulatorEnvironment } from '../../src/simulator/cloud/environment.js';
import { readSimulatorEnvironment, simulatorEnvironmentSchema } from '../../src/simulator/environment.js';
import { repoRoot } from './manifests.js';

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}

interface PortMapping {
  host_ip?: string;
  published?: string | number;
  target?: number;
}

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  user?: string;
  working_dir?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: unknown;
  ports?: (string | PortMapping)[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: Healthcheck;
  profiles?: string[];
  network_mode?: string;
  read_only?: boolean;
  tmpfs?: string | string[];
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  privileged?: boolean;
  stop_grace_period?: string;
}

interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composePath = join(repoRoot, 'compose.yaml');
const composeText = readFileSync(composePath, 'utf8');

/** compose.yaml as Compose reads it: YAML with merge keys (`<<: *anchor`), no duplicate keys. */
function loadCompose(): ComposeFile {
  const doc = parseDocument(composeText, { merge: true, uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(`compose.yaml: ${problems.map((p) => p.message).join('; ')}`);
  return doc.toJS() as ComposeFile;
}

const compose = loadCompose();
const services = compose.services;
const serviceNames = Object.keys(services);
const service = (name: string): Service => {
  const found = services[name];
  if (found === undefined) throw new Error(`compose.yaml has no service ${name}`);
  return found;
};

/** A service's environment as strings (Compose passes every value as a string). */
function environmentOf(s: Service): Record<string, string> {
  const raw = s.environment ?? {};
  if (Array.isArray(raw)) {
    return Object.fromEntries(raw.map((entry) => [entry.split('=')[0] ?? '', entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

function dependenciesOf(s: Service): Record<string, { condition?: string }> {
  const raw = s.depends_on ?? {};
  return Array.isArray(raw) ? Object.fromEntries(raw.map((name) => [name, { condition: 'service_started' }])) : raw;
}

/** Published ports, short ("127.0.0.1:8080:8080") or long syntax. */
function portsOf(s: Service): { hostIp: string | undefined; published: number; target: number }[] {
  return (s.ports ?? []).map((port) => {
    if (typeof port !== 'string') return { hostIp: port.host_ip, published: Number(port.published), target: Number(port.target) };
    const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.at(-1));
    const published = parts.length >= 2 ? Number(parts.at(-2)) : NaN;
    const hostIp = parts.length === 3 ? parts[0] : undefined;
    return { hostIp, published, target };
  });
}

/** Volume mounts, short ("./src:/app/src:ro") or long syntax. */
function mountsOf(s: Service): { type: 'bind' | 'volume'; source: string; target: string; readOnly: boolean }[] {
  return (s.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') {
      const source = volume.source ?? '';
      return {
        type: volume.type === 'bind' ? 'bind' : 'volume',
        source,
        target: volume.target ?? '',
        readOnly: volume.read_only === true,
      };
    }
    const [source = '', target = '', mode = ''] = volume.split(':');
    const type = source.startsWith('.') || source.startsWith('/') ? 'bind' : 'volume';
    return { type, source, target, readOnly: mode.split(',').includes('ro') };
  });
}

const listOf = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** "20s", "1m30s", "500ms" as milliseconds. */
function durationMs(text: string | undefined): number {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...(text ?? '').matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a duration: ${String(text)}`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * (units[unit ?? ''] ?? NaN), 0);
}

const schemaDefault = (name: keyof typeof environmentSchema.shape): unknown => environmentSchema.shape[name].parse(undefined);

// Which service is which, by what it runs rather than by name.
const isSignet = (s: Service) => s.build !== undefined;
const simulatorBackend = (s: Service): 'edr' | 'cloud' | undefined => {
  if (!listOf(s.command).join(' ').includes('src/simulator/main.ts')) return undefined;
  return environmentOf(s).SIMULATOR_BACKEND === 'cloud' ? 'cloud' : 'edr';
};
const signets = serviceNames.filter((name) => isSignet(service(name)));
const simulators = serviceNames.filter((name) => simulatorBackend(service(name)) !== undefined);
const signetBackend = (name: string) => environmentOf(service(name)).CB_BACKEND ?? 'edr';

const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const dockerfileStages = dockerfile
  .getFROMs()
  .map((from) => ({ name: from.getBuildStage(), image: from.getImageName(), tag: from.getImageTag() }));

describe('compose.yaml: the Compose Specification', () => {
  const require = createRequire(import.meta.url);

  interface AjvValidate {
    (data: unknown): boolean;
    errors?: { instancePath: string; message?: string; params?: unknown }[] | null;
  }
  interface AjvInstance {
    addMetaSchema(schema: object): unknown;
    compile(schema: object): AjvValidate;
  }
  type AjvClass = new (options: Record<string, unknown>) => AjvInstance;

  async function composeValidator(): Promise<AjvValidate> {
    const { Ajv } = (await import('ajv')) as unknown as { Ajv: AjvClass };
    // The schema declares "https://json-schema.org/draft-07/schema"; ajv knows draft-07 under its http id.
    const draft07 = require('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(join(repoRoot, 'test/deploy/fixtures/compose-spec.json'), 'utf8')) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft-07/schema');
    expect(schema.title).toBe('Compose Specification');
    // Strict, except for strictTypes, which the upstream schema does not follow (keywords without "type").
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
    ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
    return ajv.compile(schema);
  }

  it('parses as YAML without duplicate keys', () => {
    expect(compose.services).toEqual(expect.any(Object));
  });

  it('is valid against the Compose Specification JSON Schema', async () => {
    const validate = await composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema rejects a misspelt key, a bad condition and a bad port (the validator is live)', async () => {
    const validate = await composeValidator();
    const copy = () => structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    const typo = copy();
    (typo.services.signet as Record<string, unknown>).helthcheck = { test: ['CMD', 'true'] };
    expect(validate(typo)).toBe(false);
    const condition = copy();
    (condition.services.signet as Record<string, unknown>).depends_on = { simulator: { condition: 'service_ready' } };
    expect(validate(condition)).toBe(false);
    const restart = copy();
    (restart.services.signet as Record<string, unknown>).restart = ['always'];
    expect(validate(restart)).toBe(false);
  });

  it('uses no interpolation and no env_file: everything the demo needs is in the file', () => {
    // `$` would be interpolated from the caller's shell; the healthchecks use process.env instead.
    expect(composeText.replace(/^\s*#.*$/gm, '')).not.toMatch(/\$/);
    for (const name of serviceNames) expect(service(name).env_file, name).toBeUndefined();
  });

  it('says how to run it and that it is a demo', () => {
    const header = composeText
      .split('\n')
      .filter((line) => line.startsWith('#'))
      .join('\n');
    expect(header).toContain('docker compose up --build');
    expect(header).toContain('docker compose --profile cloud up --build');
    expect(header).toMatch(/DEMO ONLY/);
    expect(header).toMatch(/never put production secrets/i);
  });
});

describe('compose.yaml: services', () => {
  it('runs Signet on EDR with its simulator by default, and Signet on Cloud under the cloud profile', () => {
    const byDefault = serviceNames.filter((name) => (service(name).profiles ?? []).length === 0).sort();
    const cloud = serviceNames.filter((name) => (service(name).profiles ?? []).includes('cloud')).sort();
    expect(byDefault).toEqual(['deps', 'signet', 'simulator']);
    expect(cloud).toEqual(['cloud-simulator', 'signet-cloud']);
    expect(serviceNames.sort()).toEqual([...byDefault, ...cloud].sort());
    expect(simulators.map((name) => [name, simulatorBackend(service(name))])).toEqual(
      expect.arrayContaining([
        ['simulator', 'edr'],
        ['cloud-simulator', 'cloud'],
      ]),
    );
    expect(signets.map((name) => [name, signetBackend(name)]).sort()).toEqual([
      ['signet', 'edr'],
      ['signet-cloud', 'cloud'],
    ]);
  });

  it.each(signets)('%s is built from the Dockerfile, runtime stage', (name) => {
    const build = service(name).build;
    const spec = typeof build === 'string' ? { context: build } : (build ?? {});
    expect(spec.context).toBe('.');
    expect(spec.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    const lastStage = dockerfileStages.at(-1)?.name;
    expect(spec.target ?? lastStage).toBe(lastStage);
    // A local tag, so that `up` never tries to pull it, and not `latest`.
    expect(service(name).image).toMatch(/^signet:[\w][\w.-]*$/);
    expect(service(name).image).not.toMatch(/:latest$/);
    // The image's own user (uid 1000) stays.
    expect(service(name).user).toBeUndefined();
  });

  it.each([...simulators, 'deps'])('%s runs from the sources on the Dockerfile base image', (name) => {
    const s = service(name);
    const runtimeBase = dockerfileStages.at(-1);
    expect(s.image).toBe(`${runtimeBase?.image ?? ''}:${runtimeBase?.tag ?? ''}`);
    expect(s.image).toBe('node:24-bookworm-slim');
    expect(s.build).toBeUndefined();
    const mounts = mountsOf(s);
    // The repository's files are mounted read-only, and they exist.
    for (const mount of mounts.filter((m) => m.type === 'bind')) {
      expect(mount.readOnly, `${mount.source} should be :ro`).toBe(true);
      expect(existsSync(join(repoRoot, mount.source)), mount.source).toBe(true);
      expect(posix.isAbsolute(mount.target)).toBe(true);
    }
    // node_modules lives in a declared named volume, so the host's own node_modules is never used.
    const nodeModules = mounts.find((m) => m.target === posix.join(s.working_dir ?? '', 'node_modules'));
    expect(nodeModules?.type).toBe('volume');
    expect(Object.keys(compose.volumes ?? {})).toContain(nodeModules?.source);
    expect(nodeModules?.readOnly).toBe(name !== 'deps');
  });

  it('installs the dependencies once, from the lock file, without install scripts', () => {
    const deps = service('deps');
    const command = listOf(deps.command).join(' ');
    expect(command).toMatch(/npm ci --ignore-scripts/);
    expect(mountsOf(deps).map((m) => m.source)).toEqual(expect.arrayContaining(['./package.json', './package-lock.json']));
    expect(deps.healthcheck).toBeUndefined();
  });

  it.each(simulators)('%s runs src/simulator/main.ts with tsx as the node user, from mounted sources', (name) => {
    const s = service(name);
    const command = listOf(s.command);
    expect(command.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    const script = posix.join(s.working_dir ?? '/', command[3] ?? '');
    const mount = mountsOf(s).find((m) => m.type === 'bind' && (script === m.target || script.startsWith(`${m.target}/`)));
    expect(mount, `no bind mount holds ${script}`).toBeDefined();
    expect(existsSync(join(repoRoot, mount?.source ?? '', posix.relative(mount?.target ?? '', script)))).toBe(true);
    // tsx needs package.json ("type": "module") beside the sources.
    expect(mountsOf(s).map((m) => m.target)).toContain(posix.join(s.working_dir ?? '', 'package.json'));
    expect(s.user).toBe('1000:1000');
    expect(dependenciesOf(s)).toEqual({ deps: { condition: 'service_completed_successfully' } });
  });
});

describe('compose.yaml: environment', () => {
  const signetSchemaKeys = Object.keys(environmentSchema.shape);

  it.each(signets)('%s sets only variables that src/config.ts defines, with values it accepts', (name) => {
    const env = environmentOf(service(name));
    const unknown = Object.keys(env).filter((key) => !signetSchemaKeys.includes(key));
    expect(unknown, `not in environmentSchema: ${unknown.join(', ')}`).toEqual([]);
    // The whole start-up validation, Cloud's https-or-loopback rule and the API keys included.
    const config = loadConfig(env);
    expect(config.carbonBlack.backend).toBe(signetBackend(name));
    expect(config.auth.keys.length).toBeGreaterThan(0);
    expect(config.auth.disabled).toBe(false);
    expect(config.carbonBlack.tlsInsecure).toBe(false);
    expect(config.server.host).toBe('0.0.0.0'); // published ports reach the container's interface, not its loopback
  });

  it.each(simulators)('%s sets only SIMULATOR_* variables its simulator reads, with values it accepts', (name) => {
    const env = environmentOf(service(name));
    if (simulatorBackend(service(name)) === 'cloud') {
      const keys = Object.keys(cloudEnvironmentSchema.shape);
      expect(Object.keys(env).filter((key) => !keys.includes(key))).toEqual([]);
      const settings = readCloudSimulatorEnvironment(env);
      // Fixed credentials, so that Signet's match them (none generated at start).
      expect(Object.keys(settings.credentials).sort()).toEqual(['apiId', 'apiSecret', 'orgKey']);
    } else {
      const keys = [...Object.keys(simulatorEnvironmentSchema.shape), 'SIMULATOR_BACKEND'];
      expect(Object.keys(env).filter((key) => !keys.includes(key))).toEqual([]);
      expect(env.SIMULATOR_BACKEND ?? 'edr').toBe('edr');
      const settings = readSimulatorEnvironment(env);
      expect(settings.tokenGenerated).toBe(false);
    }
    // Reachable from outside its own loopback: Signet's container, and the published port.
    expect(env.SIMULATOR_HOST).toBe('0.0.0.0');
  });

  it('points Signet on EDR at the EDR simulator service, with its token', () => {
    const env = environmentOf(service('signet'));
    const url = new URL(env.CB_URL ?? '');
    const simulator = service(url.hostname);
    expect(simulatorBackend(simulator)).toBe('edr');
    const simulatorEnv = environmentOf(simulator);
    expect(url.protocol).toBe('http:');
    expect(url.port).toBe(simulatorEnv.SIMULATOR_PORT ?? '8090');
    expect(env.CB_API_TOKEN).toBe(simulatorEnv.SIMULATOR_TOKEN);
    expect(Object.keys(dependenciesOf(service('signet')))).toContain(url.hostname);
  });

  it("points Signet on Cloud at the Cloud simulator over loopback, in the simulator's network namespace", () => {
    const s = service('signet-cloud');
    const env = environmentOf(s);
    // Signet's Cloud backend takes plain http to a loopback address only.
    const match = /^service:(.+)$/.exec(s.network_mode ?? '');
    expect(match, 'network_mode: service:<the Cloud simulator>').not.toBeNull();
    const simulatorName = match?.[1] ?? '';
    expect(simulatorBackend(service(simulatorName))).toBe('cloud');
    const simulatorEnv = environmentOf(service(simulatorName));
    const url = new URL(env.CB_URL ?? '');
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).toBe(simulatorEnv.SIMULATOR_PORT ?? '8090');
    expect(env.CB_ORG_KEY).toBe(simulatorEnv.SIMULATOR_CLOUD_ORG_KEY);
    expect(env.CB_API_ID).toBe(simulatorEnv.SIMULATOR_CLOUD_API_ID);
    expect(env.CB_API_SECRET).toBe(simulatorEnv.SIMULATOR_CLOUD_API_SECRET);
    expect(Object.keys(dependenciesOf(s))).toContain(simulatorName);
    // The two share one network namespace, so they must not listen on the same port.
    expect(env.PORT ?? String(schemaDefault('PORT'))).not.toBe(simulatorEnv.SIMULATOR_PORT ?? '8090');
  });

  it('the Cloud backend really refuses plain http to the simulator by service name (why network_mode is needed)', () => {
    const env = { ...environmentOf(service('signet-cloud')), CB_URL: 'http://cloud-simulator:8090' };
    expect(() => loadConfig(env)).toThrow(/CB_URL is invalid: Carbon Black Cloud must be reached over https/);
  });

  it.each(signets)('%s writes its cache snapshot to a named volume', (name) => {
    const s = service(name);
    const file = environmentOf(s).CACHE_SNAPSHOT_FILE ?? '';
    const mount = mountsOf(s).find((m) => file.startsWith(`${m.target}/`));
    expect(mount?.type).toBe('volume');
    expect(mount?.readOnly).toBe(false);
    expect(Object.keys(compose.volumes ?? {})).toContain(mount?.source);
  });
});

describe('compose.yaml: ports', () => {
  const published = serviceNames.flatMap((name) => portsOf(service(name)).map((port) => ({ name, ...port })));

  it('publishes every port on 127.0.0.1 only, each host port once', () => {
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port.hostIp, `${port.name} ${port.published}`).toBe('127.0.0.1');
    const hostPorts = published.map((p) => p.published);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    for (const port of hostPorts) expect(Number.isInteger(port)).toBe(true);
  });

  it('publishes Signet on EDR on 127.0.0.1:8080, to its PORT', () => {
    const env = environmentOf(service('signet'));
    expect(portsOf(service('signet'))).toEqual([
      { hostIp: '127.0.0.1', published: 8080, target: Number(env.PORT ?? schemaDefault('PORT')) },
    ]);
  });

  it("publishes Signet on Cloud through the namespace owner's ports, as a service sharing a network namespace cannot", () => {
    for (const name of serviceNames.filter((n) => service(n).network_mode?.startsWith('service:'))) {
      expect(service(name).ports, `${name} shares a network namespace`).toBeUndefined();
    }
    const env = environmentOf(service('signet-cloud'));
    const owner = (service('signet-cloud').network_mode ?? '').replace(/^service:/, '');
    expect(portsOf(service(owner)).map((p) => p.target)).toContain(Number(env.PORT ?? schemaDefault('PORT')));
  });

  it.each(simulators)('%s publishes its own port (to steer faults and read stats from the host)', (name) => {
    const port = Number(environmentOf(service(name)).SIMULATOR_PORT ?? 8090);
    expect(portsOf(service(name)).map((p) => p.target)).toContain(port);
  });
});

describe('compose.yaml: healthchecks and start order', () => {
  const longRunning = serviceNames.filter((name) => name !== 'deps');

  /** The URL a node one-liner healthcheck fetches, and the process.env variables it reads. */
  function probeOf(s: Service): { url: URL; envNames: string[]; command: string[] } {
    const command = listOf(s.healthcheck?.test);
    const script = command.join(' ');
    const url = /fetch\('([^']+)'/.exec(script)?.[1] ?? '';
    return { url: new URL(url), envNames: [...script.matchAll(/process\.env\.(\w+)/g)].map((m) => m[1] ?? ''), command };
  }

  it.each(longRunning)('%s has a healthcheck in exec form, run with node (the slim image has no curl)', (name) => {
    const healthcheck = service(name).healthcheck;
    expect(healthcheck?.disable ?? false).toBe(false);
    const { command } = probeOf(service(name));
    expect(command[0]).toBe('CMD');
    expect(command[1]).toBe('node');
    expect(command.join(' ')).not.toMatch(/\b(curl|wget)\b/);
    expect(durationMs(healthcheck?.timeout)).toBeLessThan(durationMs(healthcheck?.interval));
    expect(healthcheck?.retries).toBeGreaterThanOrEqual(3);
    expect(durationMs(healthcheck?.start_period)).toBeGreaterThan(0);
  });

  it.each(signets)('%s: the healthcheck asks /readyz on its own PORT over loopback', (name) => {
    const { url } = probeOf(service(name));
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).toBe(environmentOf(service(name)).PORT ?? String(schemaDefault('PORT')));
    expect(url.pathname).toBe('/readyz');
  });

  it.each(simulators)('%s: the healthcheck asks /__simulator/stats with its own credentials', (name) => {
    const s = service(name);
    const { url, envNames } = probeOf(s);
    const env = environmentOf(s);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).toBe(env.SIMULATOR_PORT ?? '8090');
    expect(url.pathname).toBe('/__simulator/stats');
    expect(envNames.length).toBeGreaterThan(0);
    for (const variable of envNames) expect(Object.keys(env), variable).toContain(variable);
  });

  it('waits for a dependency to be healthy, or for a one-shot to have completed', () => {
    for (const name of serviceNames) {
      for (const [dependency, { condition }] of Object.entries(dependenciesOf(service(name)))) {
        expect(serviceNames, `${name} depends on ${dependency}`).toContain(dependency);
        const target = service(dependency);
        if (target.healthcheck !== undefined) expect(condition, `${name} -> ${dependency}`).toBe('service_healthy');
        else expect(condition, `${name} -> ${dependency}, which has no healthcheck`).toBe('service_completed_successfully');
        // A service started by default must not need one that only a profile starts.
        for (const profile of target.profiles ?? []) expect(service(name).profiles ?? [], `${name} -> ${dependency}`).toContain(profile);
      }
    }
    expect(dependenciesOf(service('signet'))).toEqual({ simulator: { condition: 'service_healthy' } });
    expect(dependenciesOf(service('signet-cloud'))).toEqual({ 'cloud-simulator': { condition: 'service_healthy' } });
  });

  it.each(signets)('%s is given time to drain on `docker compose stop` (stop_grace_period > SHUTDOWN_GRACE_MS)', (name) => {
    const graceMs = Number(environmentOf(service(name)).SHUTDOWN_GRACE_MS ?? schemaDefault('SHUTDOWN_GRACE_MS'));
    expect(durationMs(service(name).stop_grace_period) - graceMs).toBeGreaterThanOrEqual(5000);
  });
});

describe('compose.yaml: hardening and demo credentials', () => {
  it.each(serviceNames)('%s runs with a read-only root filesystem, /tmp on tmpfs, no new privileges', (name) => {
    const s = service(name);
    expect(s.read_only).toBe(true);
    expect(listOf(s.tmpfs).map((t) => t.split(':')[0])).toContain('/tmp');
    expect(s.security_opt ?? []).toContain('no-new-privileges:true');
    expect(s.privileged ?? false).toBe(false);
    expect(s.cap_add ?? []).toEqual([]);
    for (const mount of mountsOf(s)) expect(mount.source).not.toMatch(/docker\.sock/);
    if (name !== 'deps') expect(s.cap_drop).toEqual(['ALL']);
  });

  const credentialLike = /TOKEN|SECRET|PASSWORD|API_ID|ORG_KEY|API_KEYS$/;
  const credentials = serviceNames.flatMap((name) =>
    Object.entries(environmentOf(service(name)))
      .filter(([key]) => credentialLike.test(key) && !key.endsWith('_FILE'))
      .map(([key, value]) => [`${name} ${key}`, value] as const),
  );

  it('has credentials for every service that needs them', () => {
    expect(credentials.map(([where]) => where)).toEqual(
      expect.arrayContaining([
        'simulator SIMULATOR_TOKEN',
        'signet CB_API_TOKEN',
        'signet API_KEYS',
        'cloud-simulator SIMULATOR_CLOUD_API_SECRET',
        'signet-cloud CB_API_SECRET',
        'signet-cloud API_KEYS',
      ]),
    );
  });

  it.each(credentials)('%s is an obvious demo value', (_, value) => {
    expect(value.toLowerCase()).toContain('demo');
  });

  it.each(signets)('%s has demo API keys only, each named and marked as demo', (name) => {
    const entries = (environmentOf(service(name)).API_KEYS ?? '').split(',');
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      const [keyName = '', key = ''] = entry.split(':');
      expect(keyName).toMatch(/^demo/);
      expect(key).toMatch(/^demo-.*not-a-secret$/);
    }
    const config = loadConfig(environmentOf(service(name)));
    expect(config.auth.keys.map((k) => [k.name, k.role])).toEqual([
      ['demo', 'lookup'],
      ['demo-admin', 'admin'],
    ]);
  });
});

/**
 * The manifests agree with the application they run: environment variable names
 * and values against the zod schema of src/config.ts, probe paths, ports, the
 * files the app reads and writes, and the shutdown timing.
 */
import { posix } from 'node:path';
import type { IProbe } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../../src/config.js';
import { loadBase } from './manifests.js';

const base = loadBase();
const { container, env, service } = base;
const pod = base.deployment.spec?.template.spec;
const schemaKeys = Object.keys(environmentSchema.shape);
const mounts = container.volumeMounts ?? [];
const volumes = pod?.volumes ?? [];

/** Default of a schema field, if the schema has the field and it has a default. */
function schemaDefault(name: string): unknown {
  const field = (environmentSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>)[name];
  const parsed = field?.safeParse(undefined);
  return parsed?.success ? parsed.data : undefined;
}

const containerPort = container.ports?.find((p) => p.name === 'http');
const SHUTDOWN_GRACE_MS_DEFAULT = 10_000; // the documented default, should the schema not have it yet

/** The mount (and its volume) holding a path, by longest mountPath prefix. */
function mountFor(path: string) {
  const mount = mounts
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  return { mount, volume: volumes.find((v) => v.name === mount?.name) };
}

describe('environment', () => {
  const names = [
    ...Object.keys(env),
    ...(container.env ?? []).map((e) => e.name),
    ...(pod?.initContainers ?? []).flatMap((c) => (c.env ?? []).map((e) => e.name)),
  ];

  it('uses only variable names that src/config.ts defines', () => {
    const unknown = names.filter((name) => !schemaKeys.includes(name));
    expect(unknown, `not in environmentSchema: ${unknown.join(', ')}`).toEqual([]);
  });

  it('passes the ConfigMap to the container with envFrom and no prefix', () => {
    const ref = (container.envFrom ?? []).find((e) => e.configMapRef?.name === base.configMap.metadata?.name);
    expect(ref).toBeDefined();
    expect(ref?.prefix).toBeUndefined();
    expect(ref?.configMapRef?.optional).not.toBe(true);
  });

  it('has ConfigMap values that the schema accepts', () => {
    const result = environmentSchema.safeParse(env);
    expect(result.error?.issues ?? []).toEqual([]);
    // Blank values mean "unset" to the app; a blank line here would silently drop a setting.
    for (const [name, value] of Object.entries(env)) expect(value.trim(), name).not.toBe('');
  });

  it('keeps secrets out of the ConfigMap: they come from the mounted Secret files', () => {
    expect(env).not.toHaveProperty('CB_API_TOKEN');
    expect(env).not.toHaveProperty('API_KEYS');
    for (const e of container.env ?? []) expect(['CB_API_TOKEN', 'API_KEYS']).not.toContain(e.name);
    expect(env.CB_API_TOKEN_FILE).toBe('/var/run/secrets/signet/cb-api-token');
    expect(env.API_KEYS_FILE).toBe('/var/run/secrets/signet/api-keys');
  });

  it('has a CB_URL placeholder that is an https URL', () => {
    expect(new URL(env.CB_URL ?? '').protocol).toBe('https:');
  });

  it('listens on all interfaces so that kubelet probes and the Service reach the pod', () => {
    expect(['0.0.0.0', '::']).toContain(env.HOST ?? schemaDefault('HOST') ?? '0.0.0.0');
  });

  it('does not turn authentication or TLS verification off', () => {
    expect(env.AUTH_DISABLED ?? 'false').toBe('false');
    expect(env.CB_TLS_INSECURE ?? 'false').toBe('false');
  });
});

describe('secret files', () => {
  it.each(['CB_API_TOKEN_FILE', 'API_KEYS_FILE'])('mounts %s read-only from the Secret', (name) => {
    const path = env[name] ?? '';
    const { mount, volume } = mountFor(path);
    expect(mount, `no volume mounted at ${path}`).toBeDefined();
    expect(mount?.readOnly).toBe(true);
    expect(mount?.subPath).toBeUndefined(); // subPath mounts never see Secret updates
    const secret = volume?.secret;
    expect(secret?.secretName).toBe(base.exampleSecret.metadata?.name);
    const relativePath = posix.relative(mount?.mountPath ?? '', path);
    const item = (secret?.items ?? []).find((i) => i.path === relativePath);
    const key = item?.key ?? relativePath;
    // The example Secret documents the key the operator must create.
    expect(Object.keys({ ...base.exampleSecret.stringData, ...base.exampleSecret.data })).toContain(key);
  });

  it('makes the Secret files readable by the app user only through its group (0440, fsGroup)', () => {
    const secret = volumes.find((v) => v.secret)?.secret;
    expect(secret?.defaultMode).toBe(0o440);
    expect(pod?.securityContext?.fsGroup).toBe(container.securityContext?.runAsUser ?? pod?.securityContext?.runAsUser);
  });
});

describe('cache snapshot', () => {
  it('writes CACHE_SNAPSHOT_FILE to a writable emptyDir', () => {
    const path = env.CACHE_SNAPSHOT_FILE;
    expect(path).toBe('/var/lib/signet/cache-snapshot.json');
    const { mount, volume } = mountFor(path ?? '');
    expect(mount?.readOnly ?? false).toBe(false);
    expect(volume?.emptyDir, 'snapshot volume').toBeDefined();
    expect(volume?.emptyDir?.sizeLimit).toBeDefined();
  });

  it('mounts a writable emptyDir on /tmp', () => {
    const { mount, volume } = mountFor('/tmp/x');
    expect(mount?.mountPath).toBe('/tmp');
    expect(mount?.readOnly ?? false).toBe(false);
    expect(volume?.emptyDir).toBeDefined();
  });
});

describe('ports and probes', () => {
  it('exposes a container port named http on PORT (default 8080)', () => {
    const port = Number(env.PORT ?? schemaDefault('PORT') ?? 8080);
    expect(port).toBe(8080);
    expect(container.ports).toHaveLength(1);
    expect(containerPort?.containerPort).toBe(port);
    expect(containerPort?.protocol ?? 'TCP').toBe('TCP');
  });

  it('routes the Service (ClusterIP, port 80) to the container port by name', () => {
    expect(service.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
    const ports = service.spec?.ports ?? [];
    expect(ports).toHaveLength(1);
    expect(ports[0]).toMatchObject({ name: 'http', port: 80, targetPort: containerPort?.name });
  });

  const probeCases: [string, string, IProbe | undefined][] = [
    ['livenessProbe', '/healthz', container.livenessProbe],
    ['readinessProbe', '/readyz', container.readinessProbe],
    ['startupProbe', '/healthz', container.startupProbe],
  ];
  it.each(probeCases)('%s GETs %s on the http port', (_, path, probe) => {
    expect(probe?.httpGet?.path).toBe(path);
    expect([containerPort?.name, containerPort?.containerPort]).toContain(probe?.httpGet?.port);
    expect(probe?.httpGet?.scheme ?? 'HTTP').toBe('HTTP');
  });

  it('gives the liveness probe no less slack than the readiness probe', () => {
    // A slow dependency should take a pod out of rotation (readiness), not restart it (liveness).
    const budget = (p: IProbe | undefined) => (p?.periodSeconds ?? 10) * (p?.failureThreshold ?? 3);
    expect(budget(container.livenessProbe)).toBeGreaterThanOrEqual(budget(container.readinessProbe));
    for (const [, , probe] of probeCases) expect(probe?.timeoutSeconds ?? 1).toBeLessThanOrEqual(probe?.periodSeconds ?? 10);
  });
});

describe('graceful shutdown', () => {
  const graceSeconds = pod?.terminationGracePeriodSeconds ?? 30;
  const shutdownGraceMs = Number(env.SHUTDOWN_GRACE_MS ?? schemaDefault('SHUTDOWN_GRACE_MS') ?? SHUTDOWN_GRACE_MS_DEFAULT);
  const preStop = container.lifecycle?.preStop;
  const preStopMs =
    preStop?.sleep !== undefined
      ? preStop.sleep.seconds * 1000
      : Number(/^sleep$/.test(preStop?.exec?.command?.[0] ?? '') ? (preStop?.exec?.command?.[1] ?? 0) : 0) * 1000;

  it('sets SHUTDOWN_GRACE_MS explicitly', () => {
    expect(env.SHUTDOWN_GRACE_MS).toMatch(/^\d+$/);
  });

  it('lets the pod drain: terminationGracePeriodSeconds covers preStop + SHUTDOWN_GRACE_MS with a margin', () => {
    // The kubelet's clock starts before the preStop hook; SIGKILL comes at terminationGracePeriodSeconds.
    // The margin covers writing the cache snapshot and process exit after the drain deadline.
    expect(graceSeconds * 1000).toBeGreaterThan(shutdownGraceMs);
    expect(graceSeconds * 1000 - preStopMs - shutdownGraceMs).toBeGreaterThanOrEqual(2000);
  });

  it('keeps the preStop pause short and shell-free', () => {
    expect(preStopMs).toBeGreaterThan(0);
    expect(preStopMs).toBeLessThanOrEqual(10_000);
    expect(preStop?.exec?.command?.[0] ?? '').not.toMatch(/^(\/bin\/)?(ba)?sh$/);
  });
});

describe('metrics', () => {
  it('lets the ServiceMonitor scrape /metrics without an API key', () => {
    expect(env.METRICS_PUBLIC ?? 'true').toBe('true');
  });
});

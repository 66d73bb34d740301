/**
 * The optional shared-cache component, k8s/components/shared-cache: a Valkey
 * for the fleet (Deployment on a PersistentVolumeClaim, Service, NetworkPolicy)
 * and the patches that point Signet at it (ConfigMap, password file, egress).
 * Its files are checked as they are; rendered with the base by `kubectl
 * kustomize` (where kubectl is installed), the patched Signet objects are
 * checked as the cluster would get them: egress to Valkey on 6379, Valkey
 * reachable from Signet only, REDIS_URL and the password file in step with
 * the Service and the Secret, and no password anywhere in the manifests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy, type INetworkPolicy, type INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1';
import {
  ConfigMap,
  PersistentVolumeClaim,
  Secret,
  Service,
  type IConfigMap,
  type IContainer,
  type IPersistentVolumeClaim,
  type IProbe,
  type ISecret,
  type IService,
} from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentSchema } from '../../src/config.js';
import {
  COMPONENTS_DIR,
  k8sDir,
  loadBase,
  metadataOf,
  parseYamlFile,
  quantity,
  selects,
  typeKey,
  validators,
  yamlFiles,
} from './manifests.js';

const dir = `${COMPONENTS_DIR}/shared-cache`;
const EXAMPLE = 'secret.example.yaml';
const VALKEY = 'signet-valkey';
const VALKEY_PORT = 6379;

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  components?: string[];
  patches?: { path?: string; patch?: string; target?: Record<string, string> }[];
}

/** Schemas for every kind the component holds: the base's, and the PersistentVolumeClaim. */
const validate = (doc: Record<string, unknown>): void => {
  const key = typeKey(doc);
  if (key === 'v1/PersistentVolumeClaim') return new PersistentVolumeClaim(doc as unknown as IPersistentVolumeClaim).validate();
  const validator = validators[key];
  if (!validator) throw new Error(`no schema for ${key}`);
  validator(doc);
};

const base = loadBase();
const signetPodLabels = base.deployment.spec?.template.metadata?.labels ?? {};
const component = (parseYamlFile(`${dir}/kustomization.yaml`)[0] ?? {}) as Kustomization;
const componentFiles = yamlFiles()
  .filter((file) => file.startsWith(`${dir}/`))
  .map((file) => file.slice(dir.length + 1));
const objects = (component.resources ?? []).flatMap((file) => parseYamlFile(`${dir}/${file}`));

function only<T>(docs: Record<string, unknown>[], kind: string, name: string, make: (doc: Record<string, unknown>) => T): T {
  const found = docs.filter((d) => d.kind === kind && metadataOf(d).name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length}`);
  return make(found[0] as Record<string, unknown>);
}

const asDeployment = (doc: Record<string, unknown>) => new Deployment(doc as unknown as IDeployment);
const asService = (doc: Record<string, unknown>) => new Service(doc as unknown as IService);
const asPolicy = (doc: Record<string, unknown>) => new NetworkPolicy(doc as unknown as INetworkPolicy);
const asClaim = (doc: Record<string, unknown>) => new PersistentVolumeClaim(doc as unknown as IPersistentVolumeClaim);
const asConfigMap = (doc: Record<string, unknown>) => new ConfigMap(doc as unknown as IConfigMap);

const valkey = only(objects, 'Deployment', VALKEY, asDeployment);
const valkeyPod = valkey.spec?.template.spec;
const valkeyPodLabels = valkey.spec?.template.metadata?.labels ?? {};
const valkeyContainer = (valkeyPod?.containers ?? [])[0] as IContainer;
const valkeyService = only(objects, 'Service', VALKEY, asService);
const valkeyPolicy = only(objects, 'NetworkPolicy', VALKEY, asPolicy);
const claim = only(objects, 'PersistentVolumeClaim', VALKEY, asClaim);
const exampleSecret = new Secret((parseYamlFile(`${dir}/${EXAMPLE}`)[0] ?? {}) as unknown as ISecret);
const exampleValues = Object.values({ ...exampleSecret.stringData, ...exampleSecret.data });

const portsOf = (ports: INetworkPolicyPort[] | undefined) => (ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${String(p.port)}`).sort();
/** The shell command of an exec probe, or `tcp:<port>`. */
const probeCommand = (probe: IProbe | undefined) =>
  probe?.tcpSocket ? `tcp:${String(probe.tcpSocket.port)}` : (probe?.exec?.command ?? []).join(' ');
/** A Valkey size ("256mb", "1gb", bytes) in bytes: Valkey's mb and gb are powers of 1024. */
const valkeyBytes = (size: string) => {
  const match = /^(\d+)(kb|mb|gb)?$/i.exec(size);
  if (!match) throw new Error(`not a Valkey size: ${size}`);
  return Number(match[1]) * { kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30, '': 1 }[(match[2] ?? '').toLowerCase() as 'kb' | 'mb' | 'gb' | ''];
};
/** The value after a flag in an argument list. */
const argAfter = (args: string[], flag: string) => {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
};
const valkeyArgs = [...(valkeyContainer?.command ?? []), ...(valkeyContainer?.args ?? [])];

describe('shared-cache component: kustomize', () => {
  it('is a kustomize Component listing its manifests, the example Secret left out', () => {
    expect(component.apiVersion).toBe('kustomize.config.k8s.io/v1alpha1');
    expect(component.kind).toBe('Component');
    const expected = componentFiles.filter((f) => f !== 'kustomization.yaml' && f !== EXAMPLE).sort();
    expect([...(component.resources ?? [])].sort()).toEqual(expected);
    expect(component.resources).not.toContain(EXAMPLE);
    expect(expected).toEqual(expect.arrayContaining(['deployment.yaml', 'service.yaml', 'networkpolicy.yaml']));
    // Optional: the base never enables it.
    const baseKustomization = (parseYamlFile('kustomization.yaml')[0] ?? {}) as Kustomization;
    expect(baseKustomization.resources?.some((r) => r.includes('shared-cache'))).toBe(false);
    expect(baseKustomization.components ?? []).toEqual([]);
  });

  it.each(componentFiles.filter((f) => f !== 'kustomization.yaml'))('%s holds valid Kubernetes objects', (file) => {
    const docs = parseYamlFile(`${dir}/${file}`);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      expect(() => validate(doc)).not.toThrow();
      expect(metadataOf(doc).namespace).toBeUndefined();
      expect(metadataOf(doc).labels).toMatchObject({
        'app.kubernetes.io/name': 'signet',
        'app.kubernetes.io/instance': 'signet',
        'app.kubernetes.io/component': 'shared-cache',
        'app.kubernetes.io/part-of': 'signet',
      });
    }
  });

  it('applies no Secret: the example is an obvious placeholder for signet-valkey/password', () => {
    expect(objects.map((o) => o.kind)).not.toContain('Secret');
    const text = readFileSync(join(k8sDir, dir, EXAMPLE), 'utf8');
    expect(text).toMatch(/EXAMPLE ONLY/);
    expect(text).toMatch(/not listed in kustomization\.yaml/i);
    expect(exampleSecret.metadata?.name).toBe(VALKEY);
    expect(Object.keys({ ...exampleSecret.stringData, ...exampleSecret.data })).toEqual(['password']);
    for (const value of exampleValues) expect(value).toContain('REPLACE_ME');
  });
});

describe('shared-cache component: Valkey', () => {
  it('runs one Valkey 8.1 pod, pinned by tag, replaced by Recreate', () => {
    expect(valkeyPod?.containers).toHaveLength(1);
    expect(valkeyContainer.image).toBe('valkey/valkey:8.1-alpine');
    expect(valkeyContainer.imagePullPolicy).toBe('IfNotPresent');
    expect(valkey.spec?.replicas).toBe(1);
    // A second pod on the same ReadWriteOnce volume and append-only file must never start first.
    expect(valkey.spec?.strategy?.type).toBe('Recreate');
    expect(valkey.spec?.strategy?.rollingUpdate).toBeUndefined();
  });

  it('persists to an append-only file on the PersistentVolumeClaim mounted at /data', () => {
    expect(argAfter(valkeyArgs, '--appendonly')).toBe('yes');
    expect(argAfter(valkeyArgs, '--dir')).toBe('/data');
    expect(claim.spec?.accessModes).toEqual(['ReadWriteOnce']);
    expect(quantity(claim.spec?.resources?.requests?.storage)).toBeGreaterThanOrEqual(2 ** 30);
    const mount = (valkeyContainer.volumeMounts ?? []).find((m) => m.mountPath === '/data');
    const volume = (valkeyPod?.volumes ?? []).find((v) => v.name === mount?.name);
    expect(volume?.persistentVolumeClaim?.claimName).toBe(claim.metadata?.name);
    expect(mount?.readOnly ?? false).toBe(false);
    // Besides scratch emptyDirs the PVC is the only writable path; nothing comes from the node.
    for (const m of valkeyContainer.volumeMounts ?? []) {
      if (m === mount || (valkeyPod?.volumes ?? []).find((v) => v.name === m.name)?.emptyDir) continue;
      expect(m.readOnly, m.mountPath).toBe(true);
    }
    expect((valkeyPod?.volumes ?? []).filter((v) => v.hostPath)).toEqual([]);
  });

  it('runs as non-root on a read-only root filesystem, without capabilities, under RuntimeDefault seccomp', () => {
    const pod = valkeyPod?.securityContext ?? {};
    const container = valkeyContainer.securityContext ?? {};
    expect(pod.runAsNonRoot).toBe(true);
    expect(container.runAsNonRoot).toBe(true);
    expect(container.runAsUser ?? pod.runAsUser).toBeGreaterThan(0);
    expect(container.runAsGroup ?? pod.runAsGroup).toBeGreaterThan(0);
    // The volume is writable by the pod's group.
    expect(pod.fsGroup).toBe(container.runAsGroup ?? pod.runAsGroup);
    expect(container.readOnlyRootFilesystem).toBe(true);
    expect(container.allowPrivilegeEscalation).toBe(false);
    expect(container.privileged ?? false).toBe(false);
    expect(container.capabilities?.drop).toContain('ALL');
    expect(container.capabilities?.add ?? []).toEqual([]);
    expect(pod.seccompProfile?.type).toBe('RuntimeDefault');
    expect(container.seccompProfile?.type ?? pod.seccompProfile?.type).toBe('RuntimeDefault');
    expect(valkeyPod?.automountServiceAccountToken).toBe(false);
    expect(valkeyPod?.hostNetwork ?? false).toBe(false);
    expect(valkeyPod?.hostPID ?? false).toBe(false);
    expect(valkeyPod?.hostIPC ?? false).toBe(false);
    expect((valkeyContainer.ports ?? []).every((p) => p.hostPort === undefined)).toBe(true);
  });

  it('takes its password from the Secret through an environment variable, never written in the manifest', () => {
    expect(argAfter(valkeyArgs, '--requirepass')).toBe('$(REDIS_PASSWORD)');
    const env = (valkeyContainer.env ?? []).find((e) => e.name === 'REDIS_PASSWORD');
    expect(env?.value).toBeUndefined();
    expect(env?.valueFrom?.secretKeyRef).toMatchObject({ name: exampleSecret.metadata?.name, key: 'password' });
    expect(env?.valueFrom?.secretKeyRef?.optional).not.toBe(true);
    // $(REDIS_PASSWORD) is expanded only from variables defined before it is used, in env.
    expect(valkeyContainer.envFrom).toBeUndefined();
  });

  it('has readiness, liveness and startup probes that PING it (authenticated) or open its port', () => {
    const probes = [valkeyContainer.readinessProbe, valkeyContainer.livenessProbe, valkeyContainer.startupProbe];
    for (const probe of probes) {
      const command = probeCommand(probe);
      expect(command).toMatch(/valkey-cli .*ping|^tcp:(redis|6379)$/);
      // An unauthenticated PING answers NOAUTH, and valkey-cli exits 0 on it: the reply must be checked.
      if (command.includes('valkey-cli')) {
        expect(command).toMatch(/-a "\$REDIS_PASSWORD"/);
        expect(command).toMatch(/grep -q PONG/);
      }
      expect(probe?.timeoutSeconds ?? 1).toBeLessThanOrEqual(probe?.periodSeconds ?? 10);
    }
    const budget = (p: IProbe | undefined) => (p?.periodSeconds ?? 10) * (p?.failureThreshold ?? 3);
    expect(budget(valkeyContainer.livenessProbe)).toBeGreaterThanOrEqual(budget(valkeyContainer.readinessProbe));
    // Loading a large append-only file takes a while: the startup probe gives it minutes, not seconds.
    expect(budget(valkeyContainer.startupProbe)).toBeGreaterThanOrEqual(120);
  });

  it('requests and limits CPU and memory, its maxmemory well inside the limit (an append-only rewrite forks)', () => {
    const { requests = {}, limits = {} } = valkeyContainer.resources ?? {};
    for (const resource of ['cpu', 'memory']) {
      expect(requests[resource], `requests.${resource}`).toBeDefined();
      expect(limits[resource], `limits.${resource}`).toBeDefined();
      expect(quantity(requests[resource])).toBeLessThanOrEqual(quantity(limits[resource]));
    }
    const maxmemory = valkeyBytes(argAfter(valkeyArgs, '--maxmemory') ?? '0');
    expect(maxmemory).toBeGreaterThan(0);
    expect(maxmemory).toBeLessThanOrEqual(quantity(limits.memory) * 0.75);
    expect(argAfter(valkeyArgs, '--maxmemory-policy')).toMatch(/^(allkeys|volatile)-(lru|lfu)$/);
  });

  it('is reached through the Service signet-valkey on 6379, which Signet never selects and the ServiceMonitor never scrapes', () => {
    expect(selects(valkeyService.spec?.selector, valkeyPodLabels)).toBe(true);
    expect(selects(valkey.spec?.selector.matchLabels, valkeyPodLabels)).toBe(true);
    const [port, ...others] = valkeyService.spec?.ports ?? [];
    expect(others).toEqual([]);
    expect(port?.port).toBe(VALKEY_PORT);
    const containerPort = (valkeyContainer.ports ?? []).find((p) => p.name === port?.targetPort || p.containerPort === port?.targetPort);
    expect(containerPort?.containerPort).toBe(VALKEY_PORT);
    expect(argAfter(valkeyArgs, '--port') ?? String(VALKEY_PORT)).toBe(String(VALKEY_PORT));
    // The ServiceMonitor scrapes the port named http of Services carrying Signet's labels, as this one does.
    expect((valkeyService.spec?.ports ?? []).map((p) => p.name)).not.toContain('http');
    // Signet's selectors and Valkey's never pick each other's pods.
    for (const selector of [
      base.service.spec?.selector,
      base.pdb.spec?.selector?.matchLabels,
      base.deployment.spec?.selector.matchLabels,
    ]) {
      expect(selects(selector, valkeyPodLabels)).toBe(false);
    }
    expect(selects(base.networkPolicy.spec?.podSelector.matchLabels, valkeyPodLabels)).toBe(false);
    expect(selects(valkeyService.spec?.selector, signetPodLabels)).toBe(false);
    expect(selects(valkey.spec?.selector.matchLabels, signetPodLabels)).toBe(false);
  });

  it("admits only Signet's pods, on 6379, and lets nothing out", () => {
    const spec = valkeyPolicy.spec;
    expect(selects(spec?.podSelector.matchLabels, valkeyPodLabels)).toBe(true);
    expect(selects(spec?.podSelector.matchLabels, signetPodLabels)).toBe(false);
    expect([...(spec?.policyTypes ?? [])].sort()).toEqual(['Egress', 'Ingress']);
    const rules = spec?.ingress ?? [];
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(portsOf(rule.ports)).toEqual([`TCP/${VALKEY_PORT}`]);
      expect(rule.from?.length, 'an ingress rule without `from` admits everyone').toBeGreaterThan(0);
      for (const peer of rule.from ?? []) {
        // A podSelector alone: Signet's pods in the policy's own namespace, nobody else.
        expect(peer.ipBlock).toBeUndefined();
        expect(peer.namespaceSelector).toBeUndefined();
        expect(selects(peer.podSelector?.matchLabels, signetPodLabels)).toBe(true);
        expect(selects(peer.podSelector?.matchLabels, valkeyPodLabels)).toBe(false);
        expect(peer.podSelector?.matchExpressions).toBeUndefined();
      }
    }
    expect(spec?.egress ?? []).toEqual([]);
  });
});

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { timeout: 30_000 }).status === 0;

describe.skipIf(!hasKubectl)('shared-cache component rendered with the base by `kubectl kustomize`', () => {
  let overlay: string;
  let text: string;
  let rendered: Record<string, unknown>[];
  let withMonitoring: Record<string, unknown>[];

  const render = (components: string[]): string => {
    const toK8s = relative(overlay, k8sDir);
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: signet',
        `resources: [${toK8s}]`,
        `components: [${components.map((c) => `${toK8s}/${COMPONENTS_DIR}/${c}`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8', timeout: 60_000 });
  };
  const parse = (yaml: string) =>
    parseAllDocuments(yaml)
      .map((d) => d.toJS() as Record<string, unknown> | null)
      .filter((d): d is Record<string, unknown> => d !== null);

  beforeAll(() => {
    overlay = mkdtempSync(join(tmpdir(), 'signet-shared-cache-'));
    text = render(['shared-cache']);
    rendered = parse(text);
    withMonitoring = parse(render(['servicemonitor', 'monitoring', 'shared-cache']));
  }, 120_000);
  afterAll(() => {
    if (overlay) rmSync(overlay, { recursive: true, force: true });
  });

  const signet = () => only(rendered, 'Deployment', 'signet', asDeployment);
  const signetContainer = () => (signet().spec?.template.spec?.containers ?? []).find((c) => c.name === 'signet') as IContainer;
  const configMap = () => only(rendered, 'ConfigMap', 'signet', asConfigMap);
  const renderedValkey = () => only(rendered, 'Deployment', VALKEY, asDeployment);

  it("adds Valkey's Deployment, Service, claim and NetworkPolicy to the base's objects, and nothing else", () => {
    const names = (docs: Record<string, unknown>[]) => docs.map((d) => `${String(d.kind)}/${String(metadataOf(d).name)}`).sort();
    const baseNames = base.manifests
      .filter((m) => !m.file.includes('/') && m.file !== 'kustomization.yaml' && m.file !== 'secret.example.yaml')
      .map((m) => `${String(m.doc.kind)}/${String(metadataOf(m.doc).name)}`);
    const added = [`Deployment/${VALKEY}`, `Service/${VALKEY}`, `PersistentVolumeClaim/${VALKEY}`, `NetworkPolicy/${VALKEY}`];
    expect(names(rendered)).toEqual([...baseNames, ...added].sort());
    for (const doc of rendered) expect(metadataOf(doc).namespace, String(doc.kind)).toBe('signet');
    for (const doc of rendered) expect(() => validate(doc)).not.toThrow();
    // Beside the monitoring components too.
    expect(names(withMonitoring)).toEqual(expect.arrayContaining([...added, 'ServiceMonitor/signet', 'PrometheusRule/signet']));
    expect(new Set(names(withMonitoring)).size).toBe(withMonitoring.length);
  });

  it("appends egress to Valkey's pods on TCP 6379 to Signet's NetworkPolicy, keeping DNS and Carbon Black", () => {
    const policy = only(rendered, 'NetworkPolicy', 'signet', asPolicy).spec;
    const baseEgress = base.networkPolicy.spec?.egress ?? [];
    const egress = policy?.egress ?? [];
    expect(egress.slice(0, baseEgress.length)).toEqual(JSON.parse(JSON.stringify(baseEgress)));
    expect(egress).toHaveLength(baseEgress.length + 1);
    const rule = egress.at(-1);
    expect(portsOf(rule?.ports)).toEqual([`TCP/${VALKEY_PORT}`]);
    expect(rule?.to?.length).toBeGreaterThan(0);
    const valkeyLabels = renderedValkey().spec?.template.metadata?.labels;
    for (const peer of rule?.to ?? []) {
      expect(peer.ipBlock).toBeUndefined();
      expect(peer.namespaceSelector).toBeUndefined();
      expect(selects(peer.podSelector?.matchLabels, valkeyLabels)).toBe(true);
      expect(selects(peer.podSelector?.matchLabels, signetPodLabels)).toBe(false);
    }
    // Ingress, pod selector and policy types untouched.
    expect(policy?.ingress).toEqual(JSON.parse(JSON.stringify(base.networkPolicy.spec?.ingress)));
    expect(policy?.podSelector).toEqual(JSON.parse(JSON.stringify(base.networkPolicy.spec?.podSelector)));
    expect([...(policy?.policyTypes ?? [])].sort()).toEqual(['Egress', 'Ingress']);
  });

  it("lets Valkey in from exactly the pods of Signet's rendered Deployment", () => {
    const ingress = only(rendered, 'NetworkPolicy', VALKEY, asPolicy).spec?.ingress ?? [];
    const podLabels = signet().spec?.template.metadata?.labels;
    expect(ingress.flatMap((r) => r.from ?? []).every((peer) => selects(peer.podSelector?.matchLabels, podLabels))).toBe(true);
    expect(ingress.flatMap((r) => portsOf(r.ports))).toEqual([`TCP/${VALKEY_PORT}`]);
  });

  it("points Signet's ConfigMap at the Valkey Service, without a password in the URL, with a fleet-wide bound", () => {
    const data = configMap().data ?? {};
    expect(data.REDIS_URL).toBe('redis://signet-valkey:6379');
    const url = new URL(data.REDIS_URL ?? '');
    expect(url.protocol).toBe('redis:');
    expect(url.password).toBe('');
    expect(url.username).toBe('');
    expect(url.hostname).toBe(only(rendered, 'Service', VALKEY, asService).metadata?.name);
    expect(Number(url.port)).toBe(only(rendered, 'Service', VALKEY, asService).spec?.ports?.[0]?.port);
    expect(data.CB_FLEET_MAX_CONCURRENCY).toBe('8');
    expect(Number(data.CB_FLEET_MAX_CONCURRENCY)).toBeLessThanOrEqual(Number(data.CB_MAX_CONCURRENCY) * (base.hpa.spec?.maxReplicas ?? 1));
    // The base's settings stay as they are.
    expect(data).toMatchObject(base.env);
  });

  it('keeps the ConfigMap within what src/config.ts accepts', () => {
    const data = configMap().data ?? {};
    const unknown = Object.keys(data).filter((name) => !Object.keys(environmentSchema.shape).includes(name));
    expect(unknown, `not in environmentSchema: ${unknown.join(', ')}`).toEqual([]);
    expect(environmentSchema.safeParse(data).error?.issues ?? []).toEqual([]);
  });

  it('gives Signet REDIS_PASSWORD_FILE from a read-only mount of the Secret Valkey takes its password from', () => {
    const path = configMap().data?.REDIS_PASSWORD_FILE ?? '';
    expect(path).toMatch(/^\/var\/run\/secrets\//);
    const pod = signet().spec?.template.spec;
    const mounts = signetContainer().volumeMounts ?? [];
    const mount = mounts
      .filter((m) => path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    expect(mount, `no volume mounted above ${path}`).toBeDefined();
    expect(mount?.readOnly).toBe(true);
    expect(mount?.subPath).toBeUndefined();
    const secret = (pod?.volumes ?? []).find((v) => v.name === mount?.name)?.secret;
    const valkeyRef = (renderedValkey().spec?.template.spec?.containers[0]?.env ?? []).find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom
      ?.secretKeyRef;
    expect(secret?.secretName).toBe(valkeyRef?.name);
    const item = (secret?.items ?? []).find((i) => i.path === posix.relative(mount?.mountPath ?? '', path));
    expect(item?.key).toBe(valkeyRef?.key);
    // As the base's credentials: readable through the pod's group only, never writable.
    expect(secret?.defaultMode).toBe(0o440);
    // Nested in another Secret's read-only mount it could not be mounted at all.
    for (const other of mounts)
      if (other !== mount) expect(mount?.mountPath.startsWith(`${other.mountPath}/`), other.mountPath).toBe(false);
  });

  it("leaves the rest of Signet's Deployment alone: its credentials, and the cache snapshot on its emptyDir", () => {
    const pod = signet().spec?.template.spec;
    const original = base.deployment.spec?.template.spec;
    for (const volume of original?.volumes ?? []) {
      expect((pod?.volumes ?? []).find((v) => v.name === volume.name)).toEqual(JSON.parse(JSON.stringify(volume)));
    }
    for (const mount of base.container.volumeMounts ?? []) {
      expect(signetContainer().volumeMounts ?? []).toContainEqual(JSON.parse(JSON.stringify(mount)));
    }
    expect((pod?.volumes ?? []).find((v) => v.name === 'state')?.emptyDir).toBeDefined();
    expect(pod?.volumes).toHaveLength((original?.volumes?.length ?? 0) + 1);
    expect(signetContainer().env).toEqual(base.container.env);
    expect(signet().spec?.strategy).toEqual(JSON.parse(JSON.stringify(base.deployment.spec?.strategy)));
  });

  it('holds no password anywhere: no Secret, no literal in a URL, an argument, a probe or an environment value', () => {
    expect(rendered.map((d) => d.kind)).not.toContain('Secret');
    for (const value of exampleValues) expect(text).not.toContain(value);
    expect(text).not.toMatch(/REPLACE_ME/);
    expect(text).not.toMatch(/rediss?:\/\/[^\s"'/]*@/);
    const data = configMap().data ?? {};
    expect(Object.keys(data).filter((k) => /PASSWORD$|SECRET$|TOKEN$/.test(k))).toEqual([]);
    for (const deployment of [signet(), renderedValkey()]) {
      for (const container of deployment.spec?.template.spec?.containers ?? []) {
        for (const e of container.env ?? []) if (/PASSWORD|SECRET|TOKEN/.test(e.name)) expect(e.value, e.name).toBeUndefined();
        const args = [...(container.command ?? []), ...(container.args ?? [])];
        for (const flag of ['--requirepass', '--masterauth']) {
          if (args.includes(flag)) expect(argAfter(args, flag)).toMatch(/^\$\([A-Z_]+\)$/);
        }
        for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
          for (const [, secret] of probeCommand(probe).matchAll(/(?:-a|--pass|--user \S+ --pass)\s+(\S+)/g)) {
            expect(secret).toMatch(/^"?\$[A-Z_]+"?$/);
          }
        }
      }
    }
  });
});

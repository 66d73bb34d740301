/**
 * The kustomize base in k8s/: every YAML document is valid against the Kubernetes
 * schemas (kubernetes-models), the kustomization lists exactly the manifests that
 * should be applied, and names, labels and selectors tie the objects together.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  COMPONENTS_DIR,
  EXAMPLE_FILES,
  k8sDir,
  loadBase,
  loadManifests,
  metadataOf,
  parseYamlFile,
  repoRoot,
  selects,
  typeKey,
  validators,
  yamlFiles,
} from './manifests.js';

const manifests = loadManifests();
const base = loadBase();
const podLabels = base.deployment.spec?.template.metadata?.labels ?? {};
const kustomizationFiles = yamlFiles().filter((file) => file === 'kustomization.yaml' || file.endsWith('/kustomization.yaml'));
const kubernetesObjects = manifests.filter((m) => !kustomizationFiles.includes(m.file));
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  components?: string[];
  images?: { name?: string; newName?: string; newTag?: string; digest?: string }[];
  namespace?: string;
  commonLabels?: unknown;
}

const kustomization = (parseYamlFile('kustomization.yaml')[0] ?? {}) as Kustomization;

describe('k8s/ YAML', () => {
  it('contains the expected files', () => {
    expect(yamlFiles()).toEqual(
      expect.arrayContaining([
        'kustomization.yaml',
        'deployment.yaml',
        'service.yaml',
        'configmap.yaml',
        'secret.example.yaml',
        'hpa.yaml',
        'pdb.yaml',
        'networkpolicy.yaml',
        `${COMPONENTS_DIR}/servicemonitor/kustomization.yaml`,
        `${COMPONENTS_DIR}/servicemonitor/servicemonitor.yaml`,
      ]),
    );
  });

  it.each(yamlFiles())('%s means the same in YAML 1.1 (Kubernetes) and YAML 1.2 (most tools)', (file) => {
    // Kubernetes decodes manifests as YAML 1.1, where `on`, `yes`, `0440` and the like are not what
    // they look like in YAML 1.2: quote such values or write modes in decimal.
    expect(parseYamlFile(file, '1.1')).toEqual(parseYamlFile(file, '1.2'));
  });

  it.each(kubernetesObjects.map((m) => [`${m.file}#${m.index} ${String(m.doc.kind)}`, m] as const))(
    '%s is a well-formed Kubernetes object',
    (_, { doc }) => {
      expect(doc.apiVersion).toEqual(expect.any(String));
      expect(doc.kind).toEqual(expect.any(String));
      expect(metadataOf(doc).name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      // A base is namespace-agnostic: overlays or `kubectl -n` pick the namespace.
      expect(metadataOf(doc).namespace).toBeUndefined();
      expect(doc).not.toHaveProperty('status');
      const key = typeKey(doc);
      // CRDs: the ServiceMonitor is checked below, the PrometheusRule in monitoring.test.ts.
      if (['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'].includes(key)) return;
      const validate = validators[key];
      expect(validate, `no schema for ${key}`).toBeDefined();
      expect(() => validate?.(doc)).not.toThrow();
    },
  );

  it('names each kind of object once', () => {
    const keys = kubernetesObjects.map((m) => `${typeKey(m.doc)}/${String(metadataOf(m.doc).name)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('kustomization.yaml', () => {
  it('is a kustomize base', () => {
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    // commonLabels would rewrite the (immutable) Deployment selector; labels are written out instead.
    expect(kustomization).not.toHaveProperty('commonLabels');
    expect(kustomization.namespace).toBeUndefined();
  });

  it('lists every manifest except the example Secret and the optional components', () => {
    const expected = yamlFiles()
      .filter((file) => !file.includes('/') && file !== 'kustomization.yaml' && !EXAMPLE_FILES.includes(file))
      .sort();
    const resources = kustomization.resources ?? [];
    expect([...resources].sort()).toEqual(expected);
    expect(new Set(resources).size).toBe(resources.length);
    for (const resource of resources) expect(existsSync(join(k8sDir, resource)), resource).toBe(true);
    expect(resources).not.toContain('secret.example.yaml');
    expect(resources.some((r) => r.startsWith(COMPONENTS_DIR))).toBe(false);
    expect(kustomization.components ?? []).toEqual([]);
  });

  it('does not apply a Secret or anything that needs a CRD', () => {
    const applied = manifests.filter((m) => (kustomization.resources ?? []).includes(m.file));
    expect(applied.map((m) => m.doc.kind)).not.toContain('Secret');
    for (const m of applied) expect(Object.keys(validators), m.file).toContain(typeKey(m.doc));
  });

  it('pins the image tag, in step with the Deployment and package.json', () => {
    const image = base.container.image ?? '';
    const match = /^(?<name>[^@]+?)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
    expect(match?.groups?.tag, `${image} needs a tag`).toBeDefined();
    expect(match?.groups?.tag).not.toBe('latest');
    const entry = (kustomization.images ?? []).find((i) => i.name === match?.groups?.name);
    expect(entry, `kustomization images: entry for ${match?.groups?.name}`).toBeDefined();
    expect(entry?.newTag).toBe(match?.groups?.tag);
    expect(entry?.newTag).toBe(packageJson.version);
    expect(base.container.imagePullPolicy).toBe('IfNotPresent');
  });

  // kubectl embeds kustomize; CI images without it skip this (the checks above still run).
  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { timeout: 30_000 }).status === 0;
  it.skipIf(!hasKubectl)('renders with `kubectl kustomize` into exactly the listed objects', { timeout: 60_000 }, () => {
    const rendered = execFileSync('kubectl', ['kustomize', k8sDir], { encoding: 'utf8', timeout: 60_000 });
    const kinds = parseAllDocuments(rendered)
      .map((d) => d.toJS() as Record<string, unknown> | null)
      .filter((d): d is Record<string, unknown> => d !== null)
      .map((d) => `${String(d.kind)}/${String(metadataOf(d).name)}`)
      .sort();
    const listed = manifests
      .filter((m) => (kustomization.resources ?? []).includes(m.file))
      .map((m) => `${String(m.doc.kind)}/${String(metadataOf(m.doc).name)}`)
      .sort();
    expect(kinds).toEqual(listed);
    expect(rendered).not.toMatch(/REPLACE_ME/);
  });

  it('leaves out secret.example.yaml, which is an obvious placeholder', () => {
    const file = readFileSync(join(k8sDir, 'secret.example.yaml'), 'utf8');
    expect(file).toMatch(/EXAMPLE/);
    expect(file).toMatch(/not listed in kustomization\.yaml/i);
    const values = Object.values({ ...base.exampleSecret.stringData, ...base.exampleSecret.data });
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(value).toContain('REPLACE_ME');
  });
});

describe('optional ServiceMonitor component', () => {
  const dir = `${COMPONENTS_DIR}/servicemonitor`;
  const component = (parseYamlFile(`${dir}/kustomization.yaml`)[0] ?? {}) as Kustomization;

  it('is a kustomize Component listing its manifests', () => {
    expect(component.apiVersion).toBe('kustomize.config.k8s.io/v1alpha1');
    expect(component.kind).toBe('Component');
    const files = yamlFiles()
      .filter((f) => f.startsWith(`${dir}/`) && f !== `${dir}/kustomization.yaml`)
      .map((f) => f.slice(dir.length + 1));
    expect([...(component.resources ?? [])].sort()).toEqual(files.sort());
  });

  it('holds a structurally valid ServiceMonitor (monitoring.coreos.com/v1)', () => {
    // The prometheus-operator models are not installed, so check the fields that matter by hand.
    const sm = base.serviceMonitor as {
      apiVersion?: unknown;
      metadata?: { name?: unknown };
      spec?: { selector?: { matchLabels?: Record<string, string> }; endpoints?: Record<string, unknown>[] };
    };
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata?.name).toEqual(expect.any(String));
    expect(sm.spec?.selector?.matchLabels).toEqual(expect.any(Object));
    expect(sm.spec?.endpoints?.length).toBeGreaterThan(0);
    const allowed = [
      'port',
      'targetPort',
      'path',
      'scheme',
      'interval',
      'scrapeTimeout',
      'honorLabels',
      'relabelings',
      'metricRelabelings',
    ];
    for (const endpoint of sm.spec?.endpoints ?? []) {
      for (const key of Object.keys(endpoint)) expect(allowed, `unexpected endpoint field ${key}`).toContain(key);
      expect(endpoint.port).toEqual(expect.any(String));
      expect(endpoint.path).toBe('/metrics');
      expect(endpoint.scheme ?? 'http').toBe('http');
      for (const duration of ['interval', 'scrapeTimeout']) {
        if (endpoint[duration] !== undefined) expect(endpoint[duration]).toMatch(/^(\d+(ms|s|m|h))+$/);
      }
    }
  });

  it('selects the Service and scrapes it by port name', () => {
    const sm = base.serviceMonitor as {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    expect(selects(sm.spec.selector.matchLabels, base.service.metadata?.labels)).toBe(true);
    const portNames = (base.service.spec?.ports ?? []).map((p) => p.name);
    for (const endpoint of sm.spec.endpoints) expect(portNames).toContain(endpoint.port);
  });
});

describe('labels and selectors', () => {
  it('labels every object with app.kubernetes.io/name and instance', () => {
    for (const { file, doc } of kubernetesObjects) {
      expect(metadataOf(doc).labels, file).toMatchObject({
        'app.kubernetes.io/name': 'signet',
        'app.kubernetes.io/instance': 'signet',
      });
    }
    expect(podLabels).toMatchObject({ 'app.kubernetes.io/name': 'signet', 'app.kubernetes.io/instance': 'signet' });
  });

  it('has a Deployment selector that matches its pods and uses no label that changes between releases', () => {
    const selector = base.deployment.spec?.selector.matchLabels;
    expect(selects(selector, podLabels)).toBe(true);
    expect(Object.keys(selector ?? {})).not.toContain('app.kubernetes.io/version');
    expect(base.deployment.spec?.selector.matchExpressions).toBeUndefined();
  });

  it('points the Service, PDB, NetworkPolicy and spread constraints at the pods', () => {
    expect(selects(base.service.spec?.selector, podLabels)).toBe(true);
    expect(selects(base.pdb.spec?.selector?.matchLabels, podLabels)).toBe(true);
    expect(selects(base.networkPolicy.spec?.podSelector.matchLabels, podLabels)).toBe(true);
    const constraints = base.deployment.spec?.template.spec?.topologySpreadConstraints ?? [];
    expect(constraints.length).toBeGreaterThan(0);
    for (const c of constraints) expect(selects(c.labelSelector?.matchLabels, podLabels)).toBe(true);
  });

  it('refers to the ConfigMap, ServiceAccount, Secret and Deployment by their names', () => {
    const pod = base.deployment.spec?.template.spec;
    const names = (kind: string) => kubernetesObjects.filter((m) => m.doc.kind === kind).map((m) => metadataOf(m.doc).name);
    const envFrom = base.container.envFrom ?? [];
    expect(envFrom.map((e) => e.configMapRef?.name)).toContain(base.configMap.metadata?.name);
    for (const e of envFrom) if (e.configMapRef) expect(names('ConfigMap')).toContain(e.configMapRef.name);
    expect(names('ServiceAccount')).toContain(pod?.serviceAccountName);
    const secretVolumes = (pod?.volumes ?? []).filter((v) => v.secret);
    expect(secretVolumes.map((v) => v.secret?.secretName)).toEqual([base.exampleSecret.metadata?.name]);
    expect(base.hpa.spec?.scaleTargetRef).toEqual({
      apiVersion: base.deployment.apiVersion,
      kind: 'Deployment',
      name: base.deployment.metadata?.name,
    });
  });
});

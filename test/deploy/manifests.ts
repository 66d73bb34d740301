/**
 * Loads the Kubernetes manifests under k8s/ for the deploy tests. Not a test file
 * itself (vitest only collects *.test.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
  type IConfigMap,
  type IContainer,
  type IPersistentVolumeClaim,
  type ISecret,
  type IService,
  type IServiceAccount,
} from 'kubernetes-models/v1';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const k8sDir = join(repoRoot, 'k8s');

/** Files that exist for people, never applied by `kubectl apply -k k8s/`. */
export const EXAMPLE_FILES = ['secret.example.yaml'];
/** Optional kustomize Components, enabled by overlays. */
export const COMPONENTS_DIR = 'components';

export interface Manifest {
  /** Path relative to k8s/, with forward slashes. */
  file: string;
  /** Index of the document in a multi-document file. */
  index: number;
  doc: Record<string, unknown>;
}

export function yamlFiles(dir = k8sDir): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => name.split(sep).join('/'))
    .sort();
}

/** Parses one YAML file into its (non-empty) documents; throws on any YAML error. */
export function parseYamlFile(file: string, version: '1.1' | '1.2' = '1.2'): Record<string, unknown>[] {
  const text = readFileSync(join(k8sDir, file), 'utf8');
  const docs = parseAllDocuments(text, { version, prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // empty stream
  const out: Record<string, unknown>[] = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file}: a document is not a mapping`);
    out.push(value as Record<string, unknown>);
  }
  return out;
}

export function loadManifests(): Manifest[] {
  return yamlFiles().flatMap((file) => parseYamlFile(file).map((doc, index) => ({ file, index, doc })));
}

export const typeKey = (doc: Record<string, unknown>): string => `${String(doc.apiVersion)}/${String(doc.kind)}`;

export function metadataOf(doc: Record<string, unknown>): { name?: string; namespace?: string; labels?: Record<string, string> } {
  const metadata = doc.metadata;
  return typeof metadata === 'object' && metadata !== null ? (metadata as ReturnType<typeof metadataOf>) : {};
}

/** Kubernetes kinds the base uses, validated against the Kubernetes OpenAPI schemas. */
export const validators: Record<string, (doc: Record<string, unknown>) => void> = {
  'v1/ConfigMap': (doc) => new ConfigMap(doc as unknown as IConfigMap).validate(),
  'v1/Secret': (doc) => new Secret(doc as unknown as ISecret).validate(),
  'v1/PersistentVolumeClaim': (doc) => new PersistentVolumeClaim(doc as unknown as IPersistentVolumeClaim).validate(),
  'v1/Service': (doc) => new Service(doc as unknown as IService).validate(),
  'v1/ServiceAccount': (doc) => new ServiceAccount(doc as unknown as IServiceAccount).validate(),
  'apps/v1/Deployment': (doc) => new Deployment(doc as unknown as IDeployment).validate(),
  'autoscaling/v2/HorizontalPodAutoscaler': (doc) => new HorizontalPodAutoscaler(doc as unknown as IHorizontalPodAutoscaler).validate(),
  'policy/v1/PodDisruptionBudget': (doc) => new PodDisruptionBudget(doc as unknown as IPodDisruptionBudget).validate(),
  'networking.k8s.io/v1/NetworkPolicy': (doc) => new NetworkPolicy(doc as unknown as INetworkPolicy).validate(),
};

/** The base's manifests, in the typed models of kubernetes-models. */
export interface Base {
  manifests: Manifest[];
  deployment: Deployment;
  container: IContainer;
  service: Service;
  configMap: ConfigMap;
  /** The ConfigMap's data: the environment the container gets through envFrom. */
  env: Record<string, string>;
  hpa: HorizontalPodAutoscaler;
  pdb: PodDisruptionBudget;
  networkPolicy: NetworkPolicy;
  exampleSecret: Secret;
  serviceMonitor: Record<string, unknown>;
}

function only(manifests: Manifest[], kind: string, where: (m: Manifest) => boolean = () => true): Manifest {
  const found = manifests.filter((m) => m.doc.kind === kind && where(m));
  if (found.length !== 1) throw new Error(`expected exactly one ${kind} in k8s/, found ${found.length}`);
  return found[0] as Manifest;
}

export function loadBase(): Base {
  const manifests = loadManifests();
  const inBase = (m: Manifest) => !EXAMPLE_FILES.includes(m.file) && !m.file.startsWith(`${COMPONENTS_DIR}/`);
  const deployment = new Deployment(only(manifests, 'Deployment', inBase).doc as unknown as IDeployment);
  const containers = deployment.spec?.template.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`expected one container in the Deployment, found ${containers.length}`);
  const configMap = new ConfigMap(only(manifests, 'ConfigMap', inBase).doc as unknown as IConfigMap);
  return {
    manifests,
    deployment,
    container: containers[0] as IContainer,
    service: new Service(only(manifests, 'Service', inBase).doc as unknown as IService),
    configMap,
    env: { ...configMap.data },
    hpa: new HorizontalPodAutoscaler(only(manifests, 'HorizontalPodAutoscaler', inBase).doc as unknown as IHorizontalPodAutoscaler),
    pdb: new PodDisruptionBudget(only(manifests, 'PodDisruptionBudget', inBase).doc as unknown as IPodDisruptionBudget),
    networkPolicy: new NetworkPolicy(only(manifests, 'NetworkPolicy', inBase).doc as unknown as INetworkPolicy),
    exampleSecret: new Secret(only(manifests, 'Secret', (m) => EXAMPLE_FILES.includes(m.file)).doc as unknown as ISecret),
    serviceMonitor: only(manifests, 'ServiceMonitor').doc,
  };
}

/** True when every matchLabels pair is among the labels. */
export function selects(matchLabels: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const wanted = Object.entries(matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A Kubernetes resource quantity ("100m", "1", "512Mi") as a plain number (cores, bytes). */
export function quantity(value: string | number | undefined): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value ?? '');
  if (!match) throw new Error(`not a quantity: ${String(value)}`);
  return Number(match[1]) * (QUANTITY_SUFFIXES[match[2] ?? ''] ?? NaN);
}

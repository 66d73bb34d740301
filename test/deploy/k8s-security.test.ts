/**
 * The pod runs locked down (restricted Pod Security Standard and then some), and
 * its NetworkPolicy lets in only the Service's traffic and lets out only DNS and
 * Carbon Black.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1';
import { describe, expect, it } from 'vitest';
import { loadBase, quantity, repoRoot, selects } from './manifests.js';

const base = loadBase();
const { container, env } = base;
const pod = base.deployment.spec?.template.spec;
const podSecurity = pod?.securityContext ?? {};
const containerSecurity = container.securityContext ?? {};
const containerPort = container.ports?.find((p) => p.name === 'http');

describe('pod and container security', () => {
  it('runs as a non-root user, the one the image declares', () => {
    expect(podSecurity.runAsNonRoot).toBe(true);
    expect(containerSecurity.runAsNonRoot).toBe(true);
    expect(podSecurity.runAsUser).toBe(1000);
    expect(containerSecurity.runAsUser ?? podSecurity.runAsUser).toBe(1000);
    expect(containerSecurity.runAsGroup ?? podSecurity.runAsGroup).not.toBe(0);
    const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
    const user = dockerfile
      .getInstructions()
      .filter((i) => i.getKeyword() === 'USER')
      .at(-1)
      ?.getArgumentsContent();
    expect(user?.split(':')[0]).toBe(String(podSecurity.runAsUser));
  });

  it('has a read-only root filesystem, no privilege escalation and no capabilities', () => {
    expect(containerSecurity.readOnlyRootFilesystem).toBe(true);
    expect(containerSecurity.allowPrivilegeEscalation).toBe(false);
    expect(containerSecurity.privileged ?? false).toBe(false);
    expect(containerSecurity.capabilities?.drop).toContain('ALL');
    expect(containerSecurity.capabilities?.add ?? []).toEqual([]);
    expect(containerSecurity.procMount ?? 'Default').toBe('Default');
  });

  it('uses the RuntimeDefault seccomp profile', () => {
    expect(podSecurity.seccompProfile?.type).toBe('RuntimeDefault');
    expect(containerSecurity.seccompProfile?.type ?? podSecurity.seccompProfile?.type).toBe('RuntimeDefault');
  });

  it('shares nothing with the node and gets no Kubernetes API token', () => {
    expect(pod?.hostNetwork ?? false).toBe(false);
    expect(pod?.hostPID ?? false).toBe(false);
    expect(pod?.hostIPC ?? false).toBe(false);
    expect(container.ports?.every((p) => p.hostPort === undefined)).toBe(true);
    expect((pod?.volumes ?? []).filter((v) => v.hostPath)).toEqual([]);
    expect(pod?.automountServiceAccountToken).toBe(false);
    const serviceAccount = base.manifests.find((m) => m.doc.kind === 'ServiceAccount')?.doc;
    expect(serviceAccount?.automountServiceAccountToken).toBe(false);
  });

  it('writes only to emptyDir volumes (and reads the Secret read-only)', () => {
    for (const mount of container.volumeMounts ?? []) {
      const volume = (pod?.volumes ?? []).find((v) => v.name === mount.name);
      if (volume?.emptyDir) continue;
      expect(mount.readOnly, `${mount.mountPath} must be read-only`).toBe(true);
    }
  });

  it('keeps the Secret files unwritable and hidden from other users', () => {
    const mode = (pod?.volumes ?? []).find((v) => v.secret)?.secret?.defaultMode ?? 0o644;
    expect(mode & 0o222).toBe(0); // nobody writes
    expect(mode & 0o007).toBe(0); // others read nothing
  });

  it('requests and limits CPU and memory', () => {
    const { requests = {}, limits = {} } = container.resources ?? {};
    for (const resource of ['cpu', 'memory']) {
      expect(requests[resource], `requests.${resource}`).toBeDefined();
      expect(limits[resource], `limits.${resource}`).toBeDefined();
      expect(quantity(requests[resource])).toBeLessThanOrEqual(quantity(limits[resource]));
    }
    // The cache lives in the heap: budget about 1 KiB of the memory limit per CACHE_MAX_ENTRIES entry
    // (an entry is a few hundred bytes), on top of a floor for Node itself.
    const memoryLimit = quantity(limits.memory);
    expect(memoryLimit).toBeGreaterThanOrEqual(256 * 2 ** 20);
    expect(Number(env.CACHE_MAX_ENTRIES ?? 100_000) * 1024, 'raise the memory limit with CACHE_MAX_ENTRIES').toBeLessThanOrEqual(
      memoryLimit,
    );
  });
});

describe('NetworkPolicy', () => {
  const policy = base.networkPolicy.spec;
  const portsOf = (ports: INetworkPolicyPort[] | undefined) => (ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${String(p.port)}`).sort();

  it('governs both directions for the Signet pods', () => {
    expect(selects(policy?.podSelector.matchLabels, base.deployment.spec?.template.metadata?.labels)).toBe(true);
    expect([...(policy?.policyTypes ?? [])].sort()).toEqual(['Egress', 'Ingress']);
  });

  it('admits traffic only on the container port behind the Service', () => {
    const rules = policy?.ingress ?? [];
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.ports?.length, 'an ingress rule without ports admits every port').toBeGreaterThan(0);
      for (const port of rule.ports ?? []) {
        expect([containerPort?.containerPort, containerPort?.name]).toContain(port.port);
        expect(port.protocol ?? 'TCP').toBe('TCP');
      }
    }
    const targetPort = base.service.spec?.ports?.[0]?.targetPort;
    expect([containerPort?.name, containerPort?.containerPort]).toContain(targetPort);
  });

  it('lets out DNS to kube-dns only', () => {
    const dns = (policy?.egress ?? []).filter((rule) => (rule.ports ?? []).some((p) => p.port === 53));
    expect(dns).toHaveLength(1);
    expect(portsOf(dns[0]?.ports)).toEqual(['TCP/53', 'UDP/53']);
    const peers = dns[0]?.to ?? [];
    expect(peers.length).toBeGreaterThan(0);
    for (const peer of peers) {
      expect(peer.ipBlock).toBeUndefined();
      expect(peer.podSelector?.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
      expect(peer.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'kube-system' });
    }
  });

  it("lets out Carbon Black on CB_URL's port, to an ipBlock placeholder, and nothing else", () => {
    const url = new URL(env.CB_URL ?? '');
    const cbPort = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const others = (policy?.egress ?? []).filter((rule) => !(rule.ports ?? []).some((p) => p.port === 53));
    expect(others).toHaveLength(1);
    expect(portsOf(others[0]?.ports)).toEqual([`TCP/${cbPort}`]);
    const peers = others[0]?.to ?? [];
    expect(peers.length, 'an egress rule without `to` allows every destination').toBeGreaterThan(0);
    for (const peer of peers) {
      expect(peer.ipBlock?.cidr).toMatch(/^[\d.]+\/\d+$|^[0-9a-f:]+\/\d+$/i);
      expect(peer.ipBlock?.cidr).not.toMatch(/^0\.0\.0\.0\/0$|^::\/0$/);
    }
    const text = readFileSync(join(repoRoot, 'k8s', 'networkpolicy.yaml'), 'utf8');
    expect(text).toMatch(/PLACEHOLDER/);
  });
});

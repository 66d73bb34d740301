/**
 * Signet stays available through rollouts, node drains and zone failures: several
 * replicas spread over zones and nodes, an HPA that never goes below two, a PDB
 * that still lets nodes drain, and a rollout that never removes capacity first.
 */
import { describe, expect, it } from 'vitest';
import { loadBase } from './manifests.js';

const base = loadBase();
const spec = base.deployment.spec;
const hpa = base.hpa.spec;

describe('replicas and autoscaling', () => {
  it('starts with at least two replicas', () => {
    expect(spec?.replicas).toBeGreaterThanOrEqual(2);
  });

  it('autoscales on CPU (autoscaling/v2) between at least 2 and a higher maximum', () => {
    expect(base.hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa?.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa?.maxReplicas).toBeGreaterThan(hpa?.minReplicas ?? 1);
    expect(spec?.replicas).toBeGreaterThanOrEqual(hpa?.minReplicas ?? 1);
    const cpu = (hpa?.metrics ?? []).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
    expect(cpu?.resource?.target.type).toBe('Utilization');
    expect(cpu?.resource?.target.averageUtilization).toBeGreaterThan(0);
    expect(cpu?.resource?.target.averageUtilization).toBeLessThanOrEqual(100);
    // Utilization is relative to the request, which must therefore exist.
    expect(base.container.resources?.requests?.cpu).toBeDefined();
  });
});

describe('disruptions', () => {
  it('keeps at least one pod through voluntary disruptions without blocking node drains', () => {
    expect(base.pdb.apiVersion).toBe('policy/v1');
    const minAvailable = base.pdb.spec?.minAvailable;
    expect(minAvailable).toBe(1);
    expect(base.pdb.spec?.maxUnavailable).toBeUndefined();
    expect(Number(minAvailable)).toBeLessThan(hpa?.minReplicas ?? 0);
  });

  it('rolls out by surging, never by removing a ready pod first', () => {
    expect(spec?.strategy?.type ?? 'RollingUpdate').toBe('RollingUpdate');
    expect(spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(spec?.strategy?.rollingUpdate?.maxSurge).not.toBe(0);
  });

  it('spreads pods over zones and over nodes, without making a small cluster unschedulable', () => {
    const constraints = spec?.template.spec?.topologySpreadConstraints ?? [];
    const keys = constraints.map((c) => c.topologyKey).sort();
    expect(keys).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const c of constraints) {
      expect(c.maxSkew).toBe(1);
      expect(c.whenUnsatisfiable).toBe('ScheduleAnyway');
    }
  });
});

/**
 * The optional monitoring component, k8s/components/monitoring: a kustomize
 * Component like the ServiceMonitor's, holding a PrometheusRule and the Grafana
 * dashboard (generated into a ConfigMap for Grafana's sidecar). Every PromQL
 * expression, in the rules and in the dashboard, may name only metrics Signet
 * exports (the registry of src/observability/metrics.ts), with label names and
 * fixed label values those metrics have: a misspelt metric, label or value
 * fails here rather than leaving an alert that can never fire.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type UpstreamOutcome } from '../../src/observability/metrics.js';
import { COMPONENTS_DIR, k8sDir, metadataOf, parseYamlFile, yamlFiles } from './manifests.js';

const dir = `${COMPONENTS_DIR}/monitoring`;

// ---------------------------------------------------------------------------
// What Signet exports: series names, their label names, and the label values seen.

interface SeriesInfo {
  labels: Set<string>;
  /** Values seen per label, for labels whose values are a fixed set. */
  values: Map<string, Set<string>>;
}

/**
 * Labels whose values are open-ended (error codes, route templates, methods, statuses): their
 * values are not checked. Every other label of Signet's has a fixed set of values, all exported.
 */
const OPEN_LABELS = new Set(['code', 'route', 'method', 'status_code']);

/** Labels Prometheus (and the Prometheus Operator's ServiceMonitor) add to every scraped series. */
const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'service', 'endpoint', 'container'];

async function exportedSeries(): Promise<Map<string, SeriesInfo>> {
  const metrics = createMetrics({ defaultMetrics: false });
  // Exported only with a shared tier (REDIS_URL), which the alert rules cover too.
  metrics.bindSources({ sharedCacheUp: () => true });
  // Children created on first use (codes, routes, retries, batches) are created here, so that
  // every series Signet can export appears with its labels.
  const outcomes: UpstreamOutcome[] = ['success', 'failure', 'timeout', 'cancelled'];
  for (const outcome of outcomes)
    metrics.upstreamRequest(outcome, 5, outcome === 'failure' || outcome === 'timeout' ? 'CB_TIMEOUT' : undefined);
  metrics.upstreamRetry('CB_UNREACHABLE');
  metrics.upstreamBatch(3);
  metrics.httpRequest('GET', '/v1/signatures/:hash', 200, 1);
  const series = new Map<string, SeriesInfo>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    // prom-client keeps a metric's label names on the instance but leaves them out of its types.
    const instance = metrics.registry.getSingleMetric(metric.name) as unknown as { labelNames?: readonly string[] } | undefined;
    const labelNames = [...(instance?.labelNames ?? []), ...metric.values.flatMap((v) => Object.keys(v.labels))].filter((l) => l !== 'le');
    const names =
      String(metric.type) === 'histogram' ? [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`] : [metric.name];
    for (const name of names) {
      const info: SeriesInfo = { labels: new Set([...labelNames, ...(name.endsWith('_bucket') ? ['le'] : [])]), values: new Map() };
      series.set(name, info);
    }
    for (const value of metric.values) {
      const info = series.get((value as { metricName?: string }).metricName ?? metric.name);
      for (const [label, labelValue] of Object.entries(value.labels)) {
        if (label === 'le') continue;
        const seen = info?.values.get(label) ?? new Set<string>();
        seen.add(String(labelValue));
        info?.values.set(label, seen);
      }
    }
  }
  return series;
}

// ---------------------------------------------------------------------------
// A small PromQL reader: enough to find every metric name, label matcher and grouping label.

type Token = { kind: 'ident' | 'string' | 'number' | 'range' | 'punct' | 'op'; text: string };

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
const FUNCTIONS = new Set([
  'abs',
  'absent',
  'absent_over_time',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'count_over_time',
  'day_of_month',
  'day_of_week',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_avg',
  'histogram_count',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_sum',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'last_over_time',
  'ln',
  'log10',
  'log2',
  'max_over_time',
  'min_over_time',
  'predict_linear',
  'present_over_time',
  'quantile_over_time',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sort',
  'sort_desc',
  'sqrt',
  'stddev_over_time',
  'stdvar_over_time',
  'sum_over_time',
  'time',
  'timestamp',
  'vector',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2']);

/** Grafana's interval variables, which stand where PromQL has a duration. */
const withGrafanaIntervals = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const patterns: [Token['kind'], RegExp][] = [
    ['string', /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'|^`[^`]*`/],
    ['range', /^\[[^\]]*\]/],
    ['number', /^(?:\d+(?:ms|s|m|h|d|w|y))+|^\d+(?:\.\d+)?(?:e[+-]?\d+)?/i],
    ['ident', /^[a-zA-Z_:][a-zA-Z0-9_:]*/],
    ['op', /^(?:==|!=|<=|>=|=~|!~|[-+*/%^<>=])/],
    ['punct', /^[(){},@]/],
  ];
  let rest = expr;
  while (rest.length > 0) {
    const space = /^(?:\s+|#[^\n]*)/.exec(rest);
    if (space) {
      rest = rest.slice(space[0].length);
      continue;
    }
    const match = patterns.map(([kind, pattern]) => [kind, pattern.exec(rest)] as const).find(([, m]) => m !== null);
    if (!match?.[1]) throw new Error(`cannot read PromQL at: ${rest.slice(0, 30)}`);
    tokens.push({ kind: match[0], text: match[1][0] });
    rest = rest.slice(match[1][0].length);
  }
  return tokens;
}

interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

interface Reading {
  selectors: Selector[];
  /** Labels named in by/without/on/ignoring/group_left/group_right. */
  grouping: string[];
  /** Problems found while reading (unknown functions, unbalanced parentheses, bad ranges). */
  problems: string[];
}

function readPromQL(source: string): Reading {
  const tokens = tokenize(withGrafanaIntervals(source));
  const reading: Reading = { selectors: [], grouping: [], problems: [] };
  let depth = 0;
  const labelList = (start: number): number => {
    // `(` label {, label} `)`; returns the index after `)`.
    let i = start + 1;
    for (; i < tokens.length && tokens[i]?.text !== ')'; i++) {
      const token = tokens[i] as Token;
      if (token.kind === 'ident') reading.grouping.push(token.text);
      else if (token.text !== ',') reading.problems.push(`unexpected ${token.text} in a label list`);
    }
    return i + 1;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    if (token.kind === 'range') {
      if (!/^\[\d+[a-z]+(?::(?:\d+[a-z]+)?)?\]$/.test(token.text)) reading.problems.push(`bad range ${token.text}`);
      continue;
    }
    if (token.text === '(') depth++;
    if (token.text === ')') depth--;
    if (depth < 0) reading.problems.push('unbalanced )');
    if (token.text === '{') {
      reading.problems.push('a selector without a metric name');
      continue;
    }
    if (token.kind !== 'ident') continue;
    if (GROUPING.has(token.text)) {
      if (next?.text === '(') i = labelList(i + 1) - 1;
      else if (!token.text.startsWith('group_')) reading.problems.push(`${token.text} without a label list`);
      continue;
    }
    if (KEYWORDS.has(token.text)) continue;
    // `sum by (job) (...)`: an aggregation whose grouping comes first.
    if (AGGREGATIONS.has(token.text) && (next?.text === 'by' || next?.text === 'without')) continue;
    if (next?.text === '(') {
      if (!AGGREGATIONS.has(token.text) && !FUNCTIONS.has(token.text)) reading.problems.push(`unknown function ${token.text}`);
      continue;
    }
    const selector: Selector = { metric: token.text, matchers: [] };
    reading.selectors.push(selector);
    if (next?.text !== '{') continue;
    let j = i + 2;
    while (j < tokens.length && tokens[j]?.text !== '}') {
      const [label, op, value] = [tokens[j], tokens[j + 1], tokens[j + 2]];
      if (label?.kind !== 'ident' || op?.kind !== 'op' || !['=', '!=', '=~', '!~'].includes(op.text) || value?.kind !== 'string') {
        reading.problems.push(`bad matcher in ${selector.metric}{...}`);
        break;
      }
      selector.matchers.push({ label: label.text, op: op.text, value: value.text.slice(1, -1) });
      j += 3;
      if (tokens[j]?.text === ',') j++;
    }
    i = j;
  }
  if (depth !== 0) reading.problems.push('unbalanced parentheses');
  return reading;
}

/** Everything wrong with an expression, as readable lines; empty when it only uses what Signet exports. */
function promqlProblems(expr: string, series: Map<string, SeriesInfo>): string[] {
  let reading: Reading;
  try {
    reading = readPromQL(expr);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems = [...reading.problems];
  if (reading.selectors.length === 0) problems.push('selects no metric');
  const usable = new Set(TARGET_LABELS);
  for (const { metric, matchers } of reading.selectors) {
    const info = series.get(metric);
    if (info === undefined) {
      problems.push(`${metric} is not a metric Signet exports`);
      continue;
    }
    for (const label of info.labels) usable.add(label);
    for (const { label, op, value } of matchers) {
      if (TARGET_LABELS.includes(label)) continue;
      if (!info.labels.has(label)) {
        problems.push(`${metric} has no label ${label}`);
        continue;
      }
      const known = info.values.get(label);
      if (OPEN_LABELS.has(label) || known === undefined) continue;
      // Equality, or a regex that is a plain alternation of values ("hit|stale").
      const wanted = op.endsWith('~') ? (/^[\w-]+(?:\|[\w-]+)*$/.test(value) ? value.split('|') : []) : [value];
      for (const v of wanted) if (!known.has(v)) problems.push(`${metric}{${label}} has no value "${v}" (it has ${[...known].join(', ')})`);
    }
  }
  for (const label of reading.grouping) if (!usable.has(label)) problems.push(`no metric in the expression has the label ${label}`);
  return problems;
}

// ---------------------------------------------------------------------------
// The component's files.

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  configMapGenerator?: {
    name?: string;
    files?: string[];
    options?: { disableNameSuffixHash?: boolean; labels?: Record<string, string> };
  }[];
}

interface Rule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

interface PrometheusRule {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { groups?: { name?: string; interval?: string; rules?: Rule[] }[] };
}

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

interface Panel {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
}

interface Dashboard {
  id?: number | null;
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: {
    list?: { name?: string; type?: string; query?: string | { query?: string }; datasource?: { type?: string; uid?: string } }[];
  };
}

const component = (parseYamlFile(`${dir}/kustomization.yaml`)[0] ?? {}) as Kustomization;
const ruleManifest = (parseYamlFile(`${dir}/prometheusrule.yaml`)[0] ?? {}) as PrometheusRule;
const ruleText = readFileSync(join(k8sDir, dir, 'prometheusrule.yaml'), 'utf8');
const dashboardFile = 'signet-dashboard.json';
const dashboardText = readFileSync(join(k8sDir, dir, dashboardFile), 'utf8');
const dashboard = JSON.parse(dashboardText) as Dashboard;
const groups = ruleManifest.spec?.groups ?? [];
const rules = groups.flatMap((group) => group.rules ?? []);
const alerts = rules.filter((rule) => rule.alert !== undefined);
/** Every panel, rows' nested panels included. */
const allPanels = (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const dataPanels = allPanels.filter((panel) => panel.type !== 'row');
const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const durationPattern = /^(\d+(ms|s|m|h|d|w|y))+$/;

let series: Map<string, SeriesInfo>;
beforeAll(async () => {
  series = await exportedSeries();
});

describe('the PromQL check itself', () => {
  it('knows every metric of the registry, histograms by their _bucket, _sum and _count', () => {
    expect(series.get('signet_lookups_total')?.labels).toEqual(new Set(['outcome']));
    expect(series.get('signet_upstream_requests_total')?.labels).toEqual(new Set(['outcome', 'code']));
    expect(series.get('signet_http_request_duration_seconds_bucket')?.labels).toEqual(new Set(['method', 'route', 'status_code', 'le']));
    expect(series.has('signet_upstream_batch_hashes_count')).toBe(true);
    expect(series.has('signet_upstream_request_duration_seconds')).toBe(false);
    expect(series.get('signet_circuit_breaker_state')?.values.get('state')).toEqual(new Set(['closed', 'half-open', 'open']));
  });

  it('accepts what Signet exports', () => {
    const ok = [
      'sum by (namespace, job) (rate(signet_lookups_total{outcome=~"hit|stale", job=~"$job"}[$__rate_interval]))',
      'histogram_quantile(0.99, sum by (le, route) (rate(signet_http_request_duration_seconds_bucket{status_code=~"5.."}[5m])))',
      'max by (pod) (max_over_time(signet_circuit_breaker_state{state="open"}[2m] offset 1h)) == 1',
      'signet_upstream_budget_used / (signet_upstream_budget_limit > 0) > 0.9',
    ];
    for (const expr of ok) expect(promqlProblems(expr, series), expr).toEqual([]);
  });

  it.each([
    ['a misspelt metric', 'rate(signet_lookup_total[5m])', /signet_lookup_total is not a metric/],
    ['a histogram by its base name', 'rate(signet_http_request_duration_seconds[5m])', /is not a metric/],
    ['another label name', 'signet_lookups_total{outcom="error"}', /has no label outcom/],
    ['a label of another metric', 'signet_upstream_queued{outcome="error"}', /has no label outcome/],
    ['a label value it never has', 'signet_circuit_breaker_state{state="opened"}', /has no value "opened"/],
    ['a value in a regex', 'signet_lookups_total{outcome=~"hit|stal"}', /has no value "stal"/],
    ['grouping by a label nobody has', 'sum by (outcome) (signet_upstream_queued)', /label outcome/],
    ['an unknown function', 'rated(signet_lookups_total[5m])', /unknown function rated/],
    ['a selector without a name', '{__name__="signet_lookups_total"}', /without a metric name/],
    ['a bad range', 'rate(signet_lookups_total[5])', /bad range/],
    ['unbalanced parentheses', 'sum(rate(signet_lookups_total[5m])', /unbalanced/],
    ['a shared-tier metric misspelt', 'rate(signet_shared_cache_error_total[5m])', /is not a metric/],
  ])('rejects %s', (_, expr, problem) => {
    expect(promqlProblems(expr, series).join('\n')).toMatch(problem);
  });
});

describe('monitoring component: kustomize', () => {
  it('is a kustomize Component listing its manifests, like the ServiceMonitor component', () => {
    expect(component.apiVersion).toBe('kustomize.config.k8s.io/v1alpha1');
    expect(component.kind).toBe('Component');
    const files = yamlFiles()
      .filter((f) => f.startsWith(`${dir}/`) && f !== `${dir}/kustomization.yaml`)
      .map((f) => f.slice(dir.length + 1));
    expect([...(component.resources ?? [])].sort()).toEqual(files.sort());
    expect(component.resources).toEqual(['prometheusrule.yaml']);
    // Nothing here may need more than the Prometheus Operator's CRDs and a ConfigMap.
    const base = (parseYamlFile('kustomization.yaml')[0] ?? {}) as { resources?: string[]; components?: string[] };
    expect(base.resources?.some((r) => r.includes('monitoring'))).toBe(false);
    expect(base.components ?? []).toEqual([]);
  });

  it('generates the dashboard ConfigMap from the JSON file, with the Grafana sidecar label and a stable name', () => {
    const generators = component.configMapGenerator ?? [];
    expect(generators).toHaveLength(1);
    const [generator] = generators;
    expect(generator?.name).toBe('signet-dashboard');
    expect(generator?.files).toEqual([dashboardFile]);
    expect(existsSync(join(k8sDir, dir, dashboardFile))).toBe(true);
    expect(generator?.options?.disableNameSuffixHash).toBe(true);
    // A string: Kubernetes label values are strings, and the sidecar matches "1".
    expect(generator?.options?.labels?.grafana_dashboard).toBe('1');
    expect(generator?.options?.labels).toMatchObject({ 'app.kubernetes.io/name': 'signet', 'app.kubernetes.io/instance': 'signet' });
    // Client-side `kubectl apply` keeps a copy in an annotation limited to 256 KiB.
    expect(Buffer.byteLength(dashboardText)).toBeLessThan(200 * 1024);
  });

  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { timeout: 30_000 }).status === 0;
  describe.skipIf(!hasKubectl)('rendered with `kubectl kustomize` in an overlay', () => {
    let overlay: string;
    let rendered: Record<string, unknown>[];
    beforeAll(() => {
      overlay = mkdtempSync(join(tmpdir(), 'signet-monitoring-'));
      const toK8s = relative(overlay, k8sDir);
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'namespace: signet',
          `resources: [${toK8s}]`,
          `components: [${toK8s}/${COMPONENTS_DIR}/servicemonitor, ${toK8s}/${dir}]`,
          '',
        ].join('\n'),
      );
      const text = execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8', timeout: 60_000 });
      rendered = parseAllDocuments(text)
        .map((d) => d.toJS() as Record<string, unknown> | null)
        .filter((d): d is Record<string, unknown> => d !== null);
    }, 60_000);
    afterAll(() => {
      if (overlay) rmSync(overlay, { recursive: true, force: true });
    });

    it('adds exactly the PrometheusRule and the dashboard ConfigMap to the base and the ServiceMonitor', () => {
      const kinds = rendered.map((d) => `${String(d.kind)}/${String(metadataOf(d).name)}`);
      expect(kinds).toEqual(
        expect.arrayContaining(['PrometheusRule/signet', 'ConfigMap/signet-dashboard', 'ServiceMonitor/signet', 'Deployment/signet']),
      );
      expect(new Set(kinds).size).toBe(kinds.length);
      for (const d of rendered) expect(metadataOf(d).namespace, String(d.kind)).toBe('signet');
    });

    it('ships the dashboard JSON unchanged, labelled for the sidecar', () => {
      const configMap = rendered.find((d) => d.kind === 'ConfigMap' && metadataOf(d).name === 'signet-dashboard') as
        { data?: Record<string, string>; metadata?: { labels?: Record<string, string> } } | undefined;
      expect(configMap?.metadata?.labels?.grafana_dashboard).toBe('1');
      expect(configMap?.data?.[dashboardFile]).toBe(dashboardText);
    });
  });
});

describe('monitoring component: PrometheusRule', () => {
  it('is a structurally valid PrometheusRule (monitoring.coreos.com/v1)', () => {
    // The prometheus-operator models are not installed, so check the fields that matter by hand.
    expect(ruleManifest.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(ruleManifest.kind).toBe('PrometheusRule');
    expect(ruleManifest.metadata?.name).toBe('signet');
    expect(ruleManifest.metadata?.labels).toMatchObject({ 'app.kubernetes.io/name': 'signet', 'app.kubernetes.io/instance': 'signet' });
    expect(Object.keys(ruleManifest.spec ?? {})).toEqual(['groups']);
    expect(groups.length).toBeGreaterThan(0);
    const groupNames = groups.map((g) => g.name);
    expect(new Set(groupNames).size).toBe(groupNames.length);
    for (const group of groups) {
      expect(group.name).toMatch(/^signet\.[a-z-]+$/);
      expect(Object.keys(group).every((key) => ['name', 'interval', 'rules', 'limit', 'partial_response_strategy'].includes(key))).toBe(
        true,
      );
      expect(group.rules?.length, group.name).toBeGreaterThan(0);
    }
    for (const rule of rules) {
      for (const key of Object.keys(rule))
        expect(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']).toContain(key);
      expect(typeof rule.expr).toBe('string');
    }
  });

  it('has the alerts of the issue, each named once', () => {
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'SignetCircuitBreakerOpen',
        'SignetLookupErrorRatioHigh',
        'SignetCacheHitRatioLow',
        'SignetUpstreamQueueNearFull',
        'SignetCloudBudgetNearlySpent',
        'SignetSharedTierDown',
      ]),
    );
    for (const name of names) expect(name).toMatch(/^Signet[A-Z][A-Za-z0-9]+$/);
  });

  it.each(alerts.map((a) => [a.alert ?? '?', a] as const))(
    '%s has for, a severity, a summary and a runbook-style description',
    (_, alert) => {
      expect(alert.for).toMatch(durationPattern);
      expect(['critical', 'warning', 'info']).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary?.length).toBeGreaterThan(20);
      expect(alert.annotations?.description?.length).toBeGreaterThan(200);
      // What to look at, not only what happened.
      expect(alert.annotations?.description).toMatch(/Check/);
    },
  );

  it.each(rules.map((r) => [r.alert ?? r.record ?? '?', r] as const))('%s: its expression uses only what Signet exports', (_, rule) => {
    expect(promqlProblems(rule.expr ?? '', series)).toEqual([]);
  });

  it.each(alerts.map((a) => [a.alert ?? '?', a] as const))('%s: its annotations name only labels its expression keeps', (_, alert) => {
    const kept = new Set(readPromQL(alert.expr ?? '').grouping);
    for (const text of Object.values(alert.annotations ?? {})) {
      expect(text.split('{{').length, 'balanced {{ }}').toBe(text.split('}}').length);
      for (const [, label] of text.matchAll(/\$labels\.(\w+)/g)) expect([...kept], `$labels.${label}`).toContain(label);
    }
  });

  it('alerts on an open breaker, a share of errors, and a Cloud budget only where it exists', () => {
    const byName = (name: string) => alerts.find((a) => a.alert === name)?.expr ?? '';
    expect(byName('SignetCircuitBreakerOpen')).toMatch(/signet_circuit_breaker_state\{state="open"\}/);
    expect(alerts.find((a) => a.alert === 'SignetCircuitBreakerOpen')?.labels?.severity).toBe('critical');
    expect(byName('SignetLookupErrorRatioHigh')).toMatch(/outcome="error"/);
    expect(byName('SignetCacheHitRatioLow')).toMatch(/offset 1h/);
    // On EDR the limit is 0: the expression must not divide by it unfiltered.
    expect(byName('SignetCloudBudgetNearlySpent')).toMatch(/signet_upstream_budget_used \/ \(signet_upstream_budget_limit > 0\)/);
  });

  it('documents the queue threshold as a share of CB_MAX_QUEUE, and the patch path in the header points at it', () => {
    const queue = alerts.find((a) => a.alert === 'SignetUpstreamQueueNearFull');
    const threshold = Number(/signet_upstream_queued\[\w+\]\)\) > (\d+)/.exec(queue?.expr ?? '')?.[1]);
    expect(threshold).toBe(800); // 80 % of CB_MAX_QUEUE's default, 1000
    expect(ruleText).toMatch(/CB_MAX_QUEUE/);
    const path = /at (\/spec\/groups\/(\d+)\/rules\/(\d+)\/expr)/.exec(ruleText);
    expect(groups[Number(path?.[2])]?.rules?.[Number(path?.[3])]?.alert).toBe('SignetUpstreamQueueNearFull');
  });

  it('fires on a pod that lost the shared tier or on failing shared-tier commands, never without REDIS_URL', () => {
    const rule = alerts.find((a) => a.alert === 'SignetSharedTierDown');
    const selected = readPromQL(rule?.expr ?? '').selectors.map((s) => s.metric);
    expect(selected.sort()).toEqual(['signet_shared_cache_errors_total', 'signet_shared_cache_up']);
    // Without REDIS_URL the up gauge is absent and the errors stay 0: absent() or `or vector(...)` would make it fire.
    expect(rule?.expr).not.toMatch(/absent|vector\(/);
    expect(rule?.expr).toMatch(/signet_shared_cache_up\) == 0/);
    expect(ruleText).toMatch(/never fires/);
  });
});

describe('monitoring component: Grafana dashboard', () => {
  it('is the "Signet" dashboard with a unique uid, ready for provisioning', () => {
    expect(dashboard.uid).toBe('signet');
    expect(dashboard.title).toBe('Signet');
    // Grafana's uid rules: at most 40 characters of letters, digits, - and _.
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.id ?? null).toBeNull();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboardText.endsWith('\n')).toBe(true);
  });

  it('takes its datasource from the DS_PROMETHEUS variable', () => {
    const variables = dashboard.templating?.list ?? [];
    const ds = variables.find((v) => v.name === 'DS_PROMETHEUS');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const variable of variables.filter((v) => v.type === 'query')) expect(variable.datasource).toEqual(DATASOURCE);
    for (const panel of dataPanels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      for (const target of panel.targets ?? []) expect(target.datasource ?? DATASOURCE, panel.title).toEqual(DATASOURCE);
    }
    // No datasource written out by name or uid anywhere.
    const uids = [...dashboardText.matchAll(/"uid": "([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(uids)).toEqual(new Set(['signet', '${DS_PROMETHEUS}']));
  });

  it('has unique panel ids and a layout within the 24-column grid, without overlaps', () => {
    const ids = allPanels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = allPanels.map((p) => ({ title: p.title, ...(p.gridPos ?? { x: -1, y: -1, w: 0, h: 0 }) }));
    for (const box of boxes) {
      expect(box.x, box.title).toBeGreaterThanOrEqual(0);
      expect(box.x + box.w, box.title).toBeLessThanOrEqual(24);
      expect(box.w * box.h, box.title).toBeGreaterThan(0);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it.each(dataPanels.map((p) => [p.title ?? '?', p] as const))('%s: every target queries only what Signet exports', (_, panel) => {
    expect(panel.description?.length, 'a description').toBeGreaterThan(20);
    const targets = panel.targets ?? [];
    expect(targets.length).toBeGreaterThan(0);
    const refIds = targets.map((t) => t.refId);
    expect(new Set(refIds).size).toBe(refIds.length);
    for (const target of targets) expect(promqlProblems(target.expr ?? '', series), target.expr).toEqual([]);
  });

  it("filters by the dashboard's namespace, job and instance variables, whose queries use real metrics", () => {
    const variables = dashboard.templating?.list ?? [];
    for (const name of ['namespace', 'job', 'instance']) {
      const variable = variables.find((v) => v.name === name);
      const query = typeof variable?.query === 'string' ? variable.query : (variable?.query?.query ?? '');
      const match = /^label_values\((.+), (\w+)\)$/.exec(query);
      expect(match?.[2], query).toBe(name);
      expect(promqlProblems(match?.[1] ?? '', series)).toEqual([]);
    }
    for (const panel of dataPanels) {
      for (const target of panel.targets ?? []) {
        for (const selector of readPromQL(target.expr ?? '').selectors) {
          const labels = selector.matchers.map((m) => `${m.label}${m.op}${m.value}`);
          expect(labels, `${panel.title}: ${selector.metric}`).toEqual(
            expect.arrayContaining(['namespace=~$namespace', 'job=~$job', 'instance=~$instance']),
          );
        }
      }
    }
  });

  it('has the panels of the issue', () => {
    const queries = (title: RegExp) =>
      dataPanels
        .filter((p) => title.test(p.title ?? ''))
        .flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''))
        .join('\n');
    const wanted: [RegExp, RegExp[]][] = [
      [/^Lookups\/s by outcome$/, [/sum by \(outcome\) \(rate\(signet_lookups_total/]],
      [/hit ratio/i, [/outcome=~"hit\|stale"/]],
      [/^Upstream requests\/s by outcome and code$/, [/by \(outcome, code\) \(rate\(signet_upstream_requests_total/]],
      [
        /^Upstream request duration p50 \/ p99$/,
        [/histogram_quantile\(0\.5, .*signet_upstream_request_duration_seconds_bucket/, /histogram_quantile\(0\.99, /],
      ],
      [/breaker state/i, [/signet_circuit_breaker_state/]],
      [/in flight/i, [/signet_upstream_in_flight/]],
      [/queued/i, [/signet_upstream_queued/]],
      [/budget used vs limit/i, [/signet_upstream_budget_used/, /signet_upstream_budget_limit/]],
      [/^HTTP p99 by route$/, [/histogram_quantile\(0\.99, sum by \(le, route\) .*signet_http_request_duration_seconds_bucket/]],
      [/5xx ratio/i, [/status_code=~"5\.\."/]],
      [/cache entries/i, [/signet_cache_entries/, /signet_cache_capacity/]],
      [/hashes per search/i, [/signet_upstream_batch_hashes/]],
    ];
    for (const [title, expressions] of wanted) {
      const text = queries(title);
      expect(text, `a panel titled ${String(title)}`).not.toBe('');
      for (const expression of expressions) expect(text, String(title)).toMatch(expression);
    }
  });
});

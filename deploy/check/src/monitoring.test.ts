// Alerts and dashboards may only query metrics the server exports (packages/contracts/src/metrics-catalog.json),
// prom-client defaults, or the exporters' prefixes; every alert links to a runbook section that exists.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { metricNames, metricProblem } from './lib/catalog.ts';
import { monitoringDir, repoRoot } from './lib/paths.ts';
import { parseYamlStream } from './lib/render.ts';

const rulesDir = join(monitoringDir, 'rules');
const dashboardsDir = join(monitoringDir, 'dashboards');
/** Dashboard uids are links people bookmark: renaming one is a deliberate change to this list. */
const stableUids = [
  'atrium-api-performance',
  'atrium-database-health',
  'atrium-flows',
  'atrium-redis-performance',
  'atrium-seat-utilization',
];
const requiredAlerts = [
  'NodeCPUHigh',
  'NodeMemoryHigh',
  'PostgresConnectionsHigh',
  'RedisMemoryHigh',
  'NatsClusterDegraded',
  'AtriumApiErrorRateHigh',
  'AtriumApiLatencyP99High',
  'AtriumSeatOverAllocation',
  'AtriumSeatStoreLatencyHigh',
  'AtriumFlowQueueBacklog',
];

function ruleFiles() {
  return readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(rulesDir, f));
}

function alerts(): any[] {
  return ruleFiles().flatMap((file) =>
    (parseYamlStream(readFileSync(file, 'utf8'), file) as any[]).flatMap((rule) =>
      rule.spec.groups.flatMap((group: any) => group.rules.filter((r: any) => r.alert)),
    ),
  );
}

/** GitHub-style anchor of a markdown heading. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

describe('PrometheusRules', () => {
  it('are loaded by kube-prometheus-stack (release label)', () => {
    for (const file of ruleFiles()) {
      for (const rule of parseYamlStream(readFileSync(file, 'utf8'), file) as any[]) {
        assert.equal(rule.kind, 'PrometheusRule');
        assert.equal(rule.metadata.labels?.release, 'kube-prometheus-stack', file);
      }
    }
  });

  it('include every alert the documents recommend plus seat-store and queue alerts', () => {
    const names = alerts().map((a) => a.alert);
    for (const name of requiredAlerts) assert.ok(names.includes(name), name);
  });

  it("thresholds are the documents' numbers", () => {
    const expr = (name: string) => alerts().find((a) => a.alert === name).expr as string;
    assert.match(expr('NodeCPUHigh'), /> 0\.80\b/);
    assert.match(expr('NodeMemoryHigh'), /> 0\.80\b/);
    assert.match(expr('PostgresConnectionsHigh'), /> 180\b/);
    assert.match(expr('RedisMemoryHigh'), /> 0\.90\b/);
    assert.match(expr('AtriumApiErrorRateHigh'), /> 0\.01\b/);
    assert.match(expr('AtriumApiLatencyP99High'), /histogram_quantile\(0\.99,[\s\S]*> 0\.5\b/);
  });

  it('every alert has for, severity, summary, description and a runbook section that exists', () => {
    for (const alert of alerts()) {
      assert.ok(alert.for, `${alert.alert}: for`);
      assert.ok(['critical', 'warning', 'info'].includes(alert.labels?.severity), `${alert.alert}: severity`);
      for (const key of ['summary', 'description', 'runbook_url'])
        assert.ok(alert.annotations?.[key], `${alert.alert}: ${key}`);
      const match = /\/blob\/main\/(docs\/runbooks\/[a-z0-9-]+\.md)#([a-z0-9-]+)$/.exec(alert.annotations.runbook_url);
      assert.ok(match, `${alert.alert}: runbook_url must point at docs/runbooks/<file>.md#<section>`);
      const path = join(repoRoot, match[1]);
      assert.ok(existsSync(path), `${alert.alert}: ${match[1]} does not exist`);
      const headings = readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .map((l) => anchor(l.replace(/^#+/, '')));
      assert.ok(headings.includes(match[2]), `${alert.alert}: ${match[1]} has no section #${match[2]}`);
    }
  });

  it('query only catalogued metrics, histograms through _bucket/_sum/_count', () => {
    const problems = alerts().flatMap((a) =>
      metricNames(a.expr)
        .map(metricProblem)
        .filter(Boolean)
        .map((p) => `${a.alert}: ${p}`),
    );
    assert.deepEqual(problems, []);
  });
});

function dashboards(): [string, any][] {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8'))]);
}

function panels(dashboard: any): any[] {
  return dashboard.panels.flatMap((p: any) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

describe('Grafana dashboards', () => {
  it('cover API, database, Redis, seat utilization and flows with stable, unique uids', () => {
    const uids = dashboards()
      .map(([, d]) => d.uid)
      .sort();
    assert.deepEqual(uids, stableUids);
  });

  it('declare a `datasource` variable that every panel and target uses', () => {
    for (const [file, dashboard] of dashboards()) {
      const variable = dashboard.templating.list.find((v: any) => v.name === 'datasource');
      assert.equal(variable?.type, 'datasource', `${file}: datasource variable`);
      assert.equal(variable.query, 'prometheus');
      for (const panel of panels(dashboard)) {
        assert.equal(panel.datasource?.uid, '${datasource}', `${file}: panel ${panel.title}`);
        for (const target of panel.targets ?? [])
          assert.equal(target.datasource?.uid, '${datasource}', `${file}: ${panel.title} target`);
      }
      for (const variable of dashboard.templating.list.filter((v: any) => v.type === 'query')) {
        assert.equal(variable.datasource?.uid, '${datasource}', `${file}: variable ${variable.name}`);
      }
    }
  });

  it('place every panel on the grid without overlaps', () => {
    for (const [file, dashboard] of dashboards()) {
      const boxes = panels(dashboard).map((p: any) => ({ title: p.title, ...p.gridPos }));
      const ids = panels(dashboard).map((p: any) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids unique`);
      for (const box of boxes) {
        assert.ok(
          box.w > 0 && box.h > 0 && box.x >= 0 && box.x + box.w <= 24 && box.y >= 0,
          `${file}: ${box.title} gridPos`,
        );
      }
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i], boxes[j]];
          const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
          assert.ok(apart, `${file}: ${a.title} overlaps ${b.title}`);
        }
      }
    }
  });

  it('query only catalogued metrics', () => {
    const problems: string[] = [];
    for (const [file, dashboard] of dashboards()) {
      const queries = panels(dashboard).flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr as string));
      for (const variable of dashboard.templating.list.filter((v: any) => v.type === 'query')) {
        const text: string = typeof variable.query === 'string' ? variable.query : variable.query.query;
        const labelValues = /^label_values\((.+),\s*\w+\)$/.exec(text);
        queries.push(labelValues ? labelValues[1] : text);
      }
      for (const query of queries) {
        for (const problem of metricNames(query).map(metricProblem).filter(Boolean))
          problems.push(`${file}: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe('metric name extraction', () => {
  it('finds metrics and ignores functions, labels and grouping', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{route="/x"}[5m]))) > 0.5',
      ),
      ['http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(metricNames('a_total / ignoring(x) b_total'), ['a_total', 'b_total']);
  });

  it('rejects uncatalogued and bare histogram names', () => {
    assert.match(metricProblem('atrium_made_up_total') ?? '', /not in/);
    assert.match(metricProblem('http_request_duration_seconds') ?? '', /histogram/);
    assert.equal(metricProblem('atrium_seat_store_duration_seconds_bucket'), undefined);
    assert.equal(metricProblem('nodejs_eventloop_lag_p99_seconds'), undefined);
    assert.match(metricProblem('mysql_up') ?? '', /neither/);
  });
});

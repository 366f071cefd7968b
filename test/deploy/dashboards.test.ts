import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { requireTool } from '../helpers/tools.js';
import { allPanels, exposedFamilies, loadDashboards, metricFamilies, panelQueries, selectors } from './dashboards.js';

const dashboards = loadDashboards();
const queries = panelQueries(dashboards);

describe('dashboards (static)', () => {
  test('the five dashboards are there, with unique uids', () => {
    assert.deepEqual(dashboards.map((d) => d.file), ['anomalies.json', 'credentials.json', 'exfiltration.json', 'overview.json', 'sidecar-health.json']);
    const uids = dashboards.map((d) => d.json.uid);
    assert.equal(new Set(uids).size, uids.length);
  });

  for (const { file, json } of dashboards) {
    test(`${file}: current schema, Prometheus datasource variable, namespace and pod variables`, () => {
      assert.ok(json.schemaVersion >= 39, `schemaVersion ${json.schemaVersion}`);
      const vars = Object.fromEntries((json.templating?.list ?? []).map((v: any) => [v.name, v]));
      assert.equal(vars.datasource?.type, 'datasource');
      assert.equal(vars.datasource?.query, 'prometheus');
      for (const name of ['namespace', 'pod']) {
        assert.equal(vars[name]?.type, 'query', `${name} variable`);
        assert.equal(vars[name].datasource.uid, '${datasource}');
        assert.equal(vars[name].includeAll, true);
      }
      assert.match(vars.pod.query.query, /namespace=~"\$namespace"/, 'pod values follow the namespace');
      const ids = new Set<number>();
      for (const p of json.panels) {
        assert.ok(!ids.has(p.id), `duplicate panel id ${p.id}`);
        ids.add(p.id);
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} is wider than the grid`);
      }
      const panels = allPanels(json);
      assert.ok(panels.length >= 5, 'panels');
      for (const p of panels) {
        assert.equal(p.datasource?.uid, '${datasource}', `${p.title}: datasource`);
        assert.ok((p.targets ?? []).length > 0, `${p.title}: no query`);
        for (const t of p.targets) {
          assert.equal(t.datasource?.uid, '${datasource}');
          for (const s of selectors(t.expr)) {
            assert.match(s.matchers, /namespace=~"\$namespace"/, `${p.title}: ${s.metric} ignores $namespace`);
            assert.match(s.matchers, /pod=~"\$pod"/, `${p.title}: ${s.metric} ignores $pod`);
          }
        }
      }
    });
  }

  test('overview shows traffic, alerts by category and severity, and added latency p50/p99', () => {
    const overview = queries.filter((q) => q.dashboard === 'overview.json').map((q) => q.expr);
    assert.ok(overview.some((e) => /gatewatch_requests_total/.test(e)));
    assert.ok(overview.some((e) => /sum by \(category\) .*gatewatch_alerts_total/.test(e)));
    assert.ok(overview.some((e) => /sum by \(severity\) .*gatewatch_alerts_total/.test(e)));
    for (const q of ['0.5', '0.99']) {
      assert.ok(overview.some((e) => e.startsWith(`histogram_quantile(${q}, `) && e.includes('gatewatch_added_latency_bucket')), `added latency p${Number(q) * 100}`);
    }
  });

  test('sidecar health shows inspection dropped/partial/queue depth, sink queues and drops, state backend', () => {
    const health = queries.filter((q) => q.dashboard === 'sidecar-health.json').flatMap((q) => metricFamilies(q.expr));
    for (const m of ['gatewatch_inspection_dropped_total', 'gatewatch_inspection_partial_total', 'gatewatch_inspection_queue_depth', 'gatewatch_sink_queue_depth', 'gatewatch_sink_alerts_total', 'gatewatch_state_backend', 'gatewatch_state_errors_total']) {
      assert.ok(health.includes(m), m);
    }
  });

  test('every metric a dashboard names is one gatewatch defines (names as exposed by the Prometheus exporter)', async () => {
    const exposed = await definedFamilies();
    const missing = [...new Set(queries.flatMap((q) => metricFamilies(q.expr)))].filter((m) => !exposed.has(m));
    assert.deepEqual(missing, [], `not defined in src/telemetry/metrics.ts: ${missing.join(', ')}`);
  });

  test('every query parses (promtool)', (t) => {
    const promtool = requireTool(t, 'promtool', 'bash .ci/install-prometheus.sh');
    if (!promtool) return;
    const dir = mkdtempSync(join(tmpdir(), 'gatewatch-promtool-'));
    try {
      // As recording rules, so promtool parses every expression; Grafana's variables get plausible values.
      const rules = queries.map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(grafanaDefaults(q.expr))}`);
      const file = join(dir, 'rules.yaml');
      writeFileSync(file, `groups:\n  - name: dashboards\n    rules:\n${rules.join('\n')}\n`);
      const out = execFileSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
      assert.match(out, new RegExp(`SUCCESS: ${queries.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the chart carries the same dashboards (scripts/sync-dashboards.mjs --check)', () => {
    execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'sync-dashboards.mjs'), '--check'], { stdio: 'pipe' });
  });
});

function grafanaDefaults(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$namespace', '.*').replaceAll('$pod', '.*');
}

/** Records one value on every instrument and reads the families the Prometheus exporter exposes. */
async function definedFamilies(): Promise<Set<string>> {
  const metrics = createMetrics();
  for (const value of Object.values(metrics)) {
    const v = value as { add?: (n: number, a: object) => void; record?: (n: number, a: object) => void };
    if (typeof v.add === 'function') v.add(1, { probe: 'x' });
    else if (typeof v.record === 'function') v.record(0.001, { probe: 'x' });
  }
  const server = createServer((req, res) => metrics.handlePrometheus(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return exposedFamilies(text);
  } finally {
    server.close();
    await metrics.shutdown();
  }
}

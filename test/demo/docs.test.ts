import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/gen-config-docs.js';
import { describeMetrics, METRICS_DOCS_PATH, METRICS_SOURCE, renderMetricsDocs } from '../../scripts/gen-metrics-docs.js';

// The generated references must match what is committed, so they stay current.

test('docs/configuration.md is current with the JSON Schemas', () => {
  assert.equal(readFileSync(CONFIG_DOCS_PATH, 'utf8'), renderConfigDocs(), 'stale: run `node dist/scripts/gen-config-docs.js` after `npm run build`');
});

test('docs/configuration.md covers every section and a nested setting of each', () => {
  const text = renderConfigDocs();
  for (const path of ['listen', 'proxy.trustedProxies', 'credentials.liveness.enabled', 'exfiltration.echo.minShare', 'anomaly.overrides', 'state.redisUrl', 'alerts.sinks.slack.url', 'alerts.sinks.slack.routes[].name', 'routes[].prefix']) {
    assert.ok(text.includes(`| \`${path}\` |`), `row for ${path}`);
  }
});

test('docs/metrics.md is current with src/telemetry/metrics.ts and lists every metric', () => {
  assert.equal(readFileSync(METRICS_DOCS_PATH, 'utf8'), renderMetricsDocs(), 'stale: run `node dist/scripts/gen-metrics-docs.js` after `npm run build`');
  const source = readFileSync(METRICS_SOURCE, 'utf8');
  const created = [...readFileSync(join(dirname(METRICS_SOURCE), 'instruments.ts'), 'utf8').matchAll(/'(gatewatch_[a-z_]+)'/g)].map((m) => m[1]);
  assert.deepEqual(describeMetrics(source).map((m) => m.name).sort(), [...new Set(created)].sort());
});

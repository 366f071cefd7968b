import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

// Reading the Grafana dashboards: their panels' PromQL, the metric names they
// use, and the variable substitution Grafana does before a query runs.

export const DASHBOARDS_DIR = join(PROJECT_ROOT, 'dashboards');

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
  readonly instant: boolean;
}

export interface Dashboard {
  readonly file: string;
  readonly json: any;
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) }));
}

export function allPanels(json: any): any[] {
  return (json.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]).filter((p: any) => p.type !== 'row');
}

export function panelQueries(dashboards: Dashboard[]): PanelQuery[] {
  return dashboards.flatMap(({ file, json }) =>
    allPanels(json).flatMap((p: any) =>
      (p.targets ?? []).map((t: any) => ({ dashboard: file, panel: `${p.title} [${t.refId}]`, expr: String(t.expr), instant: t.instant === true })),
    ),
  );
}

/** Metric families named in a query, with histogram series suffixes folded into their family. */
export function metricFamilies(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b(gatewatch_[a-z0-9_]+)/g)) names.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
  return [...names].sort();
}

/** Every `gatewatch_…{…}` selector in the query, with its label matchers. */
export function selectors(expr: string): { metric: string; matchers: string }[] {
  return [...expr.matchAll(/\b(gatewatch_[a-z0-9_]+)(\{[^}]*\})?/g)].map((m) => ({ metric: m[1]!, matchers: m[2] ?? '' }));
}

/** Grafana's variable substitution for a query run outside Grafana. */
export function substitute(expr: string, vars: { namespace: string; pod: string; rateInterval: string; range: string }): string {
  return expr
    .replaceAll('$__rate_interval', vars.rateInterval)
    .replaceAll('$__range', vars.range)
    .replaceAll('$namespace', vars.namespace)
    .replaceAll('$pod', vars.pod);
}

/** Metric families in a Prometheus text exposition (from its # TYPE lines). */
export function exposedFamilies(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) \S+$/gm)) out.add(m[1]!);
  return out;
}

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../../src/paths.js';
import { requireTool } from '../helpers/tools.js';
import {
  CHART_DIR, EXAMPLES_DIR, helm, parseManifests, podSpecs, stageGatewayChart, template, validateManifests, type K8sObject,
} from './helm-tools.js';
import {
  checkNetworkPolicy, checkNoSecretLiterals, checkPodSecurity, checkProbes, checkServiceTargetsSidecar, sidecarPlacement,
} from './manifest-checks.js';

const HELM_INSTALL = 'bash .ci/install-helm.sh';
const VALIDATE_INSTALL = 'bash .ci/install-k8s-validate.sh';
const PROXY_PORT = 8080;
const ADMIN_PORT = 9464;
const GATEWAY_PORT = 4000;
const CURRENT = '1.35';
const OLD = '1.27';

interface RenderCase {
  readonly name: string;
  readonly kube: string;
  readonly values: string[];
  readonly chart?: 'gatewatch' | 'gateway-chart';
  readonly expectPlacement: ('native' | 'container')[];
  readonly expectServiceMonitor?: boolean;
  readonly expectRedis?: boolean;
}

const ex = (f: string) => join(EXAMPLES_DIR, f);
const CASES: RenderCase[] = [
  { name: 'sidecar mode (chart alone)', kube: CURRENT, values: [ex('sidecar.yaml')], expectPlacement: [] },
  { name: 'sidecar mode, included in a gateway chart', kube: CURRENT, values: [], chart: 'gateway-chart', expectPlacement: ['native'] },
  { name: 'sidecar mode, included in a gateway chart, old Kubernetes', kube: OLD, values: [], chart: 'gateway-chart', expectPlacement: ['container'] },
  { name: 'example mode', kube: CURRENT, values: [ex('example.yaml')], expectPlacement: ['native'] },
  { name: 'example mode, Kubernetes 1.29 (first native)', kube: '1.29', values: [ex('example.yaml')], expectPlacement: ['native'] },
  { name: 'old Kubernetes', kube: OLD, values: [ex('old-kubernetes.yaml')], expectPlacement: ['container'] },
  { name: 'Redis on', kube: CURRENT, values: [ex('redis.yaml')], expectPlacement: ['native'], expectRedis: true },
  { name: 'ServiceMonitor on', kube: CURRENT, values: [ex('servicemonitor.yaml')], expectPlacement: [], expectServiceMonitor: true },
];

function assertNoProblems(problems: string[]): void {
  assert.deepEqual(problems, [], problems.join('\n'));
}

describe('helm chart', () => {
  test('helm lint passes with every example value set', async (t) => {
    const bin = requireTool(t, 'helm', HELM_INSTALL);
    if (!bin) return;
    const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 5, 'example value sets');
    for (const f of files) {
      const kube = f.startsWith('old-') ? OLD : CURRENT;
      const r = await helm(bin, ['lint', '--strict', CHART_DIR, '-f', ex(f), '--kube-version', kube]);
      assert.equal(r.code, 0, `helm lint -f ${f}:\n${r.stdout}\n${r.stderr}`);
    }
  });

  for (const c of CASES) {
    test(`render: ${c.name} (Kubernetes ${c.kube})`, async (t) => {
      const bin = requireTool(t, 'helm', HELM_INSTALL);
      const validator = requireTool(t, `k8s-validate-${c.kube === OLD ? OLD : CURRENT}`, VALIDATE_INSTALL);
      if (!bin || !validator) return;
      const staged = c.chart === 'gateway-chart' ? stageGatewayChart() : undefined;
      try {
        const chart = staged ? join(staged, 'gateway-chart') : CHART_DIR;
        const r = await template(bin, chart, c.kube, c.values);
        assert.equal(r.code, 0, r.stderr);
        const objects = parseManifests(r.stdout);

        // Strict decoding against the API types of the target version.
        const v = await validateManifests(validator, r.stdout);
        assert.equal(v.code, 0, v.lines.join('\n'));
        const skipped = v.lines.filter((l) => l.startsWith('skip'));
        assert.equal(skipped.length, c.expectServiceMonitor ? 1 : 0, `only a ServiceMonitor may be left unchecked:\n${skipped.join('\n')}`);
        assert.equal(v.lines.filter((l) => l.startsWith('ok')).length, objects.length - skipped.length);

        assertNoProblems(checkPodSecurity(objects));
        assertNoProblems(checkProbes(objects, ADMIN_PORT));
        assertNoProblems(checkNoSecretLiterals(objects));
        assertNoProblems(checkServiceTargetsSidecar(objects, GATEWAY_PORT));
        assertNoProblems(checkNetworkPolicy(objects, [PROXY_PORT, ADMIN_PORT], GATEWAY_PORT));
        assert.deepEqual(sidecarPlacement(objects), c.expectPlacement);

        const dashboards = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
        assert.deepEqual(dashboards.map((d) => Object.keys(d.data ?? {})[0]).sort(), dashboardFiles());
        for (const d of dashboards) {
          const [file, text] = Object.entries(d.data ?? {})[0]!;
          assert.deepEqual(JSON.parse(text), JSON.parse(readFileSync(join(PROJECT_ROOT, 'dashboards', file), 'utf8')));
        }

        const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
        assert.equal(monitors.length, c.expectServiceMonitor ? 1 : 0);
        for (const sm of monitors) checkServiceMonitor(sm, objects);

        const env = podSpecs(objects).flatMap(({ spec }) => [...(spec.initContainers ?? []), ...spec.containers]).flatMap((x: any) => x.env ?? []);
        assert.equal(env.some((e: any) => e.name === 'GATEWATCH_REDIS_URL'), !!c.expectRedis && env.length > 0);
      } finally {
        if (staged) rmSync(staged, { recursive: true, force: true });
      }
    });
  }

  test('the 1.27 validator refuses a native sidecar (so the old-Kubernetes check means something)', async (t) => {
    const bin = requireTool(t, 'helm', HELM_INSTALL);
    const validator = requireTool(t, `k8s-validate-${OLD}`, VALIDATE_INSTALL);
    if (!bin || !validator) return;
    const r = await template(bin, CHART_DIR, CURRENT, [ex('example.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    const v = await validateManifests(validator, r.stdout);
    assert.equal(v.code, 1);
    assert.match(v.lines.join('\n'), /invalid\tapps\/v1\/Deployment .*unknown field "restartPolicy"/);
  });

  test('k8s-validate refuses what the API server would: bad names, dangling references, wrong types', async (t) => {
    for (const version of [OLD, CURRENT]) {
      const validator = requireTool(t, `k8s-validate-${version}`, VALIDATE_INSTALL);
      if (!validator) return;
      const bad = {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'Bad_Name' },
        spec: {
          selector: { matchLabels: { app: 'x' } },
          template: {
            metadata: { labels: { app: 'y' } },
            spec: { containers: [{ name: 'a', image: 'b', ports: [{ name: 'a-very-long-port-name', containerPort: 1 }], volumeMounts: [{ name: 'nope', mountPath: '/x' }] }] },
          },
        },
      };
      const v = await validateManifests(validator, JSON.stringify(bad));
      assert.equal(v.code, 1);
      for (const want of [/metadata\.name: a lowercase RFC 1123/, /must be no more than 15 characters/, /volumeMounts\[nope\]: no such volume/, /spec\.selector: app=x does not match/]) {
        assert.match(v.lines.join('\n'), want);
      }
      const wrongType = await validateManifests(validator, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 'eighty' }] } }));
      assert.equal(wrongType.code, 1, wrongType.lines.join('\n'));
    }
  });

  test('nativeSidecar: false gives a plain container on current Kubernetes', async (t) => {
    const bin = requireTool(t, 'helm', HELM_INSTALL);
    if (!bin) return;
    const r = await template(bin, CHART_DIR, CURRENT, [ex('example.yaml')], ['nativeSidecar=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(sidecarPlacement(parseManifests(r.stdout)), ['container']);
  });

  const REFUSED: { name: string; sets: string[]; kube?: string; message: RegExp }[] = [
    { name: 'a fingerprint key in config', sets: ['config.fingerprintKey=not-here'], message: /config must not hold secrets \(found "fingerprintKey:"\).*secrets\.\*/ },
    { name: 'a Slack URL in config', sets: ['config.alerts.sinks.slack.url=https://hooks.slack.com/services/T0/B0/x'], message: /config must not hold secrets \(found "url:"\)/ },
    { name: 'a Redis URL with a password in config', sets: ['config.state.redis=redis://:hunter2@redis:6379'], message: /looks like a credential/ },
    { name: 'listen in config', sets: ['config.listen=0.0.0.0:1'], message: /config\.listen is set by the chart/ },
    { name: 'no admin token Secret', sets: ['secrets.adminToken.name='], message: /secrets\.adminToken\.name is required/ },
    { name: 'Redis without its URL Secret', sets: ['redis.enabled=true'], message: /redis\.enabled needs secrets\.redisUrl\.name/ },
    { name: 'a native sidecar forced on Kubernetes 1.27', sets: ['nativeSidecar=true'], kube: OLD, message: /nativeSidecar: true needs Kubernetes >= 1\.29/ },
    { name: 'a root container', sets: ['securityContext.runAsNonRoot=false'], message: /at '\/securityContext\/runAsNonRoot': value must be true/ },
    { name: 'an unknown mode', sets: ['mode=ingress'], message: /at '\/mode': value must be one of 'sidecar', 'example'/ },
    { name: 'a secret given as an env literal', sets: ['extraEnv[0].name=OPENAI_API_KEY', 'extraEnv[0].value=sk-live'], message: /extraEnv\[0\] \(OPENAI_API_KEY\) looks secret/ },
    { name: 'a Secret value instead of a Secret name', sets: ['secrets.fingerprintKey.name=Hunter2 Secret!'], message: /secrets\.fingerprintKey\.name must be the name of an existing Secret/ },
    { name: 'an unknown value', sets: ['servce.port=80'], message: /additional properties 'servce' not allowed/ },
  ];
  for (const r of REFUSED) {
    test(`refused at install with a clear message: ${r.name}`, async (t) => {
      const bin = requireTool(t, 'helm', HELM_INSTALL);
      if (!bin) return;
      const out = await template(bin, CHART_DIR, r.kube ?? CURRENT, [ex('example.yaml')], r.sets);
      assert.notEqual(out.code, 0, `helm template accepted --set ${r.sets.join(' ')}`);
      assert.match(out.stderr, r.message);
      assert.doesNotMatch(out.stderr, /hunter2|sk-live/i, 'the error message must not repeat the secret');
    });
  }

  test('sidecar mode needs the gateway pod selector', async (t) => {
    const bin = requireTool(t, 'helm', HELM_INSTALL);
    if (!bin) return;
    const out = await template(bin, CHART_DIR, CURRENT, [ex('sidecar.yaml')], ['gateway.podSelector=null']);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /gateway\.podSelector is required in sidecar mode/);
  });

  test('the LiteLLM values snippet holds exactly the container and volumes the chart renders', async (t) => {
    const bin = requireTool(t, 'helm', HELM_INSTALL);
    const validator = requireTool(t, `k8s-validate-${OLD}`, VALIDATE_INSTALL);
    if (!bin || !validator) return;
    const snippet = parseYaml(readFileSync(join(PROJECT_ROOT, 'helm', 'values-litellm-snippet.yaml'), 'utf8')) as { extraContainers: any[]; volumes: any[] };
    const staged = stageGatewayChart();
    try {
      const r = await template(bin, join(staged, 'gateway-chart'), OLD, []);
      assert.equal(r.code, 0, r.stderr);
      const spec = podSpecs(parseManifests(r.stdout))[0]!.spec;
      const rendered = spec.containers.find((c: any) => c.name === 'gatewatch');
      assert.deepEqual(snippet.extraContainers, [rendered]);
      assert.deepEqual(snippet.volumes, spec.volumes);
    } finally {
      rmSync(staged, { recursive: true, force: true });
    }
    // And as a pod beside a LiteLLM container, it passes the same checks.
    const pod: K8sObject = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'litellm' },
      spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: snippet.extraContainers, volumes: snippet.volumes },
    };
    assertNoProblems(checkPodSecurity([pod]));
    assertNoProblems(checkProbes([pod], ADMIN_PORT));
    assertNoProblems(checkNoSecretLiterals([pod]));
    const v = await validateManifests(validator, JSON.stringify(pod));
    assert.equal(v.code, 0, v.lines.join('\n'));
  });

  test('values.yaml image tag follows Chart.yaml appVersion', () => {
    const chart = parseYaml(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const values = parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as { image: { tag: string } };
    assert.equal(values.image.tag, chart.appVersion);
    const snippet = readFileSync(join(PROJECT_ROOT, 'helm', 'values-litellm-snippet.yaml'), 'utf8');
    assert.match(snippet, new RegExp(`image: ghcr\\.io/gatewatch/gatewatch:${chart.appVersion.replace(/\./g, '\\.')}\\n`));
  });
});

function dashboardFiles(): string[] {
  return readdirSync(join(PROJECT_ROOT, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
}

/** No CRD schema is available offline, so the ServiceMonitor is checked by structure. */
function checkServiceMonitor(sm: K8sObject, objects: K8sObject[]): void {
  assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
  const svc = objects.find((o) => o.kind === 'Service')!;
  for (const [k, v] of Object.entries(sm.spec.selector.matchLabels as Record<string, string>)) {
    assert.equal(svc.metadata.labels?.[k], v, `ServiceMonitor selector ${k}=${v} does not match the Service`);
  }
  assert.deepEqual(Object.keys(sm.spec).sort(), ['endpoints', 'namespaceSelector', 'selector']);
  assert.equal(sm.spec.endpoints.length, 1);
  const ep = sm.spec.endpoints[0];
  assert.ok(svc.spec.ports.some((p: any) => p.name === ep.port), `endpoint port ${ep.port} is not a Service port`);
  assert.equal(ep.path, '/metrics');
  assert.match(ep.interval, /^\d+(ms|s|m|h)$/);
  for (const rl of ep.relabelings) {
    assert.deepEqual(Object.keys(rl).sort(), ['sourceLabels', 'targetLabel']);
  }
}

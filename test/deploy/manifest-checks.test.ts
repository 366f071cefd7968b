import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { K8sObject } from './helm-tools.js';
import { checkNetworkPolicy, checkNoSecretLiterals, checkPodSecurity, checkProbes, checkServiceTargetsSidecar, sidecarPlacement } from './manifest-checks.js';

// The chart tests lean on these checks, so each must catch what it is for.

const secure = { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
const resources = { requests: { cpu: '1', memory: '1Mi' }, limits: { cpu: '1', memory: '1Mi' } };
const probe = (path: string) => ({ httpGet: { path, port: 'gw-admin' } });
const gatewatch = () => ({
  name: 'gatewatch', image: 'g', securityContext: { ...secure }, resources,
  ports: [{ name: 'gw-proxy', containerPort: 8080 }, { name: 'gw-admin', containerPort: 9464 }],
  livenessProbe: probe('/healthz'), readinessProbe: probe('/readyz'), env: [] as any[],
});
const deployment = (containers: any[], initContainers: any[] = []): K8sObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
  spec: { template: { spec: { containers, initContainers } } },
});
const service = (targetPort: string | number): K8sObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'x' }, ports: [{ name: 'http', port: 4000, targetPort }] },
});

describe('manifest checks', () => {
  test('a sound deployment passes every check', () => {
    const objs = [deployment([gatewatch()]), service('gw-proxy')];
    assert.deepEqual(checkPodSecurity(objs), []);
    assert.deepEqual(checkProbes(objs, 9464), []);
    assert.deepEqual(checkNoSecretLiterals(objs), []);
    assert.deepEqual(checkServiceTargetsSidecar(objs, 4000), []);
  });

  test('root, writable root filesystem, missing drop ALL and missing limits are caught', () => {
    const c = gatewatch();
    c.securityContext = { ...secure, runAsNonRoot: false, readOnlyRootFilesystem: false, capabilities: { drop: [] } } as any;
    (c as any).resources = { requests: resources.requests };
    const problems = checkPodSecurity([deployment([c])]).join('\n');
    for (const p of ['runAsNonRoot', 'readOnlyRootFilesystem', 'drop lacks ALL', 'resources.limits.cpu']) assert.match(problems, new RegExp(p));
  });

  test('missing probes and probes on the wrong port are caught', () => {
    const c = gatewatch();
    delete (c as any).livenessProbe;
    c.readinessProbe = { httpGet: { path: '/readyz', port: 'gw-proxy' } };
    const problems = checkProbes([deployment([c])], 9464).join('\n');
    assert.match(problems, /no livenessProbe/);
    assert.match(problems, /readinessProbe is \/readyz on gw-proxy/);
  });

  test('secrets as env literals or in ConfigMaps are caught', () => {
    const c = gatewatch();
    c.env = [{ name: 'GATEWATCH_FINGERPRINT_KEY', value: 'abc' }, { name: 'NOTE', value: 'AKIAIOSFODNN7EXAMPLE' }];
    const cm: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'config.yaml': 'url: https://hooks.slack.com/services/T/B/x\nredis: redis://:pw@r:6379' } };
    const problems = checkNoSecretLiterals([deployment([c]), cm]).join('\n');
    assert.match(problems, /GATEWATCH_FINGERPRINT_KEY: a secret setting given as a literal/);
    assert.match(problems, /env NOTE: holds something that looks like a secret/);
    assert.match(problems, /ConfigMap\/c config\.yaml: .*hooks/);
    assert.match(problems, /ConfigMap\/c config\.yaml: .*\[\^\/\\s@\]\+@/);
  });

  test('a Service that targets the gateway is caught', () => {
    assert.match(checkServiceTargetsSidecar([deployment([gatewatch()]), service(4000)], 4000).join('\n'), /http targets 4000/);
  });

  test('a NetworkPolicy that admits the gateway port is caught, and a missing one', () => {
    const np: K8sObject = {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'n' },
      spec: { podSelector: { matchLabels: { app: 'x' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 4000 }] }, {}] },
    };
    const problems = checkNetworkPolicy([np, service('gw-proxy')], [8080, 9464], 4000).join('\n');
    assert.match(problems, /admits the gateway's port 4000/);
    assert.match(problems, /a rule admits every port/);
    assert.deepEqual(checkNetworkPolicy([service('gw-proxy')], [8080], 4000), ['no NetworkPolicy']);
  });

  test('sidecar placement tells native from plain', () => {
    assert.deepEqual(sidecarPlacement([deployment([], [{ ...gatewatch(), restartPolicy: 'Always' }])]), ['native']);
    assert.deepEqual(sidecarPlacement([deployment([gatewatch()])]), ['container']);
    assert.deepEqual(sidecarPlacement([deployment([{ name: 'other' }])]), ['missing']);
  });
});

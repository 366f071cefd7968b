import { containersOf, podSpecs, type K8sObject } from './helm-tools.js';

// What must hold in every rendering of the chart. Each check returns a list of
// problems (empty = fine), so a test can show all of them at once and the
// checks themselves can be tested against bad manifests.

/** Formats of real credentials; none may appear in a ConfigMap or an env literal. */
export const SECRET_PATTERNS: readonly RegExp[] = [
  /AKIA[0-9A-Z]{16}/,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}/,
  /\bgh[pousr]_[A-Za-z0-9]{36}\b/,
  /\bxox[abpr]-[A-Za-z0-9-]+/,
  /hooks\.slack\.com\/services\//,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /[a-z][a-z0-9+.-]*:\/\/[^/\s@]*:[^/\s@]+@/i, // URL with a password
];

/** Env names whose value is a secret: they must come from a Secret (valueFrom), never a literal. */
const SECRET_ENV_NAME = /(KEY|TOKEN|SECRET|PASSWORD|WEBHOOK_URL|REDIS_URL)$/;

export function checkPodSecurity(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { owner, spec } of podSpecs(objects)) {
    const pod = spec.securityContext ?? {};
    if (spec.automountServiceAccountToken === true) problems.push(`${owner}: automountServiceAccountToken is true`);
    for (const c of containersOf(spec)) {
      const sc = c.securityContext ?? {};
      const at = `${owner} container ${c.name}`;
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot is not true`);
      if ((sc.runAsUser ?? pod.runAsUser) === 0) problems.push(`${at}: runAsUser is 0 (root)`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) problems.push(`${at}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities.drop lacks ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${at}: adds capabilities`);
      if ((sc.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault') problems.push(`${at}: seccompProfile is not RuntimeDefault`);
      for (const kind of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) {
          if (c.resources?.[kind]?.[r] === undefined) problems.push(`${at}: no resources.${kind}.${r}`);
        }
      }
    }
  }
  return problems;
}

/** Every long-running container has liveness and readiness probes; gatewatch's are on its admin port. */
export function checkProbes(objects: K8sObject[], adminPort: number): string[] {
  const problems: string[] = [];
  for (const { owner, spec } of podSpecs(objects)) {
    const longRunning = [...(spec.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always'), ...(spec.containers ?? [])];
    for (const c of longRunning) {
      const at = `${owner} container ${c.name}`;
      if (!c.livenessProbe) problems.push(`${at}: no livenessProbe`);
      if (!c.readinessProbe) problems.push(`${at}: no readinessProbe`);
      if (c.name !== 'gatewatch') continue;
      const port = (p: string | number) => (typeof p === 'number' ? p : (c.ports ?? []).find((cp: any) => cp.name === p)?.containerPort);
      for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
        const get = c[probe]?.httpGet;
        if (!get) problems.push(`${at}: ${probe} is not an httpGet`);
        else if (get.path !== path || port(get.port) !== adminPort) problems.push(`${at}: ${probe} is ${get.path} on ${get.port}, want ${path} on the admin port ${adminPort}`);
      }
    }
  }
  return problems;
}

export function checkNoSecretLiterals(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const scan = (where: string, text: string) => {
    for (const re of SECRET_PATTERNS) if (re.test(text)) problems.push(`${where}: holds something that looks like a secret (${re.source})`);
  };
  for (const o of objects) {
    if (o.kind === 'ConfigMap') for (const [k, v] of Object.entries(o.data ?? {})) scan(`ConfigMap/${o.metadata.name} ${k}`, v);
  }
  for (const { owner, spec } of podSpecs(objects)) {
    for (const c of containersOf(spec)) {
      for (const e of c.env ?? []) {
        const where = `${owner} container ${c.name} env ${e.name}`;
        if (e.value !== undefined) {
          scan(where, String(e.value));
          if (SECRET_ENV_NAME.test(e.name)) problems.push(`${where}: a secret setting given as a literal value, not a secretKeyRef`);
        } else if (SECRET_ENV_NAME.test(e.name) && !e.valueFrom?.secretKeyRef) {
          problems.push(`${where}: a secret setting not read from a Secret`);
        }
      }
      for (const arg of [...(c.args ?? []), ...(c.command ?? [])]) scan(`${owner} container ${c.name} args`, String(arg));
    }
  }
  return problems;
}

/** The Service sends client traffic to gatewatch's port, never to the gateway's. */
export function checkServiceTargetsSidecar(objects: K8sObject[], gatewayPort: number): string[] {
  const problems: string[] = [];
  const services = objects.filter((o) => o.kind === 'Service');
  if (services.length === 0) problems.push('no Service');
  const pods = podSpecs(objects);
  for (const svc of services) {
    const at = `Service/${svc.metadata.name}`;
    const http = svc.spec.ports.find((p: any) => p.name === 'http');
    if (!http) problems.push(`${at}: no port named http`);
    else if (http.targetPort !== 'gw-proxy') problems.push(`${at}: http targets ${http.targetPort}, not the sidecar's gw-proxy`);
    for (const p of svc.spec.ports) {
      if (p.targetPort === gatewayPort || (p.targetPort === undefined && p.port === gatewayPort)) problems.push(`${at}: port ${p.name} reaches the gateway's port ${gatewayPort}`);
    }
    for (const { owner, spec } of pods) {
      const owners = containersOf(spec).filter((c) => (c.ports ?? []).some((p: any) => p.name === 'gw-proxy')).map((c) => c.name);
      if (owners.join() !== 'gatewatch') problems.push(`${owner}: gw-proxy belongs to [${owners.join(', ')}], want [gatewatch]`);
    }
  }
  return problems;
}

export function checkNetworkPolicy(objects: K8sObject[], allowedPorts: number[], gatewayPort: number): string[] {
  const problems: string[] = [];
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  if (policies.length === 0) return ['no NetworkPolicy'];
  const svc = objects.find((o) => o.kind === 'Service');
  for (const np of policies) {
    const at = `NetworkPolicy/${np.metadata.name}`;
    if (!(np.spec.policyTypes ?? []).includes('Ingress')) problems.push(`${at}: not an Ingress policy`);
    if (svc && JSON.stringify(np.spec.podSelector?.matchLabels) !== JSON.stringify(svc.spec.selector)) {
      problems.push(`${at}: selects ${JSON.stringify(np.spec.podSelector?.matchLabels)}, the Service selects ${JSON.stringify(svc.spec.selector)}`);
    }
    for (const rule of np.spec.ingress ?? []) {
      if (!rule.ports || rule.ports.length === 0) problems.push(`${at}: a rule admits every port`);
      for (const p of rule.ports ?? []) {
        if (p.port === gatewayPort) problems.push(`${at}: admits the gateway's port ${gatewayPort}`);
        if (!allowedPorts.includes(p.port)) problems.push(`${at}: admits port ${p.port}`);
      }
    }
  }
  return problems;
}

/** Where the gatewatch container is: a native sidecar (init, restartPolicy Always) or a plain container. */
export function sidecarPlacement(objects: K8sObject[]): ('native' | 'container' | 'missing')[] {
  return podSpecs(objects).map(({ spec }) => {
    const init = (spec.initContainers ?? []).find((c: any) => c.name === 'gatewatch');
    if (init) return init.restartPolicy === 'Always' ? 'native' : 'missing';
    return (spec.containers ?? []).some((c: any) => c.name === 'gatewatch') ? 'container' : 'missing';
  });
}

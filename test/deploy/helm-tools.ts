import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../src/paths.js';

// Rendering the chart with the real helm binary, and checking the result with
// the k8s-validate binaries (.ci/k8s-validate, one per Kubernetes version).

const run = promisify(execFile);

export const CHART_DIR = join(PROJECT_ROOT, 'helm', 'gatewatch');
export const EXAMPLES_DIR = join(PROJECT_ROOT, 'helm', 'examples');
export const FIXTURE_GATEWAY_CHART = join(PROJECT_ROOT, 'test', 'deploy', 'fixtures', 'gateway-chart');

/** A Kubernetes object as rendered (parsed YAML). */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
};

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function helm(bin: string, args: string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await run(bin, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'gatewatch-helm-cache') } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e) };
  }
}

export async function template(bin: string, chart: string, kubeVersion: string, valueFiles: string[], sets: string[] = []): Promise<HelmResult> {
  const args = ['template', 'gatewatch', chart, '--namespace', 'ai', '--kube-version', kubeVersion];
  for (const f of valueFiles) args.push('-f', f);
  for (const s of sets) args.push('--set', s);
  return helm(bin, args);
}

export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) out.push(value);
  }
  return out;
}

export interface ValidationResult {
  readonly code: number;
  readonly lines: string[];
}

/** Runs k8s-validate-<version> over the manifests (stdin). */
export async function validateManifests(validator: string, manifests: string): Promise<ValidationResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(validator, [], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1) : 0;
      if (code === -1) return reject(new Error(`${validator}: ${stderr || error?.message}`));
      resolve({ code, lines: stdout.split('\n').filter(Boolean) });
    });
    child.stdin!.end(manifests);
  });
}

/** Copies the fixture gateway chart to a temp dir with helm/gatewatch as its subchart. */
export function stageGatewayChart(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatewatch-gateway-chart-'));
  const chart = join(dir, 'gateway-chart');
  cpSync(FIXTURE_GATEWAY_CHART, chart, { recursive: true });
  mkdirSync(join(chart, 'charts'), { recursive: true });
  cpSync(CHART_DIR, join(chart, 'charts', 'gatewatch'), { recursive: true });
  return dir;
}

export function podSpecs(objects: K8sObject[]): { owner: string; spec: any }[] {
  const out: { owner: string; spec: any }[] = [];
  for (const o of objects) {
    if (o.kind === 'Pod') out.push({ owner: `Pod/${o.metadata.name}`, spec: o.spec });
    else if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind)) {
      out.push({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec });
    }
  }
  return out;
}

export function containersOf(spec: any): any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

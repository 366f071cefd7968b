import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { GatewatchError } from '../errors.js';
import { parseCidr } from '../net/cidr.js';
import type { Config } from './types.js';
import { configValidator, describeErrors } from './validate.js';

export interface ConfigSources {
  /** Path of the YAML/JSON config file, if any. */
  readonly file?: string;
  /** Command-line flags (highest precedence). */
  readonly flags?: { listen?: string; upstream?: string; admin?: string };
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads, merges (flags > env > file > defaults), validates, checks and freezes the configuration. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.GATEWATCH_CONFIG ?? undefined;
  const raw = file ? readConfigFile(file) : {};
  applyEnv(raw, env);
  applyFlags(raw, sources.flags ?? {});
  return validateConfig(raw, file ?? '(config)');
}

/** Validates an in-memory config object (as read from a file) and returns it frozen. */
export function validateConfig(raw: Record<string, unknown>, source = '(config)'): Config {
  for (const section of ['proxy', 'capture', 'inspection', 'identity', 'log', 'credentials', 'exfiltration', 'anomaly', 'state', 'alerts']) {
    if (raw[section] === undefined) raw[section] = {};
  }
  const validate = configValidator();
  if (!validate(raw)) {
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', `invalid configuration in ${source}`, describeErrors(source, validate.errors));
  }
  const config = raw as unknown as Config;
  const problems = semanticProblems(config, source);
  if (problems.length > 0) throw new GatewatchError('GW_ERR_CONFIG_INVALID', `invalid configuration in ${source}`, problems);
  return deepFreeze(config);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new GatewatchError('GW_ERR_CONFIG_READ', `cannot read config file ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', `${file}: not valid YAML or JSON: ${(e as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', `${file}: /: the config must be a mapping of settings (e.g. "upstream: http://127.0.0.1:4000")`);
  }
  return parsed as Record<string, unknown>;
}

function section(raw: Record<string, unknown>, name: string): Record<string, unknown> {
  const existing = raw[name];
  if (existing && typeof existing === 'object' && !Array.isArray(existing)) return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  raw[name] = created;
  return created;
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const set = (value: string | undefined, apply: (v: string) => void) => {
    if (value !== undefined && value !== '') apply(value);
  };
  set(env.GATEWATCH_UPSTREAM, (v) => (raw.upstream = v));
  set(env.GATEWATCH_LISTEN, (v) => (raw.listen = v));
  set(env.GATEWATCH_ADMIN, (v) => (raw.admin = v));
  set(env.GATEWATCH_ADMIN_TOKEN, (v) => (raw.adminToken = v));
  set(env.GATEWATCH_FINGERPRINT_KEY, (v) => (raw.fingerprintKey = v));
  set(env.GATEWATCH_LOG_LEVEL, (v) => (section(raw, 'log').level = v));
  set(env.GATEWATCH_REDIS_URL, (v) => {
    section(raw, 'state').redisUrl = v;
    section(raw, 'alerts').redisUrl = v;
  });
  const sinks = () => section(section(raw, 'alerts'), 'sinks');
  set(env.GATEWATCH_SLACK_WEBHOOK_URL, (v) => {
    const slack = section(sinks(), 'slack');
    slack.url = v;
  });
  set(env.GATEWATCH_WEBHOOK_URL, (v) => (section(sinks(), 'webhook').url = v));
  set(env.GATEWATCH_WEBHOOK_SECRET, (v) => (section(sinks(), 'webhook').secret = v));
}

function applyFlags(raw: Record<string, unknown>, flags: NonNullable<ConfigSources['flags']>): void {
  if (flags.listen !== undefined) raw.listen = flags.listen;
  if (flags.upstream !== undefined) raw.upstream = flags.upstream;
  if (flags.admin !== undefined) raw.admin = flags.admin;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(value: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  if (!m) throw new Error(`"${value}" is not HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port ${port} is above 65535`);
  return { host: m[1] ?? m[2]!, port };
}

function semanticProblems(config: Config, source: string): string[] {
  const problems: string[] = [];
  const at = (path: string, message: string) => problems.push(`${source}: ${path}: ${message}`);
  for (const [field, value] of [['listen', config.listen], ['admin', config.admin]] as const) {
    try {
      parseHostPort(value);
    } catch (e) {
      at(`/${field}`, `${(e as Error).message} (e.g. 127.0.0.1:8080)`);
    }
  }
  checkUrl(config.upstream, '/upstream', at);
  const prefixes = new Set<string>();
  config.routes.forEach((route, i) => {
    checkUrl(route.upstream, `/routes/${i}/upstream`, at);
    if (prefixes.has(route.prefix)) at(`/routes/${i}/prefix`, `prefix "${route.prefix}" is used by an earlier route; each prefix once`);
    prefixes.add(route.prefix);
  });
  config.proxy.trustedProxies.forEach((cidr, i) => {
    if (!parseCidr(cidr)) at(`/proxy/trustedProxies/${i}`, `"${cidr}" is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8)`);
  });
  const { overload } = config.inspection;
  if (overload.calmBelow > overload.busyAbove) {
    at('/inspection/overload/calmBelow', `must be at most busyAbove (${overload.busyAbove}), or inspection would yield and resume in a loop`);
  }
  if (config.adminToken !== null && config.adminToken.length < 16) {
    at('/adminToken', 'must be at least 16 characters (set GATEWATCH_ADMIN_TOKEN to a long random value)');
  }
  return problems;
}

function checkUrl(value: string, path: string, at: (path: string, message: string) => void): void {
  try {
    const url = new URL(value);
    if (url.hostname === '') at(path, `"${value}" has no host`);
    if (url.username || url.password) at(path, 'must not carry credentials in the URL');
  } catch {
    at(path, `"${value}" is not a URL (e.g. http://127.0.0.1:4000)`);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

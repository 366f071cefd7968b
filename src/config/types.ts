import type { AlertsConfig } from '../alerts/config.js';
import type { AnomalyConfig } from '../detect/anomaly/config.js';
import type { CredentialsConfig } from '../detect/credentials/config.js';
import type { ExfiltrationConfig } from '../detect/exfiltration/config.js';
import type { StateConfig } from '../state/config.js';
import type { Provider } from '../types.js';

// The TypeScript face of src/config/schema.json (after defaults are applied).

export interface RouteConfig {
  readonly name?: string;
  readonly prefix: string;
  readonly upstream: string;
  readonly stripPrefix: boolean;
  readonly provider?: Provider;
  readonly direction?: 'ingress' | 'egress';
  readonly preserveHost?: boolean;
}

export interface Config {
  readonly listen: string;
  readonly upstream: string;
  readonly admin: string;
  readonly adminToken: string | null;
  readonly fingerprintKey: string | null;
  readonly direction: 'ingress' | 'egress';
  readonly routes: readonly RouteConfig[];
  readonly proxy: {
    readonly preserveHost: boolean;
    readonly hostHeader: string | null;
    readonly xForwarded: boolean;
    readonly trustedProxies: readonly string[];
    readonly upstreamTimeoutMs: number;
    readonly connectTimeoutMs: number;
    readonly maxSockets: number;
    readonly rejectUnauthorized: boolean;
  };
  readonly capture: {
    readonly maxRequestBytes: number;
    readonly maxResponseBytes: number;
    readonly maxDecodedBytes: number;
    readonly maxWebSocketMessageBytes: number;
  };
  readonly inspection: {
    readonly mode: 'worker' | 'inline';
    readonly enabled: boolean;
    readonly budgetMs: number;
    readonly maxQueue: number;
    readonly maxQueueBytes: number;
    readonly maxCpuShare: number;
    readonly niceness: number;
    readonly overload: {
      readonly enabled: boolean;
      readonly busyAbove: number;
      readonly calmBelow: number;
      readonly windowMs: number;
      readonly maxCpuShare: number;
      readonly maxQueue: number;
    };
  };
  readonly identity: {
    readonly userHeaders: readonly string[];
    readonly teamHeaders: readonly string[];
  };
  readonly log: { readonly level: string };
  readonly credentials: CredentialsConfig;
  readonly exfiltration: ExfiltrationConfig;
  readonly anomaly: AnomalyConfig;
  readonly state: StateConfig;
  readonly alerts: AlertsConfig;
}

import type { Detector, Exchange, Finding, Provider } from '../../types.js';
import type { CredentialsConfig } from './config.js';
import { RUNBOOK } from './findings.js';
import type { LivenessTracker } from './liveness.js';

// Policy detectors: about the credential a request presents (its identity),
// not about secrets in content. They read only the identity's type,
// prefix, source and fingerprint; the key itself never reaches them.

/** Key types that belong to exactly one route provider. */
const KEY_PROVIDERS: Readonly<Record<string, readonly Provider[]>> = {
  openai: ['openai'],
  anthropic: ['anthropic'],
  google: ['gemini'],
  aws: ['bedrock'],
};

/** Route providers whose upstream only accepts its own keys (LiteLLM and unknown routes take anything). */
const STRICT_PROVIDERS: ReadonlySet<Provider> = new Set(['openai', 'anthropic', 'gemini', 'azure-openai', 'bedrock']);

/** Credentials that are not raw provider keys. */
const NOT_PROVIDER_KEYS = new Set(['litellm', 'unknown', 'jwt']);

function credentialLocation(ex: Exchange): string {
  const s = ex.identity.keySource;
  return s === 'query' ? 'request.query' : `request.headers.${s ?? 'authorization'}`;
}

function identityFinding(ex: Exchange, f: Omit<Finding, 'category' | 'kind' | 'fingerprint' | 'keyType' | 'prefix' | 'length' | 'location' | 'runbook'>): Finding {
  const id = ex.identity;
  return {
    ...f,
    category: 'credential',
    kind: 'credential',
    location: { path: credentialLocation(ex) },
    ...(id.keyFingerprint ? { fingerprint: id.keyFingerprint } : {}),
    ...(id.keyType ? { keyType: id.keyType } : {}),
    ...(id.keyPrefix ? { prefix: id.keyPrefix } : {}),
    ...(id.keyLength !== undefined ? { length: id.keyLength } : {}),
    runbook: RUNBOOK,
  };
}

export function createProviderMismatchDetector(): Detector {
  return {
    id: 'credential.provider-mismatch',
    category: 'credential',
    detect(ex: Exchange): Finding[] {
      const keyType = ex.identity.keyType;
      if (!keyType || !STRICT_PROVIDERS.has(ex.provider)) return [];
      const accepted = KEY_PROVIDERS[keyType];
      if (!accepted || accepted.includes(ex.provider)) return [];
      return [
        identityFinding(ex, {
          detector: 'credential.provider-mismatch',
          severity: 'high',
          title: `${keyType} key sent to a ${ex.provider} route`,
          summary: `A ${keyType} key (${ex.identity.keyPrefix || 'no public prefix'}…) was sent to a ${ex.provider} route (${ex.operation}): the key reached a provider that does not own it`,
        }),
      ];
    },
  };
}

export function createRawProviderKeyDetector(config: CredentialsConfig): Detector {
  return {
    id: 'credential.raw-provider-key',
    category: 'credential',
    detect(ex: Exchange): Finding[] {
      if (!config.virtualKeysOnly || ex.direction !== 'ingress') return [];
      const keyType = ex.identity.keyType;
      if (!keyType || NOT_PROVIDER_KEYS.has(keyType)) return [];
      return [
        identityFinding(ex, {
          detector: 'credential.raw-provider-key',
          severity: 'high',
          title: `Raw ${keyType} key sent to a virtual-keys-only gateway`,
          summary: `A client sent a raw ${keyType} provider key (${ex.identity.keyPrefix || 'no public prefix'}…) where the gateway hands out virtual keys: the provider key has left the gateway's custody`,
        }),
      ];
    },
  };
}

export function createKeyInQueryDetector(): Detector {
  return {
    id: 'credential.key-in-query',
    category: 'credential',
    detect(ex: Exchange): Finding[] {
      if (ex.identity.keySource !== 'query') return [];
      return [
        identityFinding(ex, {
          detector: 'credential.key-in-query',
          severity: 'medium',
          title: 'API key sent in the URL query string',
          summary: `The request's ${ex.identity.keyType ?? 'unknown'} key travelled in the URL of a ${ex.provider} ${ex.operation} request, where access logs, proxies and browser history keep it; send it in a header instead`,
        }),
      ];
    },
  };
}

/** A key that leaked in content earlier, now used as a credential: the upstream's answer says whether it works. */
export function createLeakedKeyUsedDetector(liveness: LivenessTracker): Detector {
  return {
    id: 'credential.leaked-key-used',
    category: 'credential',
    detect(ex: Exchange): Finding[] {
      const fp = ex.identity.keyFingerprint;
      if (!fp) return [];
      const state = liveness.recordUse(fp, ex.status);
      const leakedAt = liveness.leakedAt(fp);
      if (leakedAt === undefined || state === undefined) return [];
      const since = new Date(leakedAt).toISOString();
      return [
        identityFinding(ex, {
          detector: 'credential.leaked-key-used',
          severity: state === 'live' ? 'critical' : 'low',
          title: state === 'live' ? 'Leaked key is live: the upstream accepted it' : 'Leaked key was refused by the upstream (revoked)',
          summary: `A ${ex.identity.keyType ?? 'unknown'} key seen leaked in content since ${since} was used on a ${ex.provider} ${ex.operation} request and the upstream answered ${ex.status}`,
        }),
      ];
    },
  };
}

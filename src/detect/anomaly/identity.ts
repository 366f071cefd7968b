import type { Exchange } from '../../types.js';
import type { IdentityKind } from './rules.js';

// The identities anomalies are tracked for: key fingerprint, gateway user,
// team and client IP. The key is known only by its fingerprint.

/** The identity's value in this exchange, or undefined when the exchange has none. */
export function identityValue(exchange: Exchange, kind: IdentityKind): string | undefined {
  const who = exchange.identity;
  switch (kind) {
    case 'key':
      return who.keyFingerprint || undefined;
    case 'user':
      return who.user || undefined;
    case 'team':
      return who.team || undefined;
    case 'ip':
      return who.clientIp || undefined;
  }
}

/** Where a finding says the identity came from. */
export const IDENTITY_PATH: Readonly<Record<IdentityKind, string>> = {
  key: 'identity.key_fingerprint',
  user: 'identity.user',
  team: 'identity.team',
  ip: 'identity.client_ip',
};

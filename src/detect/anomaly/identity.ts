import type {
  DistinctOptions,
  DistinctSnapshot,
  IdentityRecordOps,
  ProfileSnapshot,
  SampleOptions,
  SampleSnapshot,
  SeriesOptions,
  SeriesSnapshot,
  StateStore,
  SyncStateOps,
} from '../../state/store.js';
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

const LABEL: Readonly<Record<IdentityKind, string>> = { key: 'key ', user: 'user ', team: 'team ', ip: 'client IP ' };

export type MaybePromise<T> = T | Promise<T>;

/** Operations on one identity's records, answered at once (memory) or later (Redis). */
export type RecordOps = {
  [K in Exclude<keyof IdentityRecordOps, 'id'>]: (
    ...args: Parameters<IdentityRecordOps[K]>
  ) => MaybePromise<ReturnType<IdentityRecordOps[K]>>;
};

/** One identity of the exchange being judged, with its records. */
export class Subject {
  private named: string | undefined;

  constructor(
    readonly kind: IdentityKind,
    readonly value: string,
    readonly records: RecordOps,
  ) {}

  /** How a summary names it, e.g. `key fp:3f9a1c0d2b7e4a55`, `client IP 10.1.2.3`. */
  get label(): string {
    return (this.named ??= LABEL[this.kind] + this.value);
  }
}

/**
 * The identities of the exchange in progress, shared by all detectors over
 * a synchronous store: each is looked up once, when it differs from the one
 * of the same kind in the exchange before.
 */
export class SubjectLookup {
  private readonly last: Partial<Record<IdentityKind, Subject>> = {};

  constructor(private readonly sync: SyncStateOps) {}

  of(exchange: Exchange, kind: IdentityKind): Subject | undefined {
    const value = identityValue(exchange, kind);
    if (value === undefined) return undefined;
    const last = this.last[kind];
    if (last !== undefined && last.value === value) return last;
    const subject = new Subject(kind, value, this.sync.identity(value));
    this.last[kind] = subject;
    return subject;
  }
}

/** An identity's records in a store that answers later (Redis): every operation goes to the store by id. */
export class StoredRecords implements RecordOps {
  constructor(
    private readonly store: StateStore,
    private readonly id: string,
  ) {}

  series(field: string, values: readonly number[], now: number, opts: SeriesOptions): Promise<SeriesSnapshot> {
    return this.store.series(this.id, field, values, now, opts);
  }

  sample(field: string, value: number, opts: SampleOptions): Promise<SampleSnapshot> {
    return this.store.sample(this.id, field, value, opts);
  }

  distinct(field: string, member: string, now: number, opts: DistinctOptions): Promise<DistinctSnapshot> {
    return this.store.distinct(this.id, field, member, now, opts);
  }

  profile(field: string, now: number): Promise<ProfileSnapshot> {
    return this.store.profile(this.id, field, now);
  }

  claim(field: string, now: number, cooldownMs: number): Promise<boolean> {
    return this.store.claim(this.id, field, now, cooldownMs);
  }
}

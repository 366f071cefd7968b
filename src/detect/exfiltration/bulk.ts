import type { DetectContext, Detector, Exchange, Finding, Role } from '../../types.js';
import type { BulkConfig } from './config.js';
import { countPii, totalPii, type PiiCounts } from './pii.js';

// Bulk sensitive data pasted into a prompt: many e-mail addresses, phone
// numbers, cards, IBANs, national ids or credentials in one request. Only
// counts are reported.

export const BULK_DETECTOR_ID = 'exfiltration.bulk-data';

const SCANNED_ROLES: ReadonlySet<Role> = new Set<Role>(['user', 'tool', 'unknown']);

export interface BulkCounts extends PiiCounts {
  secrets: number;
}

/** The kinds whose count reached its threshold, in a fixed order; 'total' when only the sum did. */
export function overThreshold(c: BulkCounts, cfg: BulkConfig): string[] {
  const over: string[] = [];
  if (c.emails >= cfg.emails) over.push('emails');
  if (c.phones >= cfg.phones) over.push('phones');
  if (c.cards >= cfg.cards) over.push('cards');
  if (c.ibans >= cfg.ibans) over.push('ibans');
  if (c.nationalIds >= cfg.nationalIds) over.push('nationalIds');
  if (c.secrets >= cfg.secrets) over.push('secrets');
  if (over.length === 0 && totalPii(c) + c.secrets >= cfg.total) over.push('total');
  return over;
}

const LABEL: Record<string, string> = {
  emails: 'e-mail addresses', phones: 'phone numbers', cards: 'payment cards', ibans: 'IBANs', nationalIds: 'national ids', secrets: 'credentials',
};

function describe(c: BulkCounts): string {
  return (Object.keys(LABEL) as (keyof BulkCounts)[])
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${LABEL[k]}`)
    .join(', ');
}

/** Number of credentials in a prompt part. */
export type PartSecretCounter = (part: { readonly text: string }) => number;

export function createBulkDetector(cfg: BulkConfig, countSecrets?: PartSecretCounter): Detector {
  return {
    id: BULK_DETECTOR_ID,
    category: 'exfiltration',
    detect(exchange: Exchange, _ctx: DetectContext): Finding[] {
      // Written out: a literal that starts with a spread costs V8 (Node 20) a runtime call per added key.
      const counts: BulkCounts = { emails: 0, phones: 0, cards: 0, ibans: 0, nationalIds: 0, secrets: 0 };
      let topPath: string | undefined;
      let topItems = 0;
      for (const part of exchange.prompt) {
        if (!SCANNED_ROLES.has(part.role)) continue;
        const before = totalPii(counts) + counts.secrets;
        countPii(part.text, counts);
        if (countSecrets) counts.secrets += countSecrets(part);
        const items = totalPii(counts) + counts.secrets - before;
        if (items > topItems) (topItems = items), (topPath = part.path);
      }
      const over = overThreshold(counts, cfg);
      if (over.length === 0 || topPath === undefined) return [];
      const severe = over.some((k) => k === 'cards' || k === 'ibans' || k === 'nationalIds' || k === 'secrets');
      return [
        {
          detector: BULK_DETECTOR_ID,
          category: 'exfiltration',
          severity: severe ? 'high' : 'medium',
          title: 'Bulk sensitive data in a prompt',
          summary: `${describe(counts)} in one request (over threshold: ${over.join(', ')})`,
          location: { path: topPath },
          kind: 'bulk',
        },
      ];
    },
  };
}

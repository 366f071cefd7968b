import type { DistinctOptions, DistinctSnapshot } from '../../state/store.js';
import { type DetectorFactory, fieldNames, identityDetector, MINUTE_MS } from './base.js';
import { num } from './format.js';
import { requireParam } from './rules.js';

// One key from many client IPs at once: distinct IPs seen in a short window.

export const manyIps: DetectorFactory = (deps) => {
  const { rule } = deps;
  const windowMinutes = requireParam(rule, 'windowMinutes');
  const opts: DistinctOptions = { windowMs: windowMinutes * MINUTE_MS, maxMembers: requireParam(rule, 'maxMembers') };
  const field = fieldNames('mi');
  return identityDetector<DistinctSnapshot>(deps, {
    observe: (records, kind, exchange, now) => records.distinct(field[kind], exchange.identity.clientIp, now, opts),
    judge(s, subject) {
      if (!s.isNew || s.size < rule.minVolume) return undefined;
      return {
        title: 'Key used from many IPs at once',
        summary: `${subject.label} used from ${num(s.size)} client IPs in the last ${num(windowMinutes)} minutes (threshold ${num(rule.minVolume)})`,
        kind: 'spread',
      };
    },
  });
};

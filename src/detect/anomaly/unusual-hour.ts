import { HOURS_PER_WEEK, type ProfileSnapshot } from '../../state/store.js';
import { type DetectorFactory, fieldNames, identityDetector, warmupMs } from './base.js';
import { hourOfWeekLabel, num, span } from './format.js';
import { requireParam } from './rules.js';

// Traffic in an hour of the week the identity has never used: a 168-slot
// profile of active hours. The current hour joins the profile only when it
// ends, so a burst in a never-used hour is judged against the past alone.

export const unusualHour: DetectorFactory = (deps) => {
  const { rule } = deps;
  const neighbours = requireParam(rule, 'neighbourHours');
  const used = requireParam(rule, 'minActiveWeeks');
  const minAge = warmupMs(rule);
  const field = fieldNames('uh');
  return identityDetector<ProfileSnapshot>(deps, {
    observe: (records, kind, _exchange, now) => records.profile(field[kind], now),
    judge(p, subject, _exchange, now) {
      if (p.currentCount < rule.minVolume) return undefined;
      const age = now - p.first;
      if (age < minAge) return undefined;
      for (let d = -neighbours; d <= neighbours; d++) {
        if (p.hour((p.currentHourOfWeek + d + HOURS_PER_WEEK) % HOURS_PER_WEEK) >= used) return undefined;
      }
      const active = p.activeHours();
      if (active < rule.warmup.minCount) return undefined;
      return {
        title: 'Traffic at an unusual hour',
        summary: `${num(p.currentCount)} requests from ${subject.label} on ${hourOfWeekLabel(p.currentHourOfWeek)}, an hour of the week it has used in fewer than ${num(used)} weeks over ${span(age)} of history (${num(active)} active hours)`,
        kind: 'schedule',
      };
    },
  });
};

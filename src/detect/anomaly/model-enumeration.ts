import type { DistinctOptions, DistinctSnapshot, SeriesOptions, SeriesSnapshot } from '../../state/store.js';
import { type DetectorFactory, fieldNames, identityDetector, MINUTE_MS } from './base.js';
import { num } from './format.js';
import { requireParam } from './rules.js';

// Model enumeration: many distinct models tried, or many model-not-found
// (404) answers, within a short window.

interface Seen {
  readonly models?: DistinctSnapshot;
  readonly misses?: SeriesSnapshot;
}

const ONE = [1];

export const modelEnumeration: DetectorFactory = (deps) => {
  const { rule } = deps;
  const windowMinutes = requireParam(rule, 'windowMinutes');
  const distinctModels = requireParam(rule, 'distinctModels');
  const notFound = requireParam(rule, 'notFound');
  const modelOpts: DistinctOptions = { windowMs: windowMinutes * MINUTE_MS, maxMembers: requireParam(rule, 'maxMembers') };
  const missOpts: SeriesOptions = { bucketMs: windowMinutes * MINUTE_MS, alpha: 0.01, peakDecay: 0.99 };
  const modelField = fieldNames('me');
  const missField = fieldNames('mn');
  return identityDetector<Seen>(deps, {
    applies: (exchange) => exchange.model !== undefined || exchange.status === 404,
    observe(records, kind, exchange, now) {
      const models = exchange.model !== undefined ? records.distinct(modelField[kind], exchange.model, now, modelOpts) : undefined;
      const misses = exchange.status === 404 ? records.series(missField[kind], ONE, now, missOpts) : undefined;
      if (models instanceof Promise || misses instanceof Promise) {
        return Promise.all([models, misses]).then(([m, x]) => ({ models: m, misses: x }));
      }
      return { models, misses };
    },
    judge({ models, misses }, subject) {
      let summary: string | undefined;
      if (models && models.isNew && models.size >= distinctModels) {
        summary = `${subject.label} asked for ${num(models.size)} distinct models in the last ${num(windowMinutes)} minutes (threshold ${num(distinctModels)})`;
      } else if (misses && misses.window(0) >= notFound) {
        summary = `${subject.label} got ${num(misses.window(0))} model-not-found (404) answers in the last ${num(windowMinutes)} minutes (threshold ${num(notFound)})`;
      }
      return summary === undefined ? undefined : { title: 'Model enumeration', summary, kind: 'enumeration' };
    },
  });
};

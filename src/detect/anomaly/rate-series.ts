import type { SeriesOptions, SeriesSnapshot } from '../../state/store.js';
import { fieldNames } from './base.js';
import type { MaybePromise, RecordOps } from './identity.js';
import type { IdentityKind } from './rules.js';

/**
 * The per-minute series of the rate-spike detectors that share a baseline
 * window, kept per identity in one vector record (`co+rq+tk.key`: spend,
 * requests, tokens): one record and one bucket roll-over instead of three.
 * Each detector adds its value to its own column and judges that column, so
 * the numbers are exactly those of separate series, whatever the order the
 * detectors run in. A measure alone keeps its old record name (`rq.key`).
 */
export class RateSeries {
  private readonly tags: string[] = [];
  private fields: Readonly<Record<IdentityKind, string>> | undefined;

  constructor(private readonly opts: SeriesOptions) {}

  /** Adds a measure, named by its state tag (e.g. `rq`), while the detectors are built; returns its column. */
  add(stateTag: string): number {
    if (this.fields) throw new Error('RateSeries: measures are added before the first observation');
    return this.tags.push(stateTag) - 1;
  }

  /** Adds `value` to the current minute of `column` and returns the series. */
  observe(records: RecordOps, kind: IdentityKind, column: number, value: number, now: number): MaybePromise<SeriesSnapshot> {
    this.fields ??= fieldNames(this.tags.join('+'));
    const values = new Array<number>(this.tags.length).fill(0);
    values[column] = value;
    return records.series(this.fields[kind], values, now, this.opts);
  }
}

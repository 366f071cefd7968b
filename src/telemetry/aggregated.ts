import type { Attributes, Counter, Histogram, UpDownCounter } from '@opentelemetry/api';

// Pre-aggregated instruments. The SDK's own instruments hash the attributes
// of every call (sort the keys, JSON-encode them): 1–5 µs a call, and
// gatewatch makes about ten calls per exchange on the forwarding thread and
// forty on the inspection worker. These keep one series per attribute set,
// found by a cheap key; metric-producer.ts hands their cumulative values to
// the SDK's readers (Prometheus and OTLP) when they collect. The inspection
// worker records into a set of its own and ships the deltas to the main
// thread. Nothing here loads the SDK, so the worker does not either.

/** The SDK's default cardinality limit: past it, new attribute sets share one overflow series. */
const MAX_SERIES = 2000;
const OVERFLOW: Attributes = { 'otel.metric.overflow': true };

/** Insertion-ordered: the same call site always builds its attributes in the same order. */
function keyOf(attributes: Attributes): string {
  let key = '';
  for (const name in attributes) key += `${name}\u0000${String(attributes[name])}\u0001`;
  return key;
}

function canonicalKeyOf(attributes: Attributes): string {
  return JSON.stringify(Object.keys(attributes).sort().map((name) => [name, attributes[name]]));
}

export interface Series<S> {
  readonly attributes: Attributes;
  readonly start: number;
  state: S;
}

/** What a worker ships for one instrument: the attribute sets touched since the last delta, with their change. */
export type SeriesDelta<S> = Array<[Attributes, S]>;

abstract class AggregatedInstrument<S> {
  private readonly byKey = new Map<string, Series<S>>();
  private readonly byCanonicalKey = new Map<string, Series<S>>();
  private readonly all: Series<S>[] = [];

  constructor(
    readonly name: string,
    readonly description: string,
    readonly unit: string,
  ) {}

  protected abstract empty(): S;
  protected abstract combine(into: S, delta: S): S;

  protected seriesFor(attributes: Attributes): Series<S> {
    const key = keyOf(attributes);
    const found = this.byKey.get(key);
    if (found) return found;
    // A new key: the same attribute set may already exist under another key order.
    const canonical = canonicalKeyOf(attributes);
    let series = this.byCanonicalKey.get(canonical);
    if (!series) {
      if (this.all.length >= MAX_SERIES && attributes !== OVERFLOW) return this.seriesFor(OVERFLOW);
      series = { attributes: { ...attributes }, start: Date.now(), state: this.empty() };
      this.byCanonicalKey.set(canonical, series);
      this.all.push(series);
    }
    this.byKey.set(key, series);
    return series;
  }

  /** Every attribute set recorded so far, with its cumulative state. */
  series(): readonly Series<S>[] {
    return this.all;
  }

  /** Takes what was recorded since the last call and starts over (the worker's side). */
  takeDelta(): SeriesDelta<S> {
    const delta: SeriesDelta<S> = [];
    for (const s of this.all) {
      if (this.isEmpty(s.state)) continue;
      delta.push([s.attributes, s.state]);
      s.state = this.empty();
    }
    return delta;
  }

  /** Adds a worker's delta (the main thread's side). */
  merge(delta: SeriesDelta<S>): void {
    for (const [attributes, change] of delta) {
      const s = this.seriesFor(attributes);
      s.state = this.combine(s.state, change);
    }
  }

  protected abstract isEmpty(state: S): boolean;
}

class AggregatedSum extends AggregatedInstrument<number> {
  constructor(
    name: string,
    description: string,
    readonly monotonic: boolean,
  ) {
    super(name, description, '');
  }

  add(value: number, attributes: Attributes = {}): void {
    this.addTo(this.seriesFor(attributes), value);
  }

  /** The series of `attributes`, found on first use only: for a call site that always records the same set. */
  bind(attributes: Attributes): { add(value: number): void } {
    let series: Series<number> | undefined;
    return { add: (value) => this.addTo((series ??= this.seriesFor(attributes)), value) };
  }

  private addTo(series: Series<number>, value: number): void {
    // As the SDK: a counter ignores negative values, and nothing counts NaN.
    if (Number.isNaN(value) || (this.monotonic && value < 0)) return;
    series.state += value;
  }

  protected empty(): number {
    return 0;
  }
  protected isEmpty(state: number): boolean {
    return state === 0;
  }
  protected combine(into: number, delta: number): number {
    return into + delta;
  }
}

export class AggregatedCounter extends AggregatedSum implements Counter {
  constructor(name: string, description: string) {
    super(name, description, true);
  }
}

export class AggregatedUpDownCounter extends AggregatedSum implements UpDownCounter {
  constructor(name: string, description: string) {
    super(name, description, false);
  }
}

export interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
}

export class AggregatedHistogram extends AggregatedInstrument<HistogramState> implements Histogram {
  constructor(
    name: string,
    description: string,
    unit: string,
    readonly boundaries: readonly number[],
  ) {
    super(name, description, unit);
  }

  record(value: number, attributes: Attributes = {}): void {
    this.recordIn(this.seriesFor(attributes), value);
  }

  /** The series of `attributes`, found on first use only: for a call site that always records the same set. */
  bind(attributes: Attributes): { record(value: number): void } {
    let series: Series<HistogramState> | undefined;
    return { record: (value) => this.recordIn((series ??= this.seriesFor(attributes)), value) };
  }

  private recordIn(series: Series<HistogramState>, value: number): void {
    if (!(value >= 0)) return; // negative values and NaN, as the SDK
    const h = series.state;
    // Upper bounds are inclusive: a value equal to a boundary falls in that boundary's bucket.
    let i = 0;
    while (i < this.boundaries.length && this.boundaries[i]! < value) i++;
    h.counts[i]!++;
    h.sum += value;
    h.count++;
    if (value < h.min) h.min = value;
    if (value > h.max) h.max = value;
  }

  protected empty(): HistogramState {
    return { counts: new Array<number>(this.boundaries.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity };
  }
  protected isEmpty(state: HistogramState): boolean {
    return state.count === 0;
  }
  protected combine(into: HistogramState, delta: HistogramState): HistogramState {
    for (let i = 0; i < into.counts.length; i++) into.counts[i]! += delta.counts[i] ?? 0;
    into.sum += delta.sum;
    into.count += delta.count;
    into.min = Math.min(into.min, delta.min);
    into.max = Math.max(into.max, delta.max);
    return into;
  }
}

export type AnyAggregatedInstrument = AggregatedCounter | AggregatedUpDownCounter | AggregatedHistogram;

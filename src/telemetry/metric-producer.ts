import { ValueType, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type CollectionResult, type MetricData, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { AggregatedHistogram, type AnyAggregatedInstrument } from './aggregated.js';

// Hands the pre-aggregated instruments' cumulative values to a MetricReader
// (the Prometheus exporter, the OTLP periodic reader) when it collects.

const hrTimeOf = (ms: number): HrTime => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

function toMetricData(instrument: AnyAggregatedInstrument, now: HrTime): MetricData {
  const descriptor = { name: instrument.name, description: instrument.description, unit: instrument.unit, valueType: ValueType.DOUBLE };
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  if (instrument instanceof AggregatedHistogram) {
    const boundaries = [...instrument.boundaries];
    return {
      descriptor,
      aggregationTemporality,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: instrument.series().map(({ start, attributes, state: h }) => ({
        startTime: hrTimeOf(start),
        endTime: now,
        attributes,
        value: { buckets: { boundaries, counts: [...h.counts] }, sum: h.sum, count: h.count, ...(h.count > 0 ? { min: h.min, max: h.max } : {}) },
      })),
    };
  }
  return {
    descriptor,
    aggregationTemporality,
    dataPointType: DataPointType.SUM,
    isMonotonic: instrument.monotonic,
    dataPoints: instrument.series().map(({ start, attributes, state }) => ({ startTime: hrTimeOf(start), endTime: now, attributes, value: state })),
  };
}

export function aggregatedProducer(resource: Resource, scopeName: string, instruments: readonly AnyAggregatedInstrument[]): MetricProducer {
  return {
    async collect(): Promise<CollectionResult> {
      const now = hrTimeOf(Date.now());
      // As the SDK: an instrument that has recorded nothing is not exported.
      const metrics = instruments.filter((i) => i.series().length > 0).map((i) => toMetricData(i, now));
      return { resourceMetrics: { resource, scopeMetrics: [{ scope: { name: scopeName }, metrics }] }, errors: [] };
    },
  };
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeExchange } from '../../src/exchange.js';
import { createDetectorRunner } from '../../src/inspect/run-detectors.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Detector, Finding } from '../../src/types.js';
import { Writable } from 'node:stream';

const finding = (detector: string): Finding => ({ detector, category: 'credential', severity: 'high', title: 't' });

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

async function metricText(metrics: ReturnType<typeof createMetrics>): Promise<string> {
  const { createServer, get } = await import('node:http');
  const server = createServer((req, res) => metrics.handlePrometheus(req, res)).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const text = await new Promise<string>((resolve) => get(`http://127.0.0.1:${port}/metrics`, (res) => {
    let s = '';
    res.on('data', (c) => (s += c));
    res.on('end', () => resolve(s));
  }));
  server.close();
  return text;
}

test('a throwing detector fails open: the others still run, it is counted and logged once a minute', async () => {
  const metrics = createMetrics();
  const { logger, lines } = capturingLogger();
  const secretInMessage = 'sk-live-should-never-be-logged';
  const detectors: Detector[] = [
    { id: 'test.throws', category: 'credential', detect: () => { throw new SyntaxError(`Unexpected token in "${secretInMessage}"`); } },
    { id: 'test.ok', category: 'credential', detect: () => [finding('test.ok')] },
  ];
  const runner = createDetectorRunner({ detectors, budgetMs: 50, metrics, logger, reportEveryMs: 60_000 });
  for (let i = 0; i < 5; i++) {
    const found = await runner.run(makeExchange(), { now: Date.now() });
    assert.deepEqual(found.map((f) => f.detector), ['test.ok']);
  }
  const reports = lines.filter((l) => l.detector === 'test.throws');
  assert.equal(reports.length, 1, 'reported once per minute, not per exchange');
  assert.ok(!JSON.stringify(lines).includes(secretInMessage), 'the error message (which may quote traffic) is not logged');
  const text = await metricText(metrics);
  assert.match(text, /gatewatch_detector_runs_total\{detector="test.throws",outcome="error"\} 5/);
  assert.match(text, /gatewatch_detector_runs_total\{detector="test.ok",outcome="ok"\} 5/);
  await metrics.shutdown();
});

test('an async detector past its budget is abandoned and counted as a timeout', async () => {
  const metrics = createMetrics();
  const { logger } = capturingLogger();
  const detectors: Detector[] = [
    { id: 'test.slow', category: 'anomaly', detect: () => new Promise((r) => setTimeout(() => r([finding('test.slow')]), 500)) },
    { id: 'test.fast', category: 'anomaly', detect: async () => [finding('test.fast')] },
  ];
  const runner = createDetectorRunner({ detectors, budgetMs: 20, metrics, logger });
  const started = performance.now();
  const found = await runner.run(makeExchange(), { now: Date.now() });
  assert.ok(performance.now() - started < 300);
  assert.deepEqual(found.map((f) => f.detector), ['test.fast']);
  assert.match(await metricText(metrics), /gatewatch_detector_runs_total\{detector="test.slow",outcome="timeout"\} 1/);
  await metrics.shutdown();
});

test('a synchronous overrun keeps its findings but is counted as a timeout', async () => {
  const metrics = createMetrics();
  const busy: Detector = {
    id: 'test.busy',
    category: 'exfiltration',
    detect: () => {
      const end = Date.now() + 30;
      while (Date.now() < end);
      return [finding('test.busy')];
    },
  };
  const runner = createDetectorRunner({ detectors: [busy], budgetMs: 5, metrics, logger: capturingLogger().logger });
  assert.equal((await runner.run(makeExchange(), { now: 0 })).length, 1);
  assert.match(await metricText(metrics), /gatewatch_detector_runs_total\{detector="test.busy",outcome="timeout"\} 1/);
  await metrics.shutdown();
});

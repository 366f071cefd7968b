import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAnomalyConfig } from '../../src/detect/anomaly/config.js';
import { ANOMALY_DETECTOR_IDS, createAnomalyDetectors } from '../../src/detect/anomaly/index.js';
import { createPriceLookup, requestCost } from '../../src/detect/anomaly/prices.js';
import { loadAnomalyRules } from '../../src/detect/anomaly/rules.js';
import { isGatewatchError } from '../../src/errors.js';
import { MemoryStore } from '../../src/state/memory.js';

const store = () => new MemoryStore({ maxEntries: 100, maxBytes: 1 << 20 });

function withDir(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gw-anomaly-rules-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every shipped rule loads and every detector has its rule', () => {
  const { rules } = loadAnomalyRules(parseAnomalyConfig({}));
  assert.deepEqual([...rules.keys()].sort(), [...ANOMALY_DETECTOR_IDS].sort());
  const detectors = createAnomalyDetectors({ config: parseAnomalyConfig({}), store: store() });
  assert.equal(detectors.length, ANOMALY_DETECTOR_IDS.length);
  assert.ok(detectors.every((d) => d.id.startsWith('anomaly.') && d.category === 'anomaly'));
});

test('an override file changes only the fields it sets; enabled:false drops the detector', () => {
  withDir({ 'mine.yaml': 'id: request-rate-spike\nminVolume: 99\nparams: { zScore: 9 }\n', 'off.yaml': 'id: unusual-hour\nenabled: false\n' }, (dir) => {
    const { rules } = loadAnomalyRules(parseAnomalyConfig({}), [dir]);
    const r = rules.get('request-rate-spike')!;
    assert.equal(r.minVolume, 99);
    assert.equal(r.params.zScore, 9);
    assert.equal(r.params.peakFactor, 2);
    assert.equal(r.source, join(dir, 'mine.yaml'));
    const ds = createAnomalyDetectors({ config: parseAnomalyConfig({}), store: store(), extraRuleDirs: [dir] });
    assert.ok(!ds.some((d) => d.id === 'anomaly.unusual-hour'));
  });
});

test('config overrides and prices apply on top of the files', () => {
  const config = parseAnomalyConfig({ overrides: { 'many-ips': { minVolume: 30 } }, prices: { 'my-model': { input: 100, output: 200 } } });
  const { rules, prices } = loadAnomalyRules(config);
  assert.equal(rules.get('many-ips')!.minVolume, 30);
  assert.equal(rules.get('many-ips')!.source, 'config anomaly.overrides.many-ips');
  const lookup = createPriceLookup(prices);
  assert.deepEqual(lookup('my-model'), { input: 100, output: 200 });
  assert.deepEqual(lookup('openai/gpt-4o-mini-2024-07-18'), { input: 0.15, output: 0.6 });
  assert.deepEqual(lookup('gpt-4o-2024-08-06'), { input: 2.5, output: 10 });
  assert.deepEqual(lookup('something-else'), prices.default);
  assert.equal(requestCost({ input: 2.5, output: 10 }, 1_000_000, 100_000), 3.5);
});

test('invalid rules: one GW_ERR_RULE_INVALID naming the file, the rule id and the field of every problem', () => {
  withDir(
    {
      'a.yaml': 'id: request-rate-spike\nminVolume: -1\nparams: { zScroe: 3 }\n',
      'b.yaml': 'id: no-such-detector\nminVolume: 1\n',
      'c.yaml': 'id: many-ips\nseverity: urgent\n',
    },
    (dir) => {
      try {
        loadAnomalyRules(parseAnomalyConfig({}), [dir]);
        assert.fail('should throw');
      } catch (e) {
        assert.ok(isGatewatchError(e));
        assert.equal(e.code, 'GW_ERR_RULE_INVALID');
        const p = e.problems.join('\n');
        assert.match(p, new RegExp(`${join(dir, 'a.yaml')}: rule request-rate-spike: /minVolume: must be >= 0`));
        assert.match(p, /a\.yaml: rule request-rate-spike: \/params: must NOT have additional properties "zScroe"/);
        assert.match(p, /b\.yaml: rule no-such-detector: \/id: no anomaly detector has this id/);
        assert.match(p, /c\.yaml: rule many-ips: \/severity: must be equal to one of the allowed values/);
      }
    },
  );
});

test('a config override missing a param a detector needs names file, id and field', () => {
  withDir({ 'x.yaml': 'id: many-ips\nparams: { windowMinutes: 5 }\n' }, (dir) => {
    // Params merge, so removing one is impossible through an override; a bad type is caught instead.
    assert.doesNotThrow(() => loadAnomalyRules(parseAnomalyConfig({}), [dir]));
  });
  assert.throws(
    () => loadAnomalyRules(parseAnomalyConfig({ overrides: { 'many-ips': { params: { windowMinutes: 'five' } } } })),
    (e: unknown) => isGatewatchError(e) && /config anomaly\.overrides\.many-ips: rule many-ips: \/params\/windowMinutes: must be number/.test(e.message),
  );
});

test('anomaly config: defaults, and errors that name the field', () => {
  const c = parseAnomalyConfig({});
  assert.deepEqual({ ...c }, { enabled: true, extraRuleDirs: [], overrides: {}, prices: {} });
  assert.throws(
    () => parseAnomalyConfig({ enabeld: true }),
    (e: unknown) => isGatewatchError(e) && e.code === 'GW_ERR_CONFIG_INVALID' && /anomaly\/: must NOT have additional properties/.test(e.message),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewatchError } from '../../src/errors.js';
import { DEFAULT_EXFILTRATION_CONFIG, parseExfiltrationConfig } from '../../src/detect/exfiltration/config.js';
import { createExfiltrationDetectors } from '../../src/detect/exfiltration/index.js';
import { fingerprint } from './helpers.js';

test('config: every field has a default and the result is frozen', () => {
  const c = DEFAULT_EXFILTRATION_CONFIG;
  assert.equal(c.enabled, true);
  assert.equal(c.echo.shingleWords, 5);
  assert.equal(c.bulk.cards, 3);
  assert.deepEqual(c.canaries, []);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.echo));
});

test('config: partial sections keep the other defaults', () => {
  const c = parseExfiltrationConfig({ echo: { minShare: 0.5 }, allowlistHosts: ['example.com'] });
  assert.equal(c.echo.minShare, 0.5);
  assert.equal(c.echo.minRunWords, 30);
  assert.deepEqual(c.allowlistHosts, ['example.com']);
});

test('config: unknown fields and wrong types are errors with their path', () => {
  try {
    parseExfiltrationConfig({ echo: { minShare: 2 }, bogus: 1 });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isGatewatchError(e));
    assert.equal(e.code, 'GW_ERR_CONFIG_INVALID');
    assert.ok(e.problems.some((p) => p.includes('exfiltration: must NOT have additional properties')));
    assert.ok(e.problems.some((p) => p.includes('exfiltration/echo/minShare: must be <= 1')));
  }
});

test('config: disabled means no detectors; each part can be switched off', () => {
  assert.deepEqual(createExfiltrationDetectors({ config: parseExfiltrationConfig({ enabled: false }), fingerprint }), []);
  const ids = createExfiltrationDetectors({ config: parseExfiltrationConfig({ echo: { enabled: false }, bulk: { enabled: false } }), fingerprint }).map((d) => d.id);
  assert.deepEqual(ids, ['exfiltration.extraction', 'exfiltration.channel']);
});

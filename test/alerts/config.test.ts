import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAlertsConfig, parseAlertsConfig } from '../../src/alerts/config.js';
import { isGatewatchError } from '../../src/errors.js';

describe('alerts config', () => {
  it('fills every default from the schema and freezes the result', () => {
    const c = defaultAlertsConfig();
    assert.equal(c.dedupWindowMs, 3_600_000);
    assert.equal(c.groupWindowMs, 60_000);
    assert.equal(c.resolveAfterMs, 300_000);
    assert.deepEqual(c.inhibition, { windowMs: 3_600_000, source: ['credential.*'], target: ['anomaly.*'] });
    assert.equal(c.redisUrl, null);
    assert.equal(c.sinks.slack.url, null);
    assert.equal(c.sinks.slack.minSeverity, 'medium');
    assert.equal(c.sinks.webhook.secret, null);
    assert.equal(c.sinks.stream.ringSize, 500);
    assert.equal(c.sinks.stdout.enabled, true);
    assert.ok(Object.isFrozen(c.sinks.slack));
  });

  it('names every bad field', () => {
    try {
      parseAlertsConfig({ groupWindowMs: 'soon', sinks: { slack: { minSeverity: 'urgent', routes: [{ name: 'x' }] }, bogus: {} }, silences: [{ until: 'tomorrow', detector: 'a' }] });
      assert.fail('should throw');
    } catch (e) {
      assert.ok(isGatewatchError(e));
      assert.equal(e.code, 'GW_ERR_CONFIG_INVALID');
      const text = e.problems.join('\n');
      assert.match(text, /alerts\/groupWindowMs: must be integer/);
      assert.match(text, /alerts\/sinks\/slack\/minSeverity/);
      assert.match(text, /alerts\/sinks\/slack\/routes\/0: must have required property 'url'/);
      assert.match(text, /alerts\/sinks: must NOT have additional properties/);
    }
  });

  it('checks silence expiry dates', () => {
    assert.throws(() => parseAlertsConfig({ silences: [{ detector: 'a', until: 'tomorrow' }] }), /silences\/0\/until/);
  });
});

describe('alerts config: silences', () => {
  it('refuses a silence that names nothing', () => {
    assert.throws(() => parseAlertsConfig({ silences: [{ comment: 'all?' }] }), /alerts\/silences\/0: must have required property 'detector'/);
  });
});

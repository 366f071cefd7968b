import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { GatewatchError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../../src/paths.js';

const dir = join(PROJECT_ROOT, 'test', 'fixtures', 'config');

for (const name of readdirSync(join(dir, 'valid'))) {
  test(`valid config ${name} loads and is frozen`, () => {
    const config = loadConfig({ file: join(dir, 'valid', name), env: {} });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.proxy));
    assert.equal(typeof config.capture.maxRequestBytes, 'number');
  });
}

for (const name of readdirSync(join(dir, 'invalid'))) {
  test(`invalid config ${name} names the file, the field and the fix`, () => {
    const file = join(dir, 'invalid', name);
    const text = readFileSync(file, 'utf8');
    const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => `${file}: ${m[1]}`);
    const expectedMessage = /^# expect-message: (.*)$/m.exec(text)?.[1];
    assert.throws(
      () => loadConfig({ file, env: {} }),
      (e: unknown) => {
        assert.ok(e instanceof GatewatchError);
        assert.equal(e.code, 'GW_ERR_CONFIG_INVALID');
        if (expected.length > 0) assert.deepEqual([...e.problems].sort(), expected.sort());
        if (expectedMessage) assert.ok(e.message.includes(expectedMessage), e.message);
        assert.ok(e.message.includes(file));
        return true;
      },
    );
  });
}

test('a missing file is a clear read error', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/gatewatch.yaml', env: {} }), (e: unknown) => e instanceof GatewatchError && e.code === 'GW_ERR_CONFIG_READ' && e.message.includes('/nonexistent/gatewatch.yaml'));
});

test('flags override environment, which overrides the file; defaults fill the rest', () => {
  const file = join(dir, 'valid', 'minimal.yaml');
  const env = { GATEWATCH_UPSTREAM: 'http://127.0.0.1:5000', GATEWATCH_LISTEN: '127.0.0.1:9000', GATEWATCH_REDIS_URL: 'redis://127.0.0.1:6390', GATEWATCH_SLACK_WEBHOOK_URL: 'http://127.0.0.1:1/hook' };
  const config = loadConfig({ file, env, flags: { listen: '127.0.0.1:9100' } });
  assert.equal(config.upstream, 'http://127.0.0.1:5000');
  assert.equal(config.listen, '127.0.0.1:9100');
  assert.equal(config.admin, '127.0.0.1:9464');
  assert.equal(config.state.redisUrl, 'redis://127.0.0.1:6390');
  assert.equal(config.alerts.redisUrl, 'redis://127.0.0.1:6390');
  assert.equal(config.capture.maxRequestBytes, 1048576);
});

test('an upstream URL with credentials in it is refused', () => {
  assert.throws(() => loadConfig({ env: { GATEWATCH_UPSTREAM: 'http://user:pass@127.0.0.1:4000' } }), /must not carry credentials/);
});

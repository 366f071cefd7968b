import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { test } from 'node:test';
import { networkOf, userAgentFamily } from '../../src/detect/anomaly/net.js';
import { parseIPv4 } from '../../src/net/cidr.js';
import { mulberry32 } from '../../src/random.js';

test('networkOf: /24 for IPv4, /64 for IPv6, mapped IPv4 unwrapped', () => {
  assert.equal(networkOf('203.0.113.77', 24, 64), '203.0.113.0/24');
  assert.equal(networkOf('::ffff:203.0.113.77', 24, 64), '203.0.113.0/24');
  assert.equal(networkOf('10.1.2.3', 16, 64), '10.1.0.0/16');
  assert.equal(networkOf('2001:db8:1:2:3:4:5:6', 24, 64), '2001:db8:1:2:0:0:0:0/64');
  assert.equal(networkOf('2001:db8::1', 24, 48), '2001:db8:0:0:0:0:0:0/48');
  assert.equal(networkOf('::1', 24, 64), '0:0:0:0:0:0:0:0/64');
  assert.equal(networkOf('not-an-ip', 24, 64), 'not-an-ip');
});

test('userAgentFamily: versions dropped, browsers grouped', () => {
  assert.equal(userAgentFamily('curl/8.5.0'), 'curl');
  assert.equal(userAgentFamily('OpenAI/Python 1.40.0'), 'openai/python');
  assert.equal(userAgentFamily('OpenAI/Python 1.52.1'), 'openai/python');
  assert.equal(userAgentFamily('python-requests/2.31.0'), 'python-requests');
  assert.equal(userAgentFamily('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120'), 'browser');
  assert.equal(userAgentFamily('litellm/1.50.1'), 'litellm');
  assert.equal(userAgentFamily(''), '(none)');
  assert.equal(userAgentFamily(undefined), '(none)');
});

test('parseIPv4 accepts exactly what isIPv4 accepts, and reads the address right', () => {
  const crafted = ['0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3.04', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '', '1.2.3.4 ', '1.2.3.-4', '1000.1.1.1', '10.0.0.1'];
  const chars = '0123456789..';
  const random = mulberry32(7);
  const fuzzed = Array.from({ length: 20_000 }, () => Array.from({ length: 1 + Math.floor(random() * 15) }, () => chars[Math.floor(random() * chars.length)]).join(''));
  for (const s of [...crafted, ...fuzzed]) {
    const n = parseIPv4(s);
    assert.equal(n >= 0, isIPv4(s), s);
    if (n >= 0) assert.equal([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), s);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFingerprinter } from '../../src/fingerprint.js';
import { createIdentityResolver, findCredential } from '../../src/identity.js';
import { cidrContains, networkOf, parseCidr } from '../../src/net/cidr.js';

const fingerprint = createFingerprinter('test-key');
const resolver = createIdentityResolver({
  fingerprint,
  trustedProxies: ['10.0.0.0/8', '::1/128'],
  userHeaders: ['x-litellm-user'],
  teamHeaders: ['x-team-id'],
});

test('credentials are found in every place a client may put them', () => {
  assert.deepEqual(findCredential({ authorization: 'Bearer sk-abc' }, ''), { key: 'sk-abc', source: 'authorization' });
  assert.deepEqual(findCredential({ 'x-api-key': 'sk-ant-x' }, ''), { key: 'sk-ant-x', source: 'x-api-key' });
  assert.deepEqual(findCredential({ 'api-key': 'azure123' }, ''), { key: 'azure123', source: 'api-key' });
  assert.deepEqual(findCredential({ 'x-goog-api-key': 'AIzaXYZ' }, ''), { key: 'AIzaXYZ', source: 'x-goog-api-key' });
  assert.deepEqual(findCredential({}, 'alt=sse&key=AIzaQ'), { key: 'AIzaQ', source: 'query' });
  assert.equal(findCredential({ authorization: 'Basic dXNlcjpwYXNz' }, ''), undefined);
  assert.equal(findCredential({}, ''), undefined);
});

test('the identity carries a fingerprint, never the key', () => {
  const key = 'sk-proj-' + 'A1b2C3d4'.repeat(6);
  const id = resolver.resolve({ authorization: `Bearer ${key}`, 'x-litellm-user': 'alice', 'x-team-id': 'ml', 'user-agent': 'openai-python/1.40' }, '', '10.1.2.3');
  assert.equal(id.keyFingerprint, fingerprint(key));
  assert.match(id.keyFingerprint!, /^fp:[0-9a-f]{16}$/);
  assert.equal(id.keyLength, key.length);
  assert.equal(id.keySource, 'authorization');
  assert.equal(id.user, 'alice');
  assert.equal(id.team, 'ml');
  assert.equal(id.userAgent, 'openai-python/1.40');
  assert.ok(!JSON.stringify(id).includes(key.slice(8)), 'no part of the key body in the identity');
});

test('X-Forwarded-For is believed only from trusted proxies', () => {
  assert.equal(resolver.resolve({ 'x-forwarded-for': '198.51.100.9' }, '', '203.0.113.1').clientIp, '203.0.113.1');
  assert.equal(resolver.resolve({ 'x-forwarded-for': '198.51.100.9' }, '', '10.0.0.5').clientIp, '198.51.100.9');
  assert.equal(resolver.resolve({ 'x-forwarded-for': '1.1.1.1, 198.51.100.9, 10.0.0.7' }, '', '::ffff:10.0.0.5').clientIp, '198.51.100.9');
  assert.equal(resolver.resolve({ 'x-forwarded-for': '2001:db8::1' }, '', '::1').clientIp, '2001:db8::1');
});

test('CIDR parsing, matching and /24 · /64 networks', () => {
  assert.ok(cidrContains(parseCidr('10.0.0.0/8')!, '10.200.3.4'));
  assert.ok(!cidrContains(parseCidr('10.0.0.0/8')!, '11.0.0.1'));
  assert.ok(cidrContains(parseCidr('fd00::/8')!, 'fd12:3456::1'));
  assert.ok(!cidrContains(parseCidr('fd00::/8')!, '10.0.0.1'));
  assert.ok(cidrContains(parseCidr('192.168.1.7')!, '192.168.1.7'));
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('nonsense'), undefined);
  assert.equal(networkOf('203.0.113.77'), '203.0.113.0/24');
  assert.equal(networkOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFingerprinter } from '../../src/fingerprint.js';
import { createIdentityResolver, findCredential } from '../../src/identity.js';
import { anyCidrContains, ipToBytes, networkOf, parseCidr } from '../../src/net/cidr.js';

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
  assert.ok(anyCidrContains([parseCidr('10.0.0.0/8')!], '10.200.3.4'));
  assert.ok(!anyCidrContains([parseCidr('10.0.0.0/8')!], '11.0.0.1'));
  assert.ok(anyCidrContains([parseCidr('fd00::/8')!], 'fd12:3456::1'));
  assert.ok(!anyCidrContains([parseCidr('fd00::/8')!], '10.0.0.1'));
  assert.ok(anyCidrContains([parseCidr('192.168.1.7')!], '192.168.1.7'));
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('nonsense'), undefined);
  assert.equal(networkOf('203.0.113.77'), '203.0.113.0/24');
  assert.equal(networkOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
});

test('an address is read as bytes exactly when node:net reads it as an address, IPv4-mapped forms unwrapped', () => {
  const cases: Array<[string, number[] | undefined]> = [
    ['127.0.0.1', [127, 0, 0, 1]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['::ffff:10.0.0.5', [10, 0, 0, 5]],
    ['::FFFF:192.0.2.1', [192, 0, 2, 1]],
    ['01.2.3.4', undefined],
    ['256.1.1.1', undefined],
    ['1.2.3', undefined],
    ['1.2.3.4.5', undefined],
    ['1..2.3', undefined],
    ['::ffff:999.1.1.1', undefined],
    [' 1.2.3.4', undefined],
    ['', undefined],
  ];
  for (const [ip, bytes] of cases) assert.deepEqual(ipToBytes(ip) && [...ipToBytes(ip)!], bytes, ip);
  assert.deepEqual([...ipToBytes('::1')!], [...new Array<number>(15).fill(0), 1]);
  const trusted = ['10.0.0.0/8', '::1/128'].map((c) => parseCidr(c)!);
  assert.ok(anyCidrContains(trusted, '::ffff:10.9.9.9'));
  assert.ok(anyCidrContains(trusted, '::1'));
  assert.ok(!anyCidrContains(trusted, '11.0.0.1'));
  assert.ok(!anyCidrContains(trusted, 'not an address'));
  assert.ok(!anyCidrContains([], '10.0.0.1'));
});

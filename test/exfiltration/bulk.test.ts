import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ibanValid, luhnValid, countPii, verhoeffValid } from '../../src/detect/exfiltration/pii.js';
import { countTestSecrets, detectorsFor, promptExchange, run } from './helpers.js';

const bulk = (raw: unknown = {}) => detectorsFor(raw, countTestSecrets).filter((d) => d.id === 'exfiltration.bulk-data');

test('pii: checksums', () => {
  assert.ok(luhnValid('4111111111111111'));
  assert.ok(!luhnValid('4111111111111112'));
  assert.ok(ibanValid('GB82 WEST 1234 5698 7654 32'));
  assert.ok(ibanValid('DE89370400440532013000'));
  assert.ok(!ibanValid('GB82 WEST 1234 5698 7654 33'));
  assert.ok(verhoeffValid('234123412346'));
  assert.ok(!verhoeffValid('234123412347'));
});

test('pii: counts each kind and ignores look-alikes', () => {
  const text = [
    'mail a@example.com and b.c@example.org',
    'call +1 415 555 0100 or (212) 555-0199',
    'cards 4111 1111 1111 1111, 5500-0000-0000-0004, not 4111 1111 1111 1112',
    'iban GB82 WEST 1234 5698 7654 32, not GB82 WEST 1234 5698 7654 33',
    'ssn 123-45-6789, not 000-12-3456; nino QQ123456C is invalid, AB123456C is valid',
    'aadhaar 2341 2341 2346',
    'order #2024-11-23, version 1.2.3, port 8080',
  ].join('\n');
  assert.deepEqual(countPii(text), { emails: 2, phones: 2, cards: 2, ibans: 1, nationalIds: 3 });
});

test('bulk: below the threshold nothing, at the threshold a finding with counts only', async () => {
  const emails = (n: number) => Array.from({ length: n }, (_, i) => `user${i}@corp.example`).join(', ');
  assert.deepEqual(await run(bulk({ bulk: { emails: 5 } }), promptExchange(`Send to ${emails(4)}`)), []);
  const f = await run(bulk({ bulk: { emails: 5 } }), promptExchange(`Send to ${emails(5)}`));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.detector, 'exfiltration.bulk-data');
  assert.equal(f[0]!.severity, 'medium');
  assert.match(f[0]!.summary!, /^5 e-mail addresses in one request \(over threshold: emails\)$/);
  assert.ok(!JSON.stringify(f).includes('corp.example'));
});

test('bulk: cards and credentials are high; counts add up across parts', async () => {
  const cards = '4111111111111111 5500000000000004 4012888888881881';
  assert.equal((await run(bulk(), promptExchange(cards)))[0]!.severity, 'high');
  const secrets = Array.from({ length: 3 }, (_, i) => `sk-test-${'k'.repeat(20)}${i}`).join(' ');
  const f = await run(bulk(), promptExchange(secrets, 'tool'));
  assert.match(f[0]!.summary!, /3 credentials/);
  assert.ok(!JSON.stringify(f).includes('sk-test-'));
});

test('bulk: the total threshold catches a mix', async () => {
  const mix = 'a@x.example b@x.example +44 20 7946 0958 123-45-6789';
  const f = await run(bulk({ bulk: { total: 4 } }), promptExchange(mix));
  assert.match(f[0]!.summary!, /over threshold: total/);
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startsAtKeyword, leadingLiterals } from '../../src/detect/engine/anchor.js';
import { base62, crc32, validCrc32Base62Token, validJwt } from '../../src/detect/engine/checksums.js';
import { shannonEntropy } from '../../src/detect/engine/entropy.js';
import { regexSafetyProblem } from '../../src/detect/engine/regex-safety.js';
import { loadCredentialRules } from '../../src/detect/engine/rules-load.js';
import { SecretScanner } from '../../src/detect/engine/scanner.js';
import { StreamScanner } from '../../src/detect/engine/stream-scanner.js';
import { FORMATS, mulberry32, sample } from '../corpus/credentials/formats.js';

const pack = loadCredentialRules();
const scanner = new SecretScanner(pack);
const ids = (text: string) => scanner.scan(text).map((m) => m.rule.id);

describe('entropy', () => {
  test('edge cases', () => {
    assert.equal(shannonEntropy(''), 0);
    assert.equal(shannonEntropy('aaaaaaaa'), 0);
    assert.equal(shannonEntropy('ab'), 1);
    assert.equal(shannonEntropy('abcd'), 2);
    assert.ok(Math.abs(shannonEntropy('0123456789abcdef') - 4) < 1e-12);
    assert.equal(shannonEntropy('ééüü'), 1, 'non-ASCII characters count as symbols too');
  });

  test('a random key passes the gate that a word or a repeated pattern fails', () => {
    const rng = mulberry32(7);
    const key = sample('openai-legacy-key', rng).slice(3);
    assert.ok(shannonEntropy(key) > 4.5);
    assert.ok(shannonEntropy('passwordpasswordpassword') < 3);
    assert.ok(shannonEntropy('abababababababababababababababab') === 1);
  });

  test('a low-entropy body is not reported even when the shape matches', () => {
    assert.deepEqual(ids('tvly-abababababababababababababab12'), []);
    assert.deepEqual(ids('gsk_' + 'abcd'.repeat(13)), []);
  });
});

describe('checksums', () => {
  test('CRC-32 matches the standard check value', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
    assert.equal(crc32(''), 0);
  });

  test('base62 encoding pads to width', () => {
    assert.equal(base62(0, 6), '000000');
    assert.equal(base62(61, 2), '0z');
    assert.equal(base62(62, 1), '10');
  });

  test('GitHub-format tokens: a valid checksum verifies, any changed character breaks it', () => {
    const rng = mulberry32(11);
    const token = sample('github-pat-classic', rng);
    assert.ok(validCrc32Base62Token(token));
    for (let i = 4; i < token.length; i++) {
      const c = token[i] === 'a' ? 'b' : 'a';
      assert.equal(validCrc32Base62Token(token.slice(0, i) + c + token.slice(i + 1)), false, `changed at ${i}`);
    }
    assert.equal(validCrc32Base62Token('ghp_short'), false);
  });

  test('a GitHub token with a valid checksum keeps its severity; a mismatch is reported one level lower', () => {
    const rng = mulberry32(12);
    const token = sample('github-pat-classic', rng);
    const [valid] = scanner.scan(`token ${token} here`);
    assert.equal(valid!.checksum, 'valid');
    assert.equal(valid!.severity, 'high');
    const broken = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const [invalid] = scanner.scan(`token ${broken} here`);
    assert.equal(invalid!.checksum, 'invalid');
    assert.equal(invalid!.severity, 'medium');
  });

  test('JWT structure: the header must decode to JSON naming an algorithm', () => {
    const rng = mulberry32(13);
    const jwt = sample('jwt', rng);
    assert.ok(validJwt(jwt));
    assert.deepEqual(ids(`Authorization-ish: ${jwt}`), ['jwt']);
    const fake = 'eyJub3RhIjoiand0In0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
    assert.equal(validJwt(fake), false);
    assert.deepEqual(ids(fake), []);
  });
});

describe('placeholders and allowlists', () => {
  const cases: [string, string][] = [
    ['AWS documentation key', 'AKIAIOSFODNN7EXAMPLE'],
    ['x-filled OpenAI key', 'sk-proj-' + 'x'.repeat(60)],
    ['ellipsis', 'OPENAI_API_KEY=sk-...xxxx'],
    ['your-api-key', 'api_key = "your-api-key-goes-right-here"'],
    ['angle brackets', 'api_key = "<YOUR_ANTHROPIC_API_KEY>"'],
    ['template variable', 'password: "${DB_PASSWORD}"'],
    ['repeated characters', 'ghp_000000000000000000000000000000000000'],
    ['sequential digits', 'api_key: "1234567890abcdefghij1234567890"'],
    ['asterisks', 'password = "**************"'],
    ['database URL with a placeholder password', 'postgres://user:password@localhost:5432/app'],
    ['environment lookup', 'secret = os.environ["CLIENT_SECRET_VALUE"]'],
    ['identifier, not a value', 'const token = getAccessTokenFromRefreshHandler();'],
    ['UUID as a generic key', 'api_key: 3f1c6a2e-8b4d-4f7a-9c2e-1d5b7a9e3c4f'],
  ];
  for (const [name, text] of cases) test(`${name} is not a finding`, () => assert.deepEqual(ids(text), []));

  test('the same shapes with real-looking bodies are findings', () => {
    const rng = mulberry32(21);
    assert.deepEqual(ids(`my key ${sample('aws-access-key-id', rng)}`), ['aws-access-key-id']);
    assert.deepEqual(ids(`postgres://app:${'Zq8Xw2Lp9Kd4Rt6Y'}@db:5432/app`), ['postgres-url']);
    assert.deepEqual(ids('api_key = "q8XwZ2Lp9Kd4Rt6Yb1NmVc3Jh5Gf7Ds0"'), ['generic-api-key']);
  });
});

describe('overlaps', () => {
  test('the most specific rule wins where matches overlap', () => {
    const rng = mulberry32(31);
    const key = sample('openai-project-key', rng);
    assert.deepEqual(ids(`OPENAI_API_KEY="${key}"`), ['openai-project-key']);
    const ant = sample('anthropic-api-key', rng);
    assert.deepEqual(ids(`Authorization: Bearer ${ant}`), ['anthropic-api-key']);
  });

  test('offsets point at the secret, not the keyword context', () => {
    const text = 'config: mistral_api_key = "Q8XwZ2Lp9Kd4Rt6Yb1NmVc3Jh5Gf7Ds0"';
    const [m] = scanner.scan(text);
    assert.equal(m!.rule.id, 'mistral-api-key');
    assert.equal(text.slice(m!.start, m!.end), 'Q8XwZ2Lp9Kd4Rt6Yb1NmVc3Jh5Gf7Ds0');
  });
});

describe('regex safety', () => {
  const unsafe = ['(a+)+b', '(a|aa)*b', '(?:\\w+\\s?)*$', '(x*)*y', '(?:[a-z]+-?)+z', '(a)\\1'];
  for (const p of unsafe) test(`rejects ${p}`, () => assert.ok(regexSafetyProblem(p)));
  const safe = ['ghp_[A-Za-z0-9]{36}', '(?:[A-Z0-9]{4}-){3}[A-Z0-9]{4}', 'sk-(?:proj-)?[A-Za-z0-9_-]{20,200}', '(?<![A-Za-z0-9])AKIA[A-Z2-7]{16}'];
  for (const p of safe) test(`accepts ${p}`, () => assert.equal(regexSafetyProblem(p), undefined));
  test('an invalid expression is reported, not thrown', () => assert.match(regexSafetyProblem('[a-')!, /not a valid regular expression/));
});

describe('anchoring', () => {
  test('literal starts are read through lookbehinds and alternations', () => {
    assert.deepEqual(leadingLiterals('(?<![A-Za-z0-9_-])ghp_[A-Za-z0-9]{36}'), ['ghp_']);
    assert.deepEqual(leadingLiterals('(?:secret|token)(?:[_-]?key)?\\s*='), ['secret', 'token']);
    assert.deepEqual(leadingLiterals('(?:1|2)/\\d+'), ['1/', '2/']);
    assert.deepEqual(leadingLiterals('sk\\.eyJ1'), ['sk.eyJ1']);
    assert.equal(leadingLiterals('[a-z]+://'), undefined);
    assert.equal(leadingLiterals('(?:abc)?def'), undefined);
  });

  test('a rule is anchored only when every match starts with one of its keywords', () => {
    assert.ok(startsAtKeyword('(?<!x)sk-ant-api\\d{2}-', ['sk-ant-api']));
    assert.equal(startsAtKeyword('sk-[a-z]+', ['sk-ant-']), false);
    assert.equal(startsAtKeyword('xoxb-1', ['-1']), false);
  });

  test('most of the pack runs anchored', () => {
    const anchored = pack.rules.filter((r) => r.sticky).length;
    assert.ok(anchored / pack.rules.length > 0.85, `${anchored}/${pack.rules.length}`);
  });
});

describe('streams: a secret split across two chunks at every boundary is found once', () => {
  const rng = mulberry32(41);
  for (const rule of Object.keys(FORMATS)) {
    test(rule, () => {
      const secret = sample(rule, rng);
      const text = `prefix text ${secret} suffix text`;
      const whole = scanner.scan(text).map((m) => `${m.rule.id}@${m.start}-${m.end}`);
      assert.ok(whole.length > 0, 'found unsplit');
      const from = text.indexOf(secret);
      for (let cut = from; cut <= from + secret.length; cut++) {
        const stream = new StreamScanner(scanner);
        const found = [...stream.push(text.slice(0, cut)), ...stream.push(text.slice(cut)), ...stream.end()];
        assert.deepEqual(found.map((m) => `${m.rule.id}@${m.start}-${m.end}`), whole, `cut at ${cut - from}`);
      }
    });
  }
});

test('the stream scanner keeps bounded state and reports matches in later chunks with stream offsets', () => {
  const stream = new StreamScanner(scanner, 512);
  const filler = 'lorem ipsum dolor sit amet '.repeat(200);
  assert.deepEqual(stream.push(filler), []);
  const key = sample('groq-api-key', mulberry32(43));
  const found = [...stream.push(` here: ${key} `), ...stream.end()];
  assert.equal(found.length, 1);
  assert.equal(found[0]!.start, filler.length + 7);
  assert.equal(found[0]!.end - found[0]!.start, key.length);
});

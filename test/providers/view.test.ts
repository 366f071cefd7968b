import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_PARTS } from '../../src/providers/builder.js';
import { type RawExchange, viewExchange, viewWsMessage } from '../../src/providers/view.js';
import { readdirSync } from 'node:fs';
import { FIXTURES_DIR, assertNoInlineData, loadFixture, partAt } from './fixtures.js';

function raw(fields: Partial<RawExchange>): RawExchange {
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    query: '',
    requestHeaders: {},
    responseHeaders: {},
    status: 200,
    requestBody: Buffer.alloc(0),
    responseBody: Buffer.alloc(0),
    ...fields,
  };
}

describe('viewExchange degrades gracefully', () => {
  it('a truncated request body becomes one raw text part so its secrets are still scanned', () => {
    const full = loadFixture('openai-chat');
    const cut = full.requestBody.subarray(0, 300);
    const v = viewExchange({ ...full, requestBody: cut });
    assert.deepEqual(v.prompt, [{ path: 'request.body', role: 'unknown', text: cut.toString('utf8') }]);
    assert.equal(v.operation, 'chat');
    assert.equal(v.completion[0]?.path, 'response.body.choices[0].message.content');
  });

  it('a truncated JSON response becomes one raw completion part', () => {
    const full = loadFixture('anthropic-messages');
    const cut = full.responseBody.subarray(0, 120);
    const v = viewExchange({ ...full, responseBody: cut });
    assert.deepEqual(v.completion, [{ path: 'response.body', role: 'unknown', text: cut.toString('utf8') }]);
    assert.ok(v.prompt.length > 3, 'the request is still read normally');
  });

  it('a truncated SSE stream keeps the complete events', () => {
    const full = loadFixture('openai-chat-stream');
    const text = full.responseBody.toString('utf8');
    const cut = Buffer.from(text.slice(0, text.indexOf('in Paris') + 5));
    const v = viewExchange({ ...full, responseBody: cut });
    assert.equal(partAt(v.completion, 'response.stream.choices[0].delta.content').text, 'Checking the weather ');
  });

  it('an error response on a known route is read string by string', () => {
    const v = viewExchange(
      raw({
        status: 401,
        requestBody: Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'),
        responseBody: Buffer.from('{"error":{"message":"Incorrect API key provided: sk-proj-****abcd","type":"invalid_request_error","code":"invalid_api_key"}}'),
      }),
    );
    assert.match(partAt(v.completion, 'response.body.error.message').text, /Incorrect API key/);
  });

  it('an unknown route is walked generically, including keys that are not identifiers', () => {
    const v = viewExchange(raw({ path: '/internal/thing', requestBody: Buffer.from('{"a":{"x-api-key":"k1","list":["s1",2,null]}}') }));
    assert.equal(v.provider, 'unknown');
    assert.equal(v.operation, 'other');
    assert.deepEqual(
      v.prompt.map((p) => [p.path, p.text]),
      [
        ['request.body.a["x-api-key"]', 'k1'],
        ['request.body.a.list[0]', 's1'],
      ],
    );
  });

  it('a known route whose body has an unexpected shape is still walked', () => {
    const v = viewExchange(raw({ requestBody: Buffer.from('{"prompt_text":"sk-live-in-odd-field"}') }));
    assert.deepEqual(v.prompt, [{ path: 'request.body.prompt_text', role: 'unknown', text: 'sk-live-in-odd-field' }]);
  });

  it('caps the number of parts', () => {
    const messages = Array.from({ length: MAX_PARTS + 500 }, (_, i) => ({ role: 'user', content: `m${i}` }));
    const v = viewExchange(raw({ requestBody: Buffer.from(JSON.stringify({ model: 'm', messages })) }));
    assert.equal(v.prompt.length, MAX_PARTS);
  });

  it('survives pathological nesting', () => {
    const deep = Buffer.from('['.repeat(200_000) + ']'.repeat(200_000));
    const v = viewExchange(raw({ path: '/x', requestBody: deep, responseBody: deep }));
    assert.equal(v.operation, 'other');
    const nested = Buffer.from('{"a":'.repeat(5000) + '"deep"' + '}'.repeat(5000));
    assert.doesNotThrow(() => viewExchange(raw({ path: '/x', requestBody: nested })));
  });

  it('never throws on arbitrary bytes, paths and headers (property)', () => {
    const paths = fc.oneof(
      fc.constantFrom(
        '/v1/chat/completions', '/v1/responses', '/v1/completions', '/v1/embeddings', '/v1/messages', '/chat/completions',
        '/v1beta/models/gemini-pro:streamGenerateContent', '/model/x/invoke-with-response-stream', '/model/x/converse-stream',
        '/openai/deployments/%E0%A4%A/chat/completions', '/key/generate', '/v1/realtime/sessions',
      ),
      fc.string(),
    );
    const providers = fc.constantFrom(undefined, 'openai', 'anthropic', 'gemini', 'azure-openai', 'bedrock', 'litellm', 'unknown') as fc.Arbitrary<RawExchange['providerHint']>;
    const contentTypes = fc.constantFrom(undefined, 'application/json', 'text/event-stream', 'application/vnd.amazon.eventstream');
    const jsonish = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      fc.json().map((j) => Buffer.from(j)),
      fc.jsonValue().map((j) => Buffer.from('data: ' + JSON.stringify(j) + '\n\n')),
    );
    fc.assert(
      fc.property(paths, providers, contentTypes, jsonish, jsonish, (path, providerHint, ct, req, res) => {
        const v = viewExchange({
          ...raw({ path, requestBody: req, responseBody: res, responseHeaders: ct ? { 'content-type': ct } : {} }),
          ...(providerHint ? { providerHint } : {}),
        });
        for (const p of [...v.prompt, ...v.completion]) assert.equal(typeof p.text, 'string');
        for (const t of v.toolCalls) assert.equal(typeof t.arguments, 'string');
      }),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(fc.constantFrom('client', 'upstream') as fc.Arbitrary<'client' | 'upstream'>, fc.oneof(fc.string(), fc.json()), fc.nat(), (d, text, i) => {
        viewWsMessage(d, text, i);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on provider-shaped JSON with wrong types in every field (property)', () => {
    const anything = fc.anything({ maxDepth: 3 });
    const shaped = fc.record({
      model: anything, stream: anything, messages: fc.array(fc.record({ role: anything, content: anything, tool_calls: anything })),
      input: anything, instructions: anything, system: anything, contents: anything, choices: anything, content: anything,
      candidates: anything, output: anything, usage: anything, usageMetadata: anything, anthropic_version: anything,
    }, { requiredKeys: [] });
    const paths = fc.constantFrom('/v1/chat/completions', '/v1/responses', '/v1/messages', '/v1beta/models/g:generateContent', '/model/m/invoke', '/model/m/converse');
    fc.assert(
      fc.property(paths, shaped, shaped, (path, req, res) => {
        viewExchange(raw({ path, requestBody: Buffer.from(JSON.stringify(req)), responseBody: Buffer.from(JSON.stringify(res)) }));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('viewExchange cost', () => {
  it('is linear: a 4 MiB streamed answer is viewed in well under a second', () => {
    const chunk = (t: string): string => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}}}]}\n\n`;
    const piece = chunk('lorem ipsum dolor sit amet ');
    const count = Math.ceil((4 * 1024 * 1024) / piece.length);
    const body = Buffer.from(piece.repeat(count) + 'data: [DONE]\n\n');
    const start = process.hrtime.bigint();
    const v = viewExchange(raw({ responseHeaders: { 'content-type': 'text/event-stream' }, responseBody: body }));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.equal(v.completion[0]?.text.length, 'lorem ipsum dolor sit amet '.length * count);
    process.stdout.write(`# view of ${(body.length / 1048576).toFixed(1)} MiB SSE (${count} events): ${ms.toFixed(1)} ms\n`);
    assert.ok(ms < 1500, `took ${ms} ms`);
  });
});

describe('viewExchange on form and binary bodies', () => {
  it('reads text fields and text files of multipart bodies, skips binary files', () => {
    const boundary = '----gw7MA4YWxkTrZu0gW';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nNames: Dana, token sk-in-form\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n`),
      Buffer.from([0x49, 0x44, 0x33, 0x00, 0xff, 0xfb, 0x90, 0x00]),
      Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="training"; filename="train.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n{"messages":[]}\n\r\n`),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const v = viewExchange(
      raw({
        path: '/v1/audio/transcriptions',
        requestHeaders: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        requestBody: body,
      }),
    );
    assert.deepEqual(
      v.prompt.map((p) => [p.path, p.text]),
      [
        ['request.body.model', 'whisper-1'],
        ['request.body.prompt', 'Names: Dana, token sk-in-form'],
        ['request.body.training', '{"messages":[]}\n'],
      ],
    );
  });

  it('reads urlencoded forms field by field', () => {
    const v = viewExchange(raw({ path: '/x', requestHeaders: { 'content-type': 'application/x-www-form-urlencoded' }, requestBody: Buffer.from('a=1&secret=s%20k') }));
    assert.deepEqual(v.prompt.map((p) => [p.path, p.text]), [['request.body.a', '1'], ['request.body.secret', 's k']]);
  });

  it('does not turn binary responses (speech audio) into text parts', () => {
    const v = viewExchange(
      raw({
        path: '/v1/audio/speech',
        requestBody: Buffer.from('{"model":"tts-1","input":"Hello","voice":"alloy"}'),
        responseHeaders: { 'content-type': 'audio/mpeg' },
        responseBody: Buffer.from([0xff, 0xfb, 0x90, 0x00, 0x01, 0x02, 0x03, 0x04]),
      }),
    );
    assert.deepEqual(v.completion, []);
    assert.equal(partAt(v.prompt, 'request.body.input').text, 'Hello');
  });
});

describe('every fixture, whole and cut short', () => {
  for (const name of readdirSync(FIXTURES_DIR)) {
    it(`${name}: no inline binary in parts; any truncation still yields inspectable parts`, () => {
      const full = loadFixture(name);
      const v = viewExchange(full);
      assert.ok(v.prompt.length > 0 && v.completion.length + v.toolCalls.length > 0);
      assertNoInlineData([...v.prompt, ...v.completion]);
      for (const fraction of [0.05, 0.25, 0.5, 0.75, 0.95]) {
        const cut = viewExchange({
          ...full,
          requestBody: full.requestBody.subarray(0, Math.floor(full.requestBody.length * fraction)),
          responseBody: full.responseBody.subarray(0, Math.floor(full.responseBody.length * fraction)),
        });
        assert.ok(cut.prompt.length > 0, `request cut at ${fraction}`);
        // A stream cut before its first text still told us its usage; anything else must leave parts.
        const parsedSomething = cut.completion.length + cut.toolCalls.length > 0 || (cut.stream && cut.usage.promptTokens !== undefined);
        assert.ok(parsedSomething, `response cut at ${fraction}`);
      }
    });
  }
});

describe('an encoded path is classified like the path it stands for', () => {
  const plain = viewExchange(loadFixture('openai-chat'));

  for (const path of ['/v1/chat/completion%73', '/v1/%63hat/completions', '/v1/chat%2Fcompletions', '/v1/chat%2fcompletion%73']) {
    it(path, () => {
      const v = viewExchange(loadFixture('openai-chat', { path }));
      assert.equal(v.provider, 'openai');
      assert.equal(v.operation, 'chat');
      assert.deepEqual(v.prompt, plain.prompt);
      assert.deepEqual(v.completion, plain.completion);
    });
  }

  it('reserved characters other than the slash stay encoded: `chat%3Fcompletions` names no operation', () => {
    const v = viewExchange(loadFixture('openai-chat', { path: '/v1/chat%3Fcompletions' }));
    assert.equal(v.operation, 'other');
    assert.ok(v.prompt.length > 0, 'its body is still read');
  });

  it('an encoded slash inside a Bedrock model ARN stays part of the model', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0';
    const v = viewExchange(loadFixture('bedrock-converse', { path: `/model/${encodeURIComponent(arn)}/converse` }));
    assert.equal(v.provider, 'bedrock');
    assert.equal(v.operation, 'converse');
    assert.equal(v.model, arn);
    assert.ok(v.prompt.length > 0);
  });
});

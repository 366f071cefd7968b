import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeEventStreamMessage, parseEventStream } from '../../src/providers/event-stream.js';
import { viewExchange } from '../../src/providers/view.js';
import { assertNoInlineData, loadFixture, partAt } from './fixtures.js';

describe('AWS event-stream framing', () => {
  it('round-trips frames and stops at a truncated or corrupted one', () => {
    const a = encodeEventStreamMessage({ ':event-type': 'chunk', ':message-type': 'event' }, '{"a":1}');
    const b = encodeEventStreamMessage({ ':event-type': 'metadata' }, '{"b":2}');
    const whole = parseEventStream(Buffer.concat([a, b]));
    assert.equal(whole.messages.length, 2);
    assert.equal(whole.messages[0]?.headers[':event-type'], 'chunk');
    assert.equal(whole.messages[1]?.payload.toString(), '{"b":2}');
    assert.equal(whole.consumed, a.length + b.length);

    const truncated = parseEventStream(Buffer.concat([a, b.subarray(0, b.length - 3)]));
    assert.equal(truncated.messages.length, 1);
    assert.equal(truncated.consumed, a.length);

    const corrupt = Buffer.concat([a, b]);
    corrupt[a.length + 20] ^= 0xff; // inside b's headers: its message CRC no longer matches
    assert.equal(parseEventStream(corrupt).messages.length, 1);
  });
});

describe('Bedrock', () => {
  it('invoke: Anthropic-on-Bedrock bodies, model id from the (encoded) path', () => {
    const v = viewExchange(loadFixture('bedrock-invoke-anthropic'));
    assert.equal(v.provider, 'bedrock');
    assert.equal(v.operation, 'invoke');
    assert.equal(v.model, 'anthropic.claude-3-5-sonnet-20240620-v1:0');
    assert.equal(partAt(v.prompt, 'request.body.system').role, 'system');
    assert.equal(partAt(v.prompt, 'request.body.messages[0].content[0].text').role, 'user');
    assert.deepEqual(v.completion, [
      { path: 'response.body.content[0].text', role: 'assistant', text: 'Login fails after a password reset; likely a stale session.' },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 31, completionTokens: 17, totalTokens: 48 });
  });

  it('invoke-with-response-stream: base64 chunks inside event-stream frames, multi-byte text intact', () => {
    const v = viewExchange(loadFixture('bedrock-invoke-stream-anthropic'));
    assert.equal(v.stream, true);
    assert.deepEqual(v.completion, [{ path: 'response.stream.content[0].text', role: 'assistant', text: 'Stale session — ünïcödé ✓' }]);
    assert.deepEqual(v.usage, { promptTokens: 25, completionTokens: 9, totalTokens: 34 });
  });

  it('a cut-off event stream keeps the frames before the cut and inspects the rest as raw text', () => {
    const raw = loadFixture('bedrock-invoke-stream-anthropic');
    const cut = raw.responseBody.subarray(0, raw.responseBody.length - 40);
    const v = viewExchange({ ...raw, responseBody: cut });
    assert.equal(v.completion[0]?.text, 'Stale session — ünïcödé ✓');
    assert.equal(v.completion.at(-1)?.path, 'response.body');
  });

  it('converse: system, text, toolUse and toolResult blocks; images skipped', () => {
    const v = viewExchange(loadFixture('bedrock-converse'));
    assert.equal(v.operation, 'converse');
    assert.equal(v.model, 'us.amazon.nova-pro-v1:0');
    assert.equal(partAt(v.prompt, 'request.body.system[0].text').role, 'system');
    assert.equal(partAt(v.prompt, 'request.body.messages[0].content[0].text').role, 'user');
    assert.equal(partAt(v.prompt, 'request.body.messages[1].content[0].toolUse.input').text, '{"to":"LIS"}');
    assert.equal(partAt(v.prompt, 'request.body.messages[2].content[0].toolResult.content[0].json').role, 'tool');
    assert.equal(partAt(v.prompt, 'request.body.messages[2].content[0].toolResult.content[1].text').text, '1 flight found');
    assertNoInlineData(v.prompt);
    assert.deepEqual(v.completion, [
      { path: 'response.body.output.message.content[0].text', role: 'assistant', text: 'Booking TP123 for you.' },
    ]);
    assert.deepEqual(v.toolCalls, [
      { path: 'response.body.output.message.content[1].toolUse.input', id: 'tooluse_k2', name: 'book_flight', arguments: '{"flight":"TP123"}' },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 412, completionTokens: 38, totalTokens: 450 });
  });

  it('converse-stream: text and toolUse input deltas per content block, usage from metadata', () => {
    const v = viewExchange(loadFixture('bedrock-converse-stream'));
    assert.equal(v.stream, true);
    assert.deepEqual(v.completion, [{ path: 'response.stream.content[0].text', role: 'assistant', text: 'Searching flights now.' }]);
    assert.deepEqual(v.toolCalls, [
      { path: 'response.stream.content[1].toolUse.input', id: 'tooluse_s1', name: 'search_flights', arguments: '{"to":"LIS"}' },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 120, completionTokens: 30, totalTokens: 150 });
  });

  it('invoke: native bodies of other model families (Llama, Titan, Mistral)', () => {
    const base = loadFixture('bedrock-invoke-anthropic');
    const llama = viewExchange({
      ...base,
      path: '/model/meta.llama3-70b-instruct-v1:0/invoke',
      responseHeaders: { 'content-type': 'application/json' },
      requestBody: Buffer.from(JSON.stringify({ prompt: '<|begin_of_text|>Hi', max_gen_len: 64 })),
      responseBody: Buffer.from(JSON.stringify({ generation: 'Hello there', prompt_token_count: 5, generation_token_count: 3, stop_reason: 'stop' })),
    });
    assert.equal(partAt(llama.prompt, 'request.body.prompt').text, '<|begin_of_text|>Hi');
    assert.equal(partAt(llama.completion, 'response.body.generation').text, 'Hello there');
    assert.deepEqual(llama.usage, { promptTokens: 5, completionTokens: 3, totalTokens: 8 });
    const titan = viewExchange({
      ...base,
      path: '/model/amazon.titan-text-express-v1/invoke',
      responseHeaders: {},
      requestBody: Buffer.from(JSON.stringify({ inputText: 'Summarise X' })),
      responseBody: Buffer.from(JSON.stringify({ inputTextTokenCount: 4, results: [{ tokenCount: 2, outputText: 'X.', completionReason: 'FINISH' }] })),
    });
    assert.equal(partAt(titan.completion, 'response.body.results[0].outputText').text, 'X.');
    assert.deepEqual(titan.usage, { promptTokens: 4, completionTokens: 2, totalTokens: 6 });
    const mistralStream = Buffer.concat(
      ['Bon', 'jour'].map((t) =>
        encodeEventStreamMessage({ ':event-type': 'chunk' }, JSON.stringify({ bytes: Buffer.from(JSON.stringify({ outputs: [{ text: t }] })).toString('base64') })),
      ),
    );
    const mistral = viewExchange({
      ...base,
      path: '/model/mistral.mistral-large-2402-v1:0/invoke-with-response-stream',
      responseHeaders: { 'content-type': 'application/vnd.amazon.eventstream' },
      requestBody: Buffer.from(JSON.stringify({ prompt: '<s>[INST] Greet [/INST]' })),
      responseBody: mistralStream,
    });
    assert.deepEqual(mistral.completion, [{ path: 'response.stream.outputs[0].text', role: 'assistant', text: 'Bonjour' }]);
  });

  it('invoke: Amazon Nova bodies (converse-shaped) plain and streamed', () => {
    const base = loadFixture('bedrock-invoke-anthropic');
    const request = Buffer.from(
      JSON.stringify({ schemaVersion: 'messages-v1', system: [{ text: 'Be terse.' }], messages: [{ role: 'user', content: [{ text: 'Hi Nova' }] }] }),
    );
    const plain = viewExchange({
      ...base,
      path: '/model/amazon.nova-lite-v1:0/invoke',
      requestBody: request,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: Buffer.from(
        JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'Hello.' }] } }, stopReason: 'end_turn', usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 } }),
      ),
    });
    assert.equal(partAt(plain.prompt, 'request.body.system[0].text').role, 'system');
    assert.equal(partAt(plain.prompt, 'request.body.messages[0].content[0].text').text, 'Hi Nova');
    assert.equal(partAt(plain.completion, 'response.body.output.message.content[0].text').text, 'Hello.');
    assert.deepEqual(plain.usage, { promptTokens: 7, completionTokens: 2, totalTokens: 9 });
    const chunks = [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { delta: { text: 'Hel' }, contentBlockIndex: 0 } },
      { contentBlockDelta: { delta: { text: 'lo.' }, contentBlockIndex: 0 } },
      { metadata: { usage: { inputTokens: 7, outputTokens: 2 } } },
    ];
    const streamed = viewExchange({
      ...base,
      path: '/model/amazon.nova-lite-v1:0/invoke-with-response-stream',
      requestBody: request,
      responseHeaders: { 'content-type': 'application/vnd.amazon.eventstream' },
      responseBody: Buffer.concat(
        chunks.map((c) => encodeEventStreamMessage({ ':event-type': 'chunk' }, JSON.stringify({ bytes: Buffer.from(JSON.stringify(c)).toString('base64') }))),
      ),
    });
    assert.deepEqual(streamed.completion, [{ path: 'response.stream.content[0].text', role: 'assistant', text: 'Hello.' }]);
    assert.deepEqual(streamed.usage, { promptTokens: 7, completionTokens: 2, totalTokens: 9 });
  });

  it('exception frames are inspected as text', () => {
    const base = loadFixture('bedrock-converse-stream');
    const body = encodeEventStreamMessage(
      { ':message-type': 'exception', ':exception-type': 'throttlingException', ':content-type': 'application/json' },
      '{"message":"Too many requests, please wait before trying again."}',
    );
    const v = viewExchange({ ...base, responseBody: body });
    assert.equal(v.completion[0]?.path, 'response.stream.throttlingException');
    assert.match(v.completion[0]?.text ?? '', /Too many requests/);
  });
});

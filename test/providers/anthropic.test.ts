import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewExchange } from '../../src/providers/view.js';
import { assertNoInlineData, loadFixture, partAt } from './fixtures.js';

describe('Anthropic messages', () => {
  it('reads system blocks, text, tool_use, tool_result and skips base64 images', () => {
    const v = viewExchange(loadFixture('anthropic-messages'));
    assert.equal(v.provider, 'anthropic');
    assert.equal(v.operation, 'messages');
    assert.equal(v.model, 'claude-sonnet-4-20250514');
    assert.equal(partAt(v.prompt, 'request.body.system[0].text').role, 'system');
    assert.equal(partAt(v.prompt, 'request.body.messages[0].content[1].text').role, 'user');
    assert.equal(partAt(v.prompt, 'request.body.messages[1].content[0].text').role, 'assistant');
    assert.deepEqual(partAt(v.prompt, 'request.body.messages[1].content[1].input'), {
      path: 'request.body.messages[1].content[1].input',
      role: 'assistant',
      text: '{"path":"config/prod.env"}',
    });
    const result = partAt(v.prompt, 'request.body.messages[2].content[0].content[0].text');
    assert.equal(result.role, 'tool');
    assert.match(result.text, /DB_PASSWORD/);
    assert.equal(partAt(v.prompt, 'request.body.messages[2].content[1].text').role, 'user');
    assert.ok(!v.prompt.some((p) => p.path.startsWith('request.body.messages[0].content[0]')), 'image block skipped');
    assertNoInlineData(v.prompt);

    assert.deepEqual(v.completion, [
      { path: 'response.body.content[0].text', role: 'assistant', text: 'Yes: the database password is committed in plain text.' },
    ]);
    assert.deepEqual(v.toolCalls, [
      { path: 'response.body.content[1].input', id: 'toolu_01B', name: 'open_ticket', arguments: '{"title":"Rotate DB password","severity":"high"}' },
    ]);
    // input_tokens excludes the cache reads; the prompt's size counts them.
    assert.deepEqual(v.usage, { promptTokens: 3595, completionTokens: 503, totalTokens: 4098 });
  });

  it('accumulates text and input_json deltas per content block; usage from message_start and message_delta', () => {
    const v = viewExchange(loadFixture('anthropic-messages-stream'));
    assert.equal(v.stream, true);
    assert.deepEqual(v.prompt, [{ path: 'request.body.system', role: 'system', text: 'You are a weather bot.' }, {
      path: 'request.body.messages[0].content',
      role: 'user',
      text: "What's the weather like in San Francisco?",
    }]);
    assert.deepEqual(v.completion, [
      { path: 'response.stream.content[0].text', role: 'assistant', text: "Okay, let's check the weather for San Francisco." },
    ]);
    assert.deepEqual(v.toolCalls, [
      {
        path: 'response.stream.content[1].input',
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        arguments: '{"location": "San Francisco, CA"}',
      },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 472, completionTokens: 89, totalTokens: 561 });
  });

  it('reads an error event body when the stream carries no content', () => {
    const sse = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const v = viewExchange({ ...loadFixture('anthropic-messages-stream'), responseBody: Buffer.from(sse) });
    assert.equal(v.completion.length, 1);
    assert.match(v.completion[0]?.text ?? '', /Overloaded/);
  });

  it('reads legacy /v1/complete prompts and completions', () => {
    const v = viewExchange({
      method: 'POST',
      path: '/v1/complete',
      query: '',
      requestHeaders: { 'anthropic-version': '2023-06-01' },
      responseHeaders: { 'content-type': 'application/json' },
      status: 200,
      requestBody: Buffer.from(JSON.stringify({ model: 'claude-2.1', prompt: '\n\nHuman: Hi\n\nAssistant:', max_tokens_to_sample: 50 })),
      responseBody: Buffer.from(JSON.stringify({ type: 'completion', completion: ' Hello!', model: 'claude-2.1' })),
    });
    assert.equal(v.operation, 'completions');
    assert.equal(partAt(v.prompt, 'request.body.prompt').role, 'user');
    assert.equal(partAt(v.completion, 'response.body.completion').text, ' Hello!');
  });
});

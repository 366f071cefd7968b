import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewExchange } from '../../src/providers/view.js';
import { assertNoInlineData, loadFixture, partAt } from './fixtures.js';

describe('OpenAI chat completions', () => {
  it('reads roles, multi-part content, prior tool calls, tool results and the response', () => {
    const v = viewExchange(loadFixture('openai-chat'));
    assert.equal(v.provider, 'openai');
    assert.equal(v.operation, 'chat');
    assert.equal(v.model, 'gpt-4o-mini');
    assert.equal(v.stream, false);
    assert.equal(partAt(v.prompt, 'request.body.messages[0].content').role, 'system');
    assert.match(partAt(v.prompt, 'request.body.messages[1].content[0].text').text, /invoice/);
    const prior = partAt(v.prompt, 'request.body.messages[2].tool_calls[0].function.arguments');
    assert.equal(prior.role, 'assistant');
    const tool = partAt(v.prompt, 'request.body.messages[3].content');
    assert.equal(tool.role, 'tool');
    assert.match(tool.text, /AKIAIOSFODNN7EXAMPLE/);
    assertNoInlineData(v.prompt);
    assert.equal(v.prompt.length, 4);

    assert.deepEqual(v.completion, [
      { path: 'response.body.choices[0].message.content', role: 'assistant', text: 'The invoice lists 3 items totalling $420.' },
    ]);
    assert.deepEqual(v.toolCalls, [
      {
        path: 'response.body.choices[0].message.tool_calls[0].function.arguments',
        id: 'call_Em2',
        name: 'send_email',
        arguments: '{"to":"dana@example.com","body":"Your invoice total is $420"}',
      },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 1287, completionTokens: 54, totalTokens: 1341 });
  });

  it('accumulates a streamed answer, tool-call argument deltas and the final usage chunk', () => {
    const v = viewExchange(loadFixture('openai-chat-stream'));
    assert.equal(v.stream, true);
    assert.equal(v.model, 'gpt-4o');
    assert.equal(partAt(v.prompt, 'request.body.messages[0].content').role, 'developer');
    assert.deepEqual(v.completion, [
      { path: 'response.stream.choices[0].delta.content', role: 'assistant', text: 'Checking the weather in Paris and Oslo.' },
    ]);
    assert.deepEqual(
      v.toolCalls.map((t) => [t.path, t.id, t.name, t.arguments]),
      [
        ['response.stream.choices[0].delta.tool_calls[0].function.arguments', 'call_w1', 'get_weather', '{"city":"Paris"}'],
        ['response.stream.choices[0].delta.tool_calls[1].function.arguments', 'call_w2', 'get_weather', '{"city":"Oslo"}'],
      ],
    );
    assert.deepEqual(v.usage, { promptTokens: 82, completionTokens: 41, totalTokens: 123 });
  });

  it('keeps one completion part per choice index when n > 1 streams interleave', () => {
    const chunk = (index: number, content: string): string =>
      `data: ${JSON.stringify({ object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index, delta: { content } }] })}\n\n`;
    const sse = chunk(0, 'A1 ') + chunk(1, 'B1 ') + chunk(1, 'B2') + chunk(0, 'A2') + 'data: [DONE]\n\n';
    const v = viewExchange({
      ...loadFixture('openai-chat-stream'),
      responseHeaders: {},
      responseBody: Buffer.from(sse),
    });
    assert.deepEqual(
      v.completion.map((p) => [p.path, p.text]),
      [
        ['response.stream.choices[0].delta.content', 'A1 A2'],
        ['response.stream.choices[1].delta.content', 'B1 B2'],
      ],
    );
  });
});

describe('OpenAI Responses API', () => {
  it('reads instructions, input items, function call outputs and output items', () => {
    const v = viewExchange(loadFixture('openai-responses'));
    assert.equal(v.operation, 'responses');
    assert.equal(v.model, 'gpt-4.1');
    const system = partAt(v.prompt, 'request.body.instructions');
    assert.equal(system.role, 'system');
    assert.equal(partAt(v.prompt, 'request.body.input[0].content[0].text').role, 'user');
    assert.equal(partAt(v.prompt, 'request.body.input[1].arguments').role, 'assistant');
    assert.equal(partAt(v.prompt, 'request.body.input[2].output').role, 'tool');
    assert.equal(partAt(v.prompt, 'request.body.input[3].content[0].text').role, 'assistant');
    assert.equal(partAt(v.prompt, 'request.body.input[4].content').text, 'Refund one of them please.');
    assertNoInlineData(v.prompt);

    assert.equal(partAt(v.completion, 'response.body.output[1].content[0].text').text, "I've requested a refund of $19.99.");
    assert.match(partAt(v.completion, 'response.body.output[0].summary[0].text').text, /duplicate charge/);
    // The response echoes `instructions`; that echo is not the model's output.
    assert.ok(!v.completion.some((p) => p.text.includes('ORCHID-7')));
    assert.deepEqual(v.toolCalls, [{ path: 'response.body.output[2].arguments', id: 'call_r2', name: 'refund', arguments: '{"amount":19.99}' }]);
    assert.deepEqual(v.usage, { promptTokens: 328, completionTokens: 52, totalTokens: 380 });
  });

  it('accumulates output_text and function-call argument deltas, usage from response.completed', () => {
    const v = viewExchange(loadFixture('openai-responses-stream'));
    assert.equal(v.stream, true);
    assert.equal(partAt(v.prompt, 'request.body.input').text, 'Summarize our Q3 notes and save them.');
    assert.deepEqual(v.completion, [
      { path: 'response.stream.output[0].content[0].text', role: 'assistant', text: 'Here is the summary you asked for.' },
    ]);
    assert.deepEqual(v.toolCalls, [
      { path: 'response.stream.output[1].arguments', id: 'call_s9', name: 'save_note', arguments: '{"text":"summary saved"}' },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 40, completionTokens: 18, totalTokens: 58 });
  });
});

describe('OpenAI completions and embeddings', () => {
  it('reads prompt arrays, suffix and choice texts', () => {
    const v = viewExchange(loadFixture('openai-completions'));
    assert.equal(v.operation, 'completions');
    assert.deepEqual(
      v.prompt.map((p) => p.path),
      ['request.body.prompt[0]', 'request.body.prompt[1]', 'request.body.suffix'],
    );
    assert.equal(partAt(v.completion, 'response.body.choices[1].text').text, 'fromage');
    assert.deepEqual(v.usage, { promptTokens: 10, completionTokens: 9, totalTokens: 19 });
  });

  it('streams legacy completions by choice', () => {
    const sse = ['Hel', 'lo'].map((t) => `data: {"choices":[{"index":0,"text":"${t}"}],"model":"gpt-3.5-turbo-instruct"}\n\n`).join('');
    const v = viewExchange({ ...loadFixture('openai-completions'), responseBody: Buffer.from(sse + 'data: [DONE]\n\n') });
    assert.deepEqual(v.completion, [{ path: 'response.stream.choices[0].text', role: 'assistant', text: 'Hello' }]);
  });

  it('reads embedding inputs; vectors are not text', () => {
    const v = viewExchange(loadFixture('openai-embeddings'));
    assert.equal(v.operation, 'embeddings');
    assert.equal(partAt(v.prompt, 'request.body.input[1]').text, 'config: password=hunter2-not-real');
    assert.ok(!v.completion.some((p) => /0\.0023/.test(p.text)));
    assert.deepEqual(v.usage, { promptTokens: 12, totalTokens: 12 });
  });

  it('reads realtime session instructions as a system prompt', () => {
    const v = viewExchange({
      method: 'POST',
      path: '/v1/realtime/sessions',
      query: '',
      requestHeaders: {},
      responseHeaders: { 'content-type': 'application/json' },
      status: 200,
      requestBody: Buffer.from(JSON.stringify({ model: 'gpt-4o-realtime-preview', instructions: 'Speak like a pirate.' })),
      responseBody: Buffer.from(JSON.stringify({ id: 'sess_1', model: 'gpt-4o-realtime-preview', client_secret: { value: 'ek_x' } })),
    });
    assert.equal(v.operation, 'realtime');
    assert.deepEqual(v.prompt, [{ path: 'request.body.instructions', role: 'system', text: 'Speak like a pirate.' }]);
  });
});

describe('OpenAI image inputs', () => {
  it('keeps remote image URLs (their query may hold a token) at their real paths, drops data URIs', () => {
    const body = {
      model: 'gpt-4.1',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_image', image_url: 'https://files.example.com/a.png?sig=abc' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
          ],
        },
      ],
    };
    const v = viewExchange({ ...loadFixture('openai-responses'), requestBody: Buffer.from(JSON.stringify(body)) });
    assert.deepEqual(v.prompt, [{ path: 'request.body.input[0].content[0].image_url', role: 'user', text: 'https://files.example.com/a.png?sig=abc' }]);
    const chat = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://img.example.com/x.jpg' } }] }],
    };
    const c = viewExchange({ ...loadFixture('openai-chat'), requestBody: Buffer.from(JSON.stringify(chat)) });
    assert.deepEqual(c.prompt.map((p) => p.path), ['request.body.messages[0].content[0].image_url.url']);
  });
});

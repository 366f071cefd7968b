import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewExchange } from '../../src/providers/view.js';
import { loadFixture, partAt } from './fixtures.js';

describe('Azure OpenAI', () => {
  it('routes deployment paths to the chat format; the response model wins over the deployment name', () => {
    const v = viewExchange(loadFixture('azure-chat'));
    assert.equal(v.provider, 'azure-openai');
    assert.equal(v.operation, 'chat');
    assert.equal(v.model, 'gpt-4o-2024-08-06');
    assert.equal(partAt(v.prompt, 'request.body.messages[0].content').role, 'system');
    assert.deepEqual(v.completion, [{ path: 'response.body.choices[0].message.content', role: 'assistant', text: 'Azure says hello.' }]);
    assert.deepEqual(v.usage, { promptTokens: 20, completionTokens: 4, totalTokens: 24 });
  });

  it('falls back to the deployment as the model when neither body names one', () => {
    const v = viewExchange({ ...loadFixture('azure-chat'), responseBody: Buffer.alloc(0) });
    assert.equal(v.model, 'prod-gpt4o');
  });

  it('streams like OpenAI and reads embeddings and the v1 API', () => {
    const base = loadFixture('azure-chat');
    const sse =
      'data: {"choices":[],"prompt_filter_results":[{"prompt_index":0}]}\n\n' +
      'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}],"model":"gpt-4o-2024-08-06"}\n\ndata: [DONE]\n\n';
    const stream = viewExchange({ ...base, responseHeaders: { 'content-type': 'text/event-stream' }, responseBody: Buffer.from(sse) });
    assert.equal(stream.stream, true);
    assert.equal(stream.completion[0]?.text, 'Hi');
    const embed = viewExchange({
      ...base,
      path: '/openai/deployments/emb-small/embeddings',
      requestBody: Buffer.from('{"input":"hello"}'),
      responseBody: Buffer.alloc(0),
    });
    assert.equal(embed.operation, 'embeddings');
    assert.equal(embed.model, 'emb-small');
    const v1 = viewExchange({ ...base, path: '/openai/v1/responses', requestBody: Buffer.from('{"model":"gpt-4.1","input":"x"}') });
    assert.equal(v1.operation, 'responses');
    assert.equal(v1.model, 'gpt-4.1');
  });
});

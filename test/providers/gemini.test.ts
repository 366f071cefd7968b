import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewExchange } from '../../src/providers/view.js';
import { assertNoInlineData, loadFixture, partAt } from './fixtures.js';

describe('Gemini generateContent', () => {
  it('takes the model from the path and reads systemInstruction, contents, function calls and responses', () => {
    const v = viewExchange(loadFixture('gemini-generate'));
    assert.equal(v.provider, 'gemini');
    assert.equal(v.operation, 'generate');
    assert.equal(v.model, 'gemini-1.5-pro');
    assert.equal(v.stream, false);
    assert.equal(partAt(v.prompt, 'request.body.systemInstruction.parts[0].text').role, 'system');
    assert.equal(partAt(v.prompt, 'request.body.contents[0].parts[0].text').role, 'user');
    assert.equal(partAt(v.prompt, 'request.body.contents[1].parts[0].functionCall.args').role, 'assistant');
    const result = partAt(v.prompt, 'request.body.contents[2].parts[0].functionResponse.response');
    assert.equal(result.role, 'tool');
    assert.match(result.text, /ghp_FAKE/);
    assert.ok(!v.prompt.some((p) => p.path.includes('parts[1]')), 'inlineData skipped');
    assertNoInlineData(v.prompt);

    assert.deepEqual(v.completion, [
      { path: 'response.body.candidates[0].content.parts[0].text', role: 'assistant', text: 'Q3 sales reached 1,200 units.' },
    ]);
    assert.deepEqual(v.toolCalls, [
      { path: 'response.body.candidates[0].content.parts[1].functionCall.args', name: 'post_to_slack', arguments: '{"channel":"#sales","text":"Q3: 1200"}' },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 1310, completionTokens: 24, totalTokens: 1334 });
  });

  it('streams with ?alt=sse (CRLF lines): text per candidate, usageMetadata from the last chunk', () => {
    const v = viewExchange(loadFixture('gemini-stream-sse'));
    assert.equal(v.stream, true);
    assert.equal(v.model, 'gemini-2.0-flash');
    assert.deepEqual(v.completion, [
      { path: 'response.stream.candidates[0].content.parts[0].text', role: 'assistant', text: 'The quick brown fox jumps over the lazy dog.' },
    ]);
    assert.deepEqual(v.usage, { promptTokens: 9, completionTokens: 12, totalTokens: 21 });
  });

  it('streams without alt=sse as one JSON array of chunks', () => {
    const v = viewExchange(loadFixture('gemini-stream-array'));
    assert.equal(v.stream, true);
    assert.equal(v.completion[0]?.text, 'The quick brown fox jumps over the lazy dog.');
    assert.equal(v.usage.totalTokens, 21);
  });

  it('knows Vertex AI paths and embedding methods', () => {
    const base = loadFixture('gemini-generate');
    const vertex = viewExchange({ ...base, requestHeaders: {}, path: '/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent' });
    assert.equal(vertex.provider, 'gemini');
    assert.equal(vertex.model, 'gemini-2.5-flash');
    const embed = viewExchange({
      ...base,
      path: '/v1beta/models/text-embedding-004:embedContent',
      requestBody: Buffer.from(JSON.stringify({ content: { parts: [{ text: 'embed me' }] } })),
      responseBody: Buffer.from(JSON.stringify({ embedding: { values: [0.1, 0.2] } })),
    });
    assert.equal(embed.operation, 'embeddings');
    assert.deepEqual(embed.prompt, [{ path: 'request.body.content.parts[0].text', role: 'user', text: 'embed me' }]);
  });
});

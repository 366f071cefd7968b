import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectProvider, viewExchange } from '../../src/providers/view.js';
import { loadFixture, partAt } from './fixtures.js';

describe('LiteLLM routes', () => {
  it('reads /chat/completions (no /v1) with the OpenAI format; provider litellm', () => {
    const v = viewExchange(loadFixture('litellm-chat'));
    assert.equal(v.provider, 'litellm');
    assert.equal(v.operation, 'chat');
    assert.equal(v.model, 'claude-3-haiku');
    assert.equal(partAt(v.prompt, 'request.body.messages[0].content').text, 'hello from litellm');
    assert.equal(v.completion[0]?.text, 'Hi! How can I help?');
    assert.equal(v.usage.totalTokens, 18);
  });

  it('reads pass-through and Anthropic-format routes with the provider format, keeping provider litellm', () => {
    const anthropic = loadFixture('anthropic-messages');
    for (const path of ['/v1/messages', '/anthropic/v1/messages']) {
      const v = viewExchange({ ...anthropic, path, providerHint: 'litellm' });
      assert.equal(v.provider, 'litellm');
      assert.equal(v.operation, 'messages', path);
      assert.equal(partAt(v.prompt, 'request.body.system[0].text').role, 'system');
      assert.equal(v.toolCalls[0]?.name, 'open_ticket');
    }
    const gemini = viewExchange({ ...loadFixture('gemini-generate'), path: '/gemini/v1beta/models/gemini-1.5-pro:generateContent', providerHint: 'litellm' });
    assert.equal(gemini.operation, 'generate');
    assert.equal(gemini.model, 'gemini-1.5-pro');
    const bedrock = viewExchange({ ...loadFixture('bedrock-converse'), path: '/bedrock/model/us.amazon.nova-pro-v1:0/converse', providerHint: 'litellm' });
    assert.equal(bedrock.operation, 'converse');
    const azure = viewExchange({ ...loadFixture('azure-chat'), providerHint: 'litellm' });
    assert.equal(azure.operation, 'chat');
    assert.equal(azure.model, 'gpt-4o-2024-08-06');
    const engine = viewExchange({ ...loadFixture('litellm-chat'), path: '/engines/gpt-4o/chat/completions', requestBody: Buffer.from('{"messages":[]}') });
    assert.equal(engine.model, 'gpt-4o');
  });

  it('reads management routes generically: every string with its path', () => {
    const v = viewExchange(loadFixture('litellm-key-generate'));
    assert.equal(v.provider, 'litellm');
    assert.equal(v.operation, 'other');
    assert.equal(partAt(v.prompt, 'request.body.metadata.user').role, 'unknown');
    assert.equal(partAt(v.completion, 'response.body.key').text, 'sk-kGFAKEFAKEFAKEFAKE');
    const info = viewExchange({ ...loadFixture('litellm-key-generate'), method: 'GET', path: '/model/info', requestBody: Buffer.alloc(0) });
    assert.equal(info.operation, 'models');
  });
});

describe('detectProvider', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['/v1/chat/completions', {}, 'openai'],
    ['/v1/responses', { authorization: 'Bearer x' }, 'openai'],
    ['/openai/v1/embeddings', {}, 'openai'],
    ['/v1/messages', {}, 'anthropic'],
    ['/v1/chat/completions', { 'x-api-key': 'k' }, 'anthropic'],
    ['/anything', { 'anthropic-version': '2023-06-01' }, 'anthropic'],
    ['/v1beta/models/gemini-1.5-pro:generateContent', {}, 'gemini'],
    ['/v1beta/models', { 'x-goog-api-key': 'k' }, 'gemini'],
    ['/openai/deployments/d1/chat/completions', {}, 'azure-openai'],
    ['/openai/v1/chat/completions', { 'api-key': 'k' }, 'azure-openai'],
    ['/model/amazon.titan-text-express-v1/invoke', {}, 'bedrock'],
    ['/model/us.amazon.nova-pro-v1%3A0/converse-stream', {}, 'bedrock'],
    ['/chat/completions', {}, 'litellm'],
    ['/key/generate', {}, 'litellm'],
    ['/model/info', {}, 'litellm'],
    ['/healthz', {}, 'unknown'],
    ['/', {}, 'unknown'],
  ];
  for (const [path, headers, expected] of cases) {
    it(`${path} ${JSON.stringify(headers)} → ${expected}`, () => assert.equal(detectProvider(path, headers), expected));
  }
});

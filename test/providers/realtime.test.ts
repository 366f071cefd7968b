import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewWsMessage } from '../../src/providers/view.js';

const msg = (o: unknown): string => JSON.stringify(o);

describe('viewWsMessage (OpenAI Realtime)', () => {
  it('reads client instructions, items and tool outputs as prompt parts', () => {
    const session = viewWsMessage('client', msg({ type: 'session.update', session: { instructions: 'You are Ava. Secret code 1234.', voice: 'alloy' } }), 0);
    assert.deepEqual(session.prompt, [{ path: 'ws.client[0].session.instructions', role: 'system', text: 'You are Ava. Secret code 1234.' }]);
    const item = viewWsMessage(
      'client',
      msg({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi Ava' }] } }),
      3,
    );
    assert.deepEqual(item.prompt, [{ path: 'ws.client[3].item.content[0].text', role: 'user', text: 'Hi Ava' }]);
    const output = viewWsMessage('client', msg({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'c1', output: '{"temp":21}' } }), 4);
    assert.deepEqual(output.prompt, [{ path: 'ws.client[4].item.output', role: 'tool', text: '{"temp":21}' }]);
  });

  it('skips audio payloads', () => {
    const audio = viewWsMessage('client', msg({ type: 'input_audio_buffer.append', audio: 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=' }), 1);
    assert.deepEqual(audio, { prompt: [], completion: [], toolCalls: [] });
    const delta = viewWsMessage('upstream', msg({ type: 'response.output_audio.delta', delta: 'AAAA' }), 2);
    assert.deepEqual(delta.completion, []);
  });

  it('reads upstream text, transcripts and function calls (beta and GA event names)', () => {
    assert.deepEqual(viewWsMessage('upstream', msg({ type: 'response.text.delta', delta: 'Hel' }), 5).completion, [
      { path: 'ws.upstream[5].delta', role: 'assistant', text: 'Hel' },
    ]);
    assert.equal(viewWsMessage('upstream', msg({ type: 'response.output_audio_transcript.done', transcript: 'Hello there' }), 6).completion[0]?.text, 'Hello there');
    const call = viewWsMessage('upstream', msg({ type: 'response.function_call_arguments.done', call_id: 'call_9', name: 'get_weather', arguments: '{"city":"Rome"}' }), 7);
    assert.deepEqual(call.toolCalls, [{ path: 'ws.upstream[7].arguments', id: 'call_9', name: 'get_weather', arguments: '{"city":"Rome"}' }]);
    const heard = viewWsMessage('upstream', msg({ type: 'conversation.item.input_audio_transcription.completed', transcript: 'my key is abc' }), 8);
    assert.deepEqual(heard.prompt, [{ path: 'ws.upstream[8].transcript', role: 'user', text: 'my key is abc' }]);
  });

  it('inspects unknown messages whole: non-JSON as one part, unknown JSON by string leaves', () => {
    assert.deepEqual(viewWsMessage('client', 'plain text hello', 0).prompt, [{ path: 'ws.client[0]', role: 'unknown', text: 'plain text hello' }]);
    assert.deepEqual(viewWsMessage('upstream', 'not json', 1).completion, [{ path: 'ws.upstream[1]', role: 'unknown', text: 'not json' }]);
    const err = viewWsMessage('upstream', msg({ type: 'error', error: { message: 'bad key sk-x' } }), 2);
    assert.ok(err.completion.some((p) => p.path === 'ws.upstream[2].error.message' && p.text === 'bad key sk-x'));
  });
});

import { createServer } from 'node:http';

// A fake LLM upstream for benchmarks: a chat completion for POSTs, an SSE
// stream on /sse whose first event is written at once.

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The answer is 42. '.repeat(20) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 },
});

const server = createServer((req, res) => {
  let size = 0;
  req.on('data', (c: Buffer) => (size += c.length));
  req.on('end', () => {
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"first"}}]}\n\n');
      setTimeout(() => {
        res.write('data: {"choices":[{"index":0,"delta":{"content":" token"}}]}\n\n');
        res.end('data: [DONE]\n\n');
      }, 5);
      return;
    }
    if (req.url === '/sink') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: size }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
    res.end(completion);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SseParser, type SseEvent, parseSse } from '../../src/providers/sse.js';
import { viewExchange } from '../../src/providers/view.js';
import { loadFixture } from './fixtures.js';

// A real loopback upstream streams the recorded SSE bodies in small, odd
// chunks (splitting CRLFs and multi-byte characters); the client side feeds
// the parser chunk by chunk as the socket delivers them, as the proxy's tap does.

const STREAMS = ['openai-chat-stream', 'anthropic-messages-stream', 'gemini-stream-sse', 'openai-responses-stream'];

let server: Server;
let port = 0;

before(async () => {
  server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    const body = loadFixture(name).responseBody;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let off = 0;
    const sizes = [1, 7, 2, 13, 3, 31];
    let k = 0;
    const writeNext = (): void => {
      if (off >= body.length) {
        res.end();
        return;
      }
      const n = sizes[k++ % sizes.length] ?? 1;
      res.write(body.subarray(off, off + n));
      off += n;
      setImmediate(writeNext);
    };
    writeNext();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.close();
});

async function fetchStreamed(name: string): Promise<{ events: SseEvent[]; body: Buffer; chunks: number }> {
  const req = request({ host: '127.0.0.1', port, path: `/${name}`, method: 'GET' });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  const parts: Buffer[] = [];
  for await (const chunk of res) {
    parts.push(chunk as Buffer);
    parser.push(chunk as Buffer);
  }
  parser.end();
  return { events, body: Buffer.concat(parts), chunks: parts.length };
}

describe('SSE over a real socket', () => {
  for (const name of STREAMS) {
    it(`${name}: incremental events equal the whole-body parse and the view is complete`, async () => {
      const { events, body, chunks } = await fetchStreamed(name);
      assert.ok(chunks > 10, `arrived in ${chunks} chunks`);
      assert.deepEqual(events, parseSse(body).events);
      assert.ok(events.length >= 3);
      const v = viewExchange({ ...loadFixture(name), responseBody: body });
      assert.equal(v.stream, true);
      assert.ok(v.completion.length >= 1 && (v.completion[0]?.text.length ?? 0) > 10);
    });
  }
});

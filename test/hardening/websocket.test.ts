import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { sleep } from '../helpers/servers.js';
import { assertNoLeak, assertServing, closeLeftovers, fakeAwsId, startRecordingUpstream, startSidecar, waitForSecretAlert, type RecordingUpstream, type Sidecar } from './support.js';

// WebSocket frames written by hand on a raw socket: fragmented, oversized and
// malformed. The reference is the upstream's own `ws` server fed the same
// frames directly: the client must get the same answer (the same messages,
// or the same close code) through gatewatch, and the sidecar must keep serving.

after(closeLeftovers);

const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  mask?: boolean;
  /** Announce this length instead of the payload's (oversized frames). */
  announced?: number;
}

function frame(opcode: number, payload: Buffer | string, o: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = o.announced ?? data.length;
  const mask = o.mask ?? true;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const m = mask ? 0x80 : 0;
  if (length < 126) head.push(m | length);
  else if (length < 65536) head.push(m | 126, length >> 8, length & 0xff);
  else {
    head.push(m | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

const closeFrame = (code: number, reason = '') => {
  const p = Buffer.alloc(2 + Buffer.byteLength(reason));
  p.writeUInt16BE(code);
  p.write(reason, 2);
  return frame(OP.close, p);
};

interface WsOutcome {
  readonly status: number;
  readonly texts: string[];
  readonly pongs: number;
  /** Close code the server sent; 1006 when the connection dropped without a close frame. */
  readonly closeCode: number;
}

/** Handshakes on a raw socket, writes `frames`, and reads server frames until close or `waitMs` of quiet. */
async function rawWebSocket(port: number, frames: Buffer[], waitMs = 400): Promise<WsOutcome> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(
    'GET /v1/realtime?model=gpt-4o-realtime-preview HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let buf = Buffer.alloc(0);
  let status = 0;
  let closed = false;
  socket.on('data', (c: Buffer) => (buf = Buffer.concat([buf, c])));
  socket.once('close', () => (closed = true));
  for (let i = 0; i < 100 && status === 0 && !closed; i++) {
    await sleep(10);
    const end = buf.indexOf('\r\n\r\n');
    if (end >= 0) {
      status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      buf = buf.subarray(end + 4);
    }
  }
  if (status !== 101) {
    socket.destroy();
    return { status, texts: [], pongs: 0, closeCode: 0 };
  }
  for (const f of frames) if (!socket.destroyed) socket.write(f);
  let last = -1;
  for (let waited = 0; !closed && waited < 5000; waited += 50) {
    await sleep(50);
    if (buf.length === last && waited >= waitMs) break;
    last = buf.length;
  }
  socket.destroy();
  // Parse the server's (unmasked) frames.
  const texts: string[] = [];
  let pongs = 0;
  let closeCode = 1006;
  let fragments: Buffer[] = [];
  for (let at = 0; at + 2 <= buf.length; ) {
    const op = buf[at]! & 0x0f;
    const fin = (buf[at]! & 0x80) !== 0;
    let len = buf[at + 1]! & 0x7f;
    let off = at + 2;
    if (len === 126) {
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    if (off + len > buf.length) break;
    const payload = buf.subarray(off, off + len);
    at = off + len;
    if (op === OP.close) {
      closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      break;
    }
    if (op === OP.pong) pongs++;
    if (op === OP.text || op === OP.continuation) {
      fragments.push(payload);
      if (fin) {
        texts.push(Buffer.concat(fragments).toString('utf8'));
        fragments = [];
      }
    }
  }
  return { status, texts, pongs, closeCode };
}

describe('WebSocket frames on a raw socket', { timeout: 120_000 }, () => {
  let upstream: RecordingUpstream;
  let wss: WebSocketServer;
  let sidecar: Sidecar;
  const received: string[] = [];

  before(async () => {
    upstream = await startRecordingUpstream();
    wss = new WebSocketServer({ noServer: true });
    upstream.server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        // The reference closes a bad frame with its code; the error itself is expected here.
        ws.on('error', () => undefined);
        ws.on('message', (data, binary) => {
          const text = binary ? `binary:${(data as Buffer).length}` : data.toString();
          received.push(text);
          ws.send(`echo ${text}`);
        });
      }),
    );
    sidecar = await startSidecar(upstream.url);
  });

  after(async () => {
    for (const c of wss?.clients ?? []) c.terminate();
    wss?.close();
    await sidecar?.close();
    await upstream?.close();
  });

  /** Same frames directly and through gatewatch: same outcome; returns the proxied one. */
  async function compare(frames: Buffer[]): Promise<WsOutcome> {
    received.length = 0;
    const direct = await rawWebSocket(upstream.port, frames);
    const directReceived = [...received];
    received.length = 0;
    const proxied = await rawWebSocket(sidecar.port, frames);
    assert.equal(direct.status, 101);
    assert.equal(proxied.status, 101);
    assert.deepEqual(proxied.texts, direct.texts, 'the client got the same messages');
    assert.equal(proxied.closeCode, direct.closeCode, `close code: ws says ${direct.closeCode}, through gatewatch ${proxied.closeCode}`);
    await sleep(50);
    assert.deepEqual(received, directReceived, 'the upstream got the same messages');
    return proxied;
  }

  test('a message in fragments with a ping between them arrives whole; the ping is answered', async () => {
    const out = await compare([
      frame(OP.text, 'hel', { fin: false }),
      frame(OP.ping, 'are you there'),
      frame(OP.continuation, 'lo wo', { fin: false }),
      frame(OP.continuation, 'rld'),
    ]);
    assert.deepEqual(out.texts, ['echo hello world']);
    assert.equal(out.pongs, 1);
  });

  test('a UTF-8 character split across fragments arrives intact', async () => {
    const text = Buffer.from('naïve 日本語 ✓');
    const out = await compare([frame(OP.text, text.subarray(0, 3), { fin: false }), frame(OP.continuation, text.subarray(3, 11), { fin: false }), frame(OP.continuation, text.subarray(11))]);
    assert.deepEqual(out.texts, ['echo naïve 日本語 ✓']);
  });

  test('a secret split across fragments is still found', async () => {
    const key = fakeAwsId();
    const message = JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `use ${key} now` }] } });
    const cut = message.indexOf(key) + 7;
    const out = await rawWebSocket(sidecar.port, [frame(OP.text, message.slice(0, cut), { fin: false }), frame(OP.continuation, message.slice(cut))]);
    assert.deepEqual(out.texts, [`echo ${message}`]);
    await waitForSecretAlert(sidecar, key, 'a fragmented WebSocket message');
    await assertNoLeak(sidecar, [key]);
  });

  test('a close right after a message: the upstream gets the message and the close', async () => {
    // Through a relay the client's close is answered at once, so an answer the
    // upstream sends after it may not reach the client; the upstream side must
    // still see exactly what the client sent.
    received.length = 0;
    const out = await rawWebSocket(sidecar.port, [frame(OP.text, 'last words'), closeFrame(1000, 'bye')]);
    assert.equal(out.closeCode, 1000);
    for (let i = 0; i < 50 && received.length === 0; i++) await sleep(10);
    assert.deepEqual(received, ['last words']);
  });

  const malformed: ReadonlyArray<[string, Buffer[]]> = [
    ['an unmasked client frame', [frame(OP.text, 'hi', { mask: false })]],
    ['RSV1 set without an extension', [frame(OP.text, 'hi', { rsv: 4 })]],
    ['a reserved opcode', [frame(0x3, 'hi')]],
    ['invalid UTF-8 in a text message', [frame(OP.text, Buffer.from([0x68, 0xc3, 0x28, 0xff]))]],
    ['a control frame over 125 bytes', [frame(OP.ping, 'p'.repeat(126))]],
    ['a fragmented control frame', [frame(OP.ping, 'p', { fin: false })]],
    ['a continuation with no message started', [frame(OP.continuation, 'orphan')]],
    ['a new message inside a fragmented one', [frame(OP.text, 'a', { fin: false }), frame(OP.text, 'b')]],
    ['a close frame with a 1-byte payload', [frame(OP.close, Buffer.from([3]))]],
    ['a close frame with a reserved code', [closeFrame(999)]],
    ['a frame announcing 2^40 bytes', [frame(OP.binary, Buffer.alloc(16), { announced: 2 ** 40 })]],
    ['a frame announcing more than 2^53 bytes', [frame(OP.binary, Buffer.alloc(16), { announced: 2 ** 53 + 2 })]],
  ];
  for (const [name, frames] of malformed) {
    test(`${name}: closed with the code ws gives it; the sidecar keeps serving`, async () => {
      const out = await compare(frames);
      assert.ok(out.closeCode >= 1002 && out.closeCode !== 1005, `closed with ${out.closeCode}`);
      await assertServing(sidecar);
    });
  }

  test('after all that, a normal WebSocket session still works and no upstream socket is left open', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sidecar.port}/v1/realtime`);
    await once(ws, 'open');
    ws.send('still here');
    const [data] = await once(ws, 'message');
    assert.equal(String(data), 'echo still here');
    ws.close();
    await once(ws, 'close');
    for (let i = 0; i < 50 && wss.clients.size > 0; i++) await sleep(20);
    assert.equal(wss.clients.size, 0, 'every upstream WebSocket was closed with its client');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawClosedLoop, rawRequest } from '../../bench/raw-client.js';
import { readBody, startUpstream } from '../helpers/servers.js';

// bench/proxy's load generator reads only enough of each response to find
// its end: it must count whole responses, follow a server that closes, and
// refuse what it cannot frame rather than count it.

test('the raw client sends whole requests and counts whole responses, also across a server that closes', async () => {
  const bodies: number[] = [];
  let served = 0;
  const upstream = await startUpstream(async (req, res) => {
    bodies.push((await readBody(req)).length);
    served++;
    const payload = Buffer.alloc(70_000, 'r'); // more than one read
    res.writeHead(served % 5 === 0 ? 500 : 200, { 'content-type': 'application/json', 'content-length': payload.length, ...(served % 7 === 0 ? { connection: 'close' } : {}) });
    res.end(payload);
  });
  try {
    const port = Number(new URL(upstream.url).port);
    const body = Buffer.alloc(5000, 'q');
    const result = await rawClosedLoop(port, () => rawRequest(port, '/x', body, { authorization: 'Bearer test' }), 4, 0.5);
    assert.ok(result.latencies.length >= 10, `only ${result.latencies.length} responses`);
    assert.equal(result.latencies.length, served, 'every response served was counted once');
    assert.equal(result.failures, Math.floor(served / 5));
    assert.ok(bodies.every((n) => n === 5000));
  } finally {
    await upstream.close();
  }
});

test('a response without Content-Length is an error, not a count', async () => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('chunked');
    res.end();
  });
  try {
    const port = Number(new URL(upstream.url).port);
    await assert.rejects(rawClosedLoop(port, () => rawRequest(port, '/x', Buffer.from('{}')), 1, 0.2), /without Content-Length/);
  } finally {
    await upstream.close();
  }
});

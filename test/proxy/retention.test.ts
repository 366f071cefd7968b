import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { RUN_ENV, RUN_NODE_FLAGS } from '../../src/node-flags.js';
import { readBody, startUpstream } from '../helpers/servers.js';

// What the proxy allocates per exchange must die young. Once a full
// collection has run (as one does, sooner or later, in every long-lived
// process), nothing of the proxy's may keep each later exchange alive past
// the young-generation collections: a Set of the requests in flight did (and
// one of the connections, where a connection carries one request), and
// every exchange's objects were then promoted, to wait for the next full
// collection, which made each exchange slower. The gatewatch CLI runs as it
// is shipped, in a process of its own (the test runner's async hooks would be
// measured too), watched through its inspector.

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const LANES = 16;

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}

const sampledBytes = (node: SamplingNode): number => node.children.reduce((sum, child) => sum + sampledBytes(child), node.selfSize);

/** A DevTools protocol client on the inspector's WebSocket. */
async function inspector(url: string) {
  const socket = new WebSocket(url);
  await once(socket, 'open');
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  socket.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error) p.reject(new Error(m.error.message));
    else p.resolve(m.result);
  });
  return {
    post: <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

test('after a full collection, the objects of each exchange are not promoted to the old generation', { timeout: 90_000 }, async () => {
  const upstream = await startUpstream(async (req, res) => {
    await readBody(req);
    res.setHeader('content-type', 'application/json');
    res.end('{"id":"chatcmpl-1","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":900,"completion_tokens":1,"total_tokens":901}}');
  });
  const child = spawn(
    process.execPath,
    [...RUN_NODE_FLAGS, '--inspect=127.0.0.1:0', '--expose-gc', CLI, 'run', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--upstream', upstream.url],
    { env: { ...process.env, ...RUN_ENV, GATEWATCH_FINGERPRINT_KEY: 'retention-test', OTEL_SDK_DISABLED: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  const agent = new Agent({ keepAlive: true, maxSockets: LANES });
  let devtools: Awaited<ReturnType<typeof inspector>> | undefined;
  try {
    let stderr = '';
    const inspectorUrl = new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /Debugger listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`gatewatch exited: ${stderr}`)));
    });
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"gatewatch listening"')) resolve(Number((JSON.parse(line) as { proxy: string }).proxy.split(':').pop()));
      });
      void exited.then(() => reject(new Error(`gatewatch exited: ${stderr}`)));
    });
    devtools = await inspector(await inspectorUrl);

    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'log line '.repeat(450) }] });
    const exchange = (via: Agent | false) =>
      new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: via, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.once('end', resolve);
        });
        req.once('error', reject);
        req.end(body);
      });
    const run = async (total: number, via: Agent | false) => {
      let started = 0;
      const lane = async () => {
        while (started++ < total) await exchange(via);
      };
      await Promise.all(Array.from({ length: LANES }, lane));
    };
    /** Bytes per exchange that gatewatch allocated after a full collection and that outlived a young-generation one. */
    const promotedPerExchange = async (via: Agent | false) => {
      await run(500, via);
      await devtools!.post('Runtime.evaluate', { expression: 'gc()' });
      // Samples of what a young-generation collection frees are dropped: what is left was promoted, or is still alive.
      await devtools!.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
      const exchanges = 3000;
      await run(exchanges, via);
      // The young generation's garbage since its last collection is still sampled: collected now, it drops out.
      await devtools!.post('Runtime.evaluate', { expression: 'gc({ type: "minor" })' });
      const { profile } = await devtools!.post<{ profile: { head: SamplingNode } }>('HeapProfiler.stopSampling');
      return sampledBytes(profile.head) / exchanges;
    };

    // About 350-550 B stay (captures on their way to inspection, connections kept open, the bookkeeping
    // of the agent and the parsers); with the Sets, 1.7-1.8 KB did with a connection per request, and
    // 5.4-6.0 KB on kept-alive connections.
    const connectionPerRequest = await promotedPerExchange(false);
    assert.ok(connectionPerRequest < 1024, `a connection per request: ${connectionPerRequest.toFixed(0)} B per exchange outlived a young-generation collection`);
    const keptAlive = await promotedPerExchange(agent);
    assert.ok(keptAlive < 1024, `kept-alive connections: ${keptAlive.toFixed(0)} B per exchange outlived a young-generation collection`);
  } finally {
    devtools?.close();
    agent.destroy();
    child.kill('SIGTERM');
    await exited;
    await upstream.close();
  }
});

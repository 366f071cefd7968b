import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

// The baseline: http-proxy with a keep-alive agent and nothing else.

const target = process.argv[2]!;
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
const proxy = httpProxy.createProxyServer({ target, agent, xfwd: true });
proxy.on('error', (_e, _req, res) => {
  const r = res as import('node:http').ServerResponse;
  if (!r.headersSent) r.writeHead(502);
  r.end();
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});

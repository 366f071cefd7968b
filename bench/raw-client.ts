import { connect, type Socket } from 'node:net';

// A closed-loop HTTP/1.1 load generator on raw keep-alive sockets: each
// request is prepared bytes, and of each response it reads only what tells
// where the response ends (the status line and Content-Length). Node's http
// client spends about as much CPU per request as the proxies it measures,
// and on a machine of two cores that CPU is taken from them: their
// throughput then says as much about the client as about them. This one
// spends a fraction of that.

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i;
const CONNECTION_CLOSE = /\r\nconnection:[ \t]*close[ \t]*\r\n/i;

/** A POST of `body` to `path`, as the bytes written on the socket. */
export function rawRequest(port: number, path: string, body: Buffer, headers: Readonly<Record<string, string>> = {}): Buffer {
  let head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
}

export interface RawLoopResult {
  /** Milliseconds from writing each request to reading the last byte of its response. */
  readonly latencies: number[];
  /** Responses whose status was not 2xx. */
  readonly failures: number;
}

/**
 * `connections` sockets, each sending the next request as soon as the last
 * response has fully arrived, until `seconds` have passed.
 */
export async function rawClosedLoop(port: number, request: () => Buffer, connections: number, seconds: number): Promise<RawLoopResult> {
  const latencies: number[] = [];
  let failures = 0;
  const deadline = Date.now() + seconds * 1000;

  const runConnection = () =>
    new Promise<void>((resolve, reject) => {
      let socket: Socket;
      let pending: Buffer = Buffer.alloc(0);
      let started = 0n;
      const send = () => {
        started = process.hrtime.bigint();
        socket.write(request());
      };
      const open = () => {
        socket = connect(port, '127.0.0.1', send);
        socket.setNoDelay(true);
        socket.on('data', onData);
        socket.on('error', reject);
      };
      const onData = (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const headerEnd = pending.indexOf(HEADER_END);
        if (headerEnd < 0) return;
        const head = pending.toString('latin1', 0, headerEnd + 2);
        const length = CONTENT_LENGTH.exec(head);
        if (!length) {
          socket.destroy();
          reject(new Error(`raw client: a response without Content-Length from port ${port}: ${head.split('\r\n')[0]}`));
          return;
        }
        const total = headerEnd + HEADER_END.length + Number(length[1]);
        if (pending.length < total) return;
        if (pending.length > total) {
          socket.destroy();
          reject(new Error(`raw client: ${pending.length - total} bytes after a response from port ${port}`));
          return;
        }
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (head.charCodeAt(9) !== 0x32) failures++; // 'HTTP/1.1 2xx'
        pending = Buffer.alloc(0);
        const closing = CONNECTION_CLOSE.test(head);
        if (Date.now() >= deadline) {
          socket.end();
          resolve();
        } else if (closing) {
          // The server closes this one: a late reset on it is no failure of the run.
          socket.removeListener('error', reject).on('error', () => undefined);
          socket.end();
          open();
        } else {
          send();
        }
      };
      open();
    });

  await Promise.all(Array.from({ length: connections }, runConnection));
  return { latencies, failures };
}

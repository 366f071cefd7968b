import type { Server } from 'node:http';

/** Starts listening and resolves with the bound address (port 0 picks a free port). */
export function listen(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error(`no address after listening on ${host}:${port}`));
      resolve({ host: address.address, port: address.port });
    });
  });
}

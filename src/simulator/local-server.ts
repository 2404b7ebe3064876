/**
 * A plain node:http server on loopback (port 0 by default) for the fake
 * Ampersand and the fake Slack: it can hold a response open to simulate a
 * hang, and closing it also ends those held responses.
 */
import { createServer, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  readonly host: string;
  readonly port: number;
  /** Never answers `res`; it ends when the server closes. */
  hold(res: ServerResponse): void;
  close(): Promise<void>;
}

export async function startLocalServer(handler: RequestListener, options: { port?: number; host?: string } = {}): Promise<LocalServer> {
  const host = options.host ?? '127.0.0.1';
  const held = new Set<ServerResponse>();
  const server = createServer(handler);
  // A port that is taken (the stack simulator's fixed ports) rejects here rather than crashing the process.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    hold(res) {
      held.add(res);
      res.on('close', () => held.delete(res));
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

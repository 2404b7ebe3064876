/**
 * HTTP over raw TCP, for requests no HTTP client would send: malformed request
 * lines, odd targets, oversized headers, pipelined garbage, half-sent requests.
 */
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Everything the server sent before it closed the connection (or the wait ended). */
  readonly response: string;
  /** The status codes of every response in it, in order. */
  readonly statuses: number[];
  /** Whether the server closed (or reset) the connection. */
  readonly closed: boolean;
}

/** Sends `bytes`, then reads until the server closes the connection or `waitMs` passes. */
export async function rawExchange(port: number, bytes: string | Buffer, waitMs = 3000): Promise<RawExchange> {
  const socket = connect(port, '127.0.0.1');
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    // A reset after the answer (the server dropped the rest of a large request) still counts as closed.
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
  socket.destroy();
  return { response, statuses: statusesOf(response), closed };
}

/** Opens a connection and sends the start of a request that never ends; the caller destroys it. */
export async function halfSentRequest(port: number, head = 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: '): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(head);
  return socket;
}

export function statusesOf(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/**
 * A local stand-in for a Slack incoming webhook: a real HTTP server that
 * records every message, checks it against Slack's documented limits the way
 * Slack does (400 invalid_blocks / invalid_payload), and can be told to fail
 * (5xx, 429 with Retry-After, 4xx errors like channel_is_archived, hangs).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalServer } from './local-server.js';

export interface ReceivedMessage {
  readonly path: string;
  readonly at: number;
  readonly body: { text?: unknown; blocks?: unknown };
  readonly raw: string;
}

export type SlackFault =
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | { readonly kind: 'hang' };

export interface FakeSlack {
  /** The full webhook URL, secret path included. */
  readonly webhookUrl: string;
  /** Accepted messages, in the order Slack took them. */
  readonly messages: ReceivedMessage[];
  /** Every request, accepted or not, with the status it got. */
  readonly attempts: { at: number; status: number }[];
  inject(...faults: SlackFault[]): void;
  /** Called for every accepted message before Slack's OK goes out (a test can kill the sender then). */
  setOnMessage(callback: ((message: ReceivedMessage) => void) | undefined): void;
  setStickyFault(fault: SlackFault | undefined): void;
  close(): Promise<void>;
}

export interface FakeSlackOptions {
  readonly port?: number;
  readonly host?: string;
  /** Called for every accepted message (the demo prints it). */
  readonly onMessage?: (message: ReceivedMessage) => void;
}

function validate(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'invalid_payload';
  const b = body as { text?: unknown; blocks?: unknown };
  if (typeof b.text !== 'string' || b.text === '') return 'no_text';
  if (b.text.length > 40_000) return 'invalid_payload';
  if (b.blocks === undefined) return undefined;
  if (!Array.isArray(b.blocks) || b.blocks.length > 50) return 'invalid_blocks';
  for (const block of b.blocks as { type?: unknown; text?: { text?: unknown } }[]) {
    const t = block.text?.text;
    if (block.type === 'header' && typeof t === 'string' && t.length > 150) return 'invalid_blocks';
    if (block.type === 'section' && typeof t === 'string' && t.length > 3000) return 'invalid_blocks';
  }
  return undefined;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const messages: ReceivedMessage[] = [];
  const attempts: { at: number; status: number }[] = [];
  const faults: SlackFault[] = [];
  let sticky: SlackFault | undefined;
  let onMessage = options.onMessage;

  const reply = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void => {
    attempts.push({ at: Date.now(), status });
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(text);
  };

  const server = await startLocalServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fault = sticky ?? faults.shift();
      if (fault?.kind === 'hang') {
        attempts.push({ at: Date.now(), status: 0 });
        server.hold(res);
        return;
      }
      if (fault) return reply(res, fault.status, fault.body ?? 'injected', fault.headers);
      if (req.method !== 'POST') return reply(res, 405, 'invalid_method');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return reply(res, 400, 'invalid_payload');
      }
      const problem = validate(body);
      if (problem) return reply(res, 400, problem);
      const message: ReceivedMessage = { path: req.url ?? '/', at: Date.now(), body: body as ReceivedMessage['body'], raw };
      messages.push(message);
      onMessage?.(message);
      reply(res, 200, 'ok');
    });
  }, options);

  return {
    webhookUrl: `http://${server.host}:${server.port}/services/T000FAKE/B000FAKE/fakeWebhookSecret123`,
    messages,
    attempts,
    inject: (...more) => void faults.push(...more),
    setOnMessage(callback) {
      onMessage = callback;
    },
    setStickyFault(fault) {
      sticky = fault;
    },
    close: () => server.close(),
  };
}

/**
 * A local stand-in for a Slack incoming webhook: a real HTTP server that
 * records every message, checks it against Slack's limits the way Slack does
 * (400 with a plain-text code: invalid_blocks for a block past its documented
 * limits, msg_blocks_too_long past 12,000 characters of block text in all,
 * msg_too_long, no_text, invalid_payload), and can be told to fail
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
  { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly headers?: Record<string, string> } | { readonly kind: 'hang' };

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

/** Slack's cumulative block-text limit is undocumented; requests were refused from about 11,300 to 13,200. */
export const FAKE_SLACK_BLOCK_TEXT_LIMIT = 12_000;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A text object as Block Kit defines it: a type and 1 to `max` characters. */
function textObject(x: unknown, max: number, types: readonly string[]): string | undefined {
  if (!isObj(x) || typeof x['type'] !== 'string' || !types.includes(x['type'])) return undefined;
  const t = x['text'];
  return typeof t === 'string' && t.length >= 1 && t.length <= max ? t : undefined;
}

/** Checks one block against Slack's documented limits; returns its text, or undefined if Slack would refuse it. */
function blockText(block: unknown): string[] | undefined {
  if (!isObj(block)) return undefined;
  switch (block['type']) {
    case 'header': {
      const t = textObject(block['text'], 150, ['plain_text']);
      return t === undefined ? undefined : [t];
    }
    case 'section': {
      const out: string[] = [];
      if (block['text'] !== undefined) {
        const t = textObject(block['text'], 3000, ['plain_text', 'mrkdwn']);
        if (t === undefined) return undefined;
        out.push(t);
      }
      const fields = block['fields'];
      if (fields !== undefined) {
        if (!Array.isArray(fields) || fields.length === 0 || fields.length > 10) return undefined;
        for (const f of fields) {
          const t = textObject(f, 2000, ['plain_text', 'mrkdwn']);
          if (t === undefined) return undefined;
          out.push(t);
        }
      }
      return out.length === 0 ? undefined : out;
    }
    case 'context': {
      const elements = block['elements'];
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) return undefined;
      const out: string[] = [];
      for (const e of elements) {
        // Context text has no documented length limit of its own; the section's 3,000 is applied.
        const t = textObject(e, 3000, ['plain_text', 'mrkdwn']);
        if (t === undefined) return undefined;
        out.push(t);
      }
      return out;
    }
    case 'divider':
      return [];
    default:
      return undefined;
  }
}

/** What Slack answers a payload with, as a plain-text error code; undefined when it would take it. */
function validate(body: unknown): string | undefined {
  if (!isObj(body)) return 'invalid_payload';
  const { text, blocks } = body;
  if (text !== undefined && typeof text !== 'string') return 'invalid_payload';
  if ((text === undefined || text === '') && blocks === undefined) return 'no_text';
  if (typeof text === 'string' && text.length > 40_000) return 'msg_too_long';
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 50) return 'invalid_blocks';
  let total = 0;
  for (const block of blocks) {
    const texts = blockText(block);
    if (texts === undefined) return 'invalid_blocks';
    for (const t of texts) total += t.length;
  }
  return total > FAKE_SLACK_BLOCK_TEXT_LIMIT ? 'msg_blocks_too_long' : undefined;
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

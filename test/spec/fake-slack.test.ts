/**
 * The fake Slack refuses what Slack refuses, with the same status and body,
 * so a test that passes against it does not hide a message Slack would drop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../../src/simulator/fake-slack-server.js';

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack.close();
});

const post = async (body: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(slack.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, text: await res.text() };
};

const md = (text: string) => ({ type: 'mrkdwn', text });
const section = (text: string) => ({ type: 'section', text: md(text) });
const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });
const x = (n: number): string => 'x'.repeat(n);

describe('the fake Slack', () => {
  it.each<[string, string, unknown]>([
    ['a header over 150 characters', 'invalid_blocks', { text: 't', blocks: [header(x(151))] }],
    ['a mrkdwn header', 'invalid_blocks', { text: 't', blocks: [{ type: 'header', text: md('h') }] }],
    ['a section text over 3,000 characters', 'invalid_blocks', { text: 't', blocks: [section(x(3001))] }],
    ['an empty section text', 'invalid_blocks', { text: 't', blocks: [section('')] }],
    ['a section field over 2,000 characters', 'invalid_blocks', { text: 't', blocks: [{ type: 'section', fields: [md(x(2001))] }] }],
    ['a section with 11 fields', 'invalid_blocks', { text: 't', blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => md('f')) }] }],
    ['a context with 11 elements', 'invalid_blocks', { text: 't', blocks: [{ type: 'context', elements: Array.from({ length: 11 }, () => md('c')) }] }],
    ['51 blocks', 'invalid_blocks', { text: 't', blocks: Array.from({ length: 51 }, () => section('s')) }],
    ['an unknown block type', 'invalid_blocks', { text: 't', blocks: [{ type: 'banner', text: md('b') }] }],
    ['12,001 characters of block text in all', 'msg_blocks_too_long', { text: 't', blocks: [...Array.from({ length: 4 }, () => section(x(3000))), section('y')] }],
    ['a text over 40,000 characters', 'msg_too_long', { text: x(40_001) }],
    ['no text and no blocks', 'no_text', {}],
    ['a text that is not a string', 'invalid_payload', { text: 5 }],
  ])('refuses %s with 400 %s', async (_name, code, body) => {
    expect(await post(JSON.stringify(body))).toEqual({ status: 400, text: code });
  });

  it('refuses a body that is not JSON with 400 invalid_payload', async () => {
    expect(await post('{')).toEqual({ status: 400, text: 'invalid_payload' });
  });

  it('answers every post with a sticky fault of any status, body and content type until it is cleared', async () => {
    const body = '{"id":"web.incoming_webhook.invalid.app_error","message":"Invalid webhook.","status_code":400}';
    slack.setStickyFault({ kind: 'status', status: 400, body, headers: { 'content-type': 'application/json' } });
    try {
      for (const message of [{ text: 'plain' }, { text: 't', blocks: [section('s')] }]) {
        const res = await fetch(slack.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
        expect({ status: res.status, type: res.headers.get('content-type'), text: await res.text() }).toEqual({ status: 400, type: 'application/json', text: body });
      }
    } finally {
      slack.setStickyFault(undefined);
    }
    expect(await post(JSON.stringify({ text: 'plain' }))).toEqual({ status: 200, text: 'ok' });
  });

  it('takes a message exactly at every limit', async () => {
    const blocks = [
      header(x(150)),
      ...Array.from({ length: 3 }, () => section(x(3000))),
      { type: 'section', fields: Array.from({ length: 10 }, () => md(x(200))) },
      { type: 'context', elements: Array.from({ length: 10 }, () => md(x(85))) },
      ...Array.from({ length: 44 }, () => ({ type: 'divider' })),
    ];
    expect(blocks).toHaveLength(50);
    expect(await post(JSON.stringify({ text: x(40_000), blocks }))).toEqual({ status: 200, text: 'ok' });
  });
});

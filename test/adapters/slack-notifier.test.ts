import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogNotifier, createSlackWebhookNotifier, isChannelNetworkError, parseRetryAfter } from '../../src/adapters/slack-notifier.js';
import type { Notification } from '../../src/core/notification.js';
import { plainTextMessage, renderSlackMessage } from '../../src/core/slack-message.js';
import type { SendResult } from '../../src/ports.js';
import { startFakeSlack, type FakeSlack } from '../../src/simulator/fake-slack-server.js';
import { SlackDeliveryError } from '../../src/core/errors/slack-delivery-error.js';
import { captureLogs } from '../helpers/logger.js';

const notification: Notification = { kind: 'upstream', projectId: 'p', state: 'down', reason: 'unauthorized', detectedAt: 't' };
const REF = 'ref-1';
const message = renderSlackMessage(notification, REF);
const alerts: Notification = {
  kind: 'alerts',
  projectId: 'p',
  integrationId: 'int-1',
  detectedAt: '2026-12-01T14:03:00.000Z',
  installations: 1,
  firing: { unhealthy: 1, operation_failing: 0, bad_credentials: 0 },
  items: [{ installationId: 'a', groupRef: 'org-a', groupName: 'A', provider: 'salesforce', condition: 'unhealthy', event: 'fire', since: 0, firedAt: 0 }],
  omitted: 0,
};

let slack: FakeSlack;
beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  await slack.close();
});

/**
 * The SlackDeliveryError of a send that was not delivered: a `retry` carries it
 * (with `channelDown` set to its message exactly when the webhook is broken).
 */
async function failure(promise: Promise<SendResult>): Promise<SlackDeliveryError> {
  const result = await promise;
  if (result.status !== 'retry' || !(result.error instanceof SlackDeliveryError))
    throw new Error(`expected a retry with a SlackDeliveryError, got ${JSON.stringify(result)}`);
  expect(result.channelDown).toBe(result.error.kind === 'channel' ? result.error.message : undefined);
  return result.error;
}

describe('createSlackWebhookNotifier', () => {
  const notifier = () => createSlackWebhookNotifier({ webhookUrl: slack.webhookUrl, timeoutMs: 500 });

  it('posts text and blocks to the webhook', async () => {
    expect(await notifier().send(notification, REF)).toEqual({ status: 'sent', form: 'rendered', text: message.text });
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]?.body.text).toBe(message.text);
    expect(slack.messages[0]?.path).toBe(new URL(slack.webhookUrl).pathname);
  });

  it.each<[string, Parameters<FakeSlack['inject']>[0], string]>([
    ['a 500', { kind: 'status', status: 500, body: 'internal_error' }, 'retryable'],
    ['a 503', { kind: 'status', status: 503 }, 'retryable'],
    ['no_service', { kind: 'status', status: 404, body: 'no_service' }, 'channel'],
    ['invalid_token', { kind: 'status', status: 403, body: 'invalid_token' }, 'channel'],
    ['action_prohibited', { kind: 'status', status: 403, body: 'action_prohibited' }, 'channel'],
    ['channel_not_found', { kind: 'status', status: 404, body: 'channel_not_found' }, 'channel'],
    ['channel_is_archived', { kind: 'status', status: 410, body: 'channel_is_archived' }, 'channel'],
    ['a bare 404', { kind: 'status', status: 404, body: 'Not Found' }, 'channel'],
    ['a redirect', { kind: 'status', status: 302, body: 'Found', headers: { location: '/elsewhere' } }, 'channel'],
  ])('classifies %s', async (_name, fault, kind) => {
    slack.inject(fault);
    const error = await failure(notifier().send(notification, REF));
    expect(error.kind).toBe(kind);
    expect(error.retryAfterMs).toBeUndefined();
    expect(slack.attempts).toHaveLength(1);
  });

  it('classifies a 429 with Retry-After as rate limited', async () => {
    slack.inject({ kind: 'status', status: 429, body: 'rate_limited', headers: { 'retry-after': '7' } });
    expect(await notifier().send(notification, REF)).toEqual({
      status: 'rate_limited',
      retryAfterMs: 7000,
      details: { status: 429, slackError: 'rate_limited' },
      text: message.text,
    });
    expect(slack.attempts).toHaveLength(1);
  });

  it.each<[string, Parameters<FakeSlack['inject']>[0], string | undefined]>([
    ['invalid_payload', { kind: 'status', status: 400, body: 'invalid_payload' }, 'invalid_payload'],
    ['msg_blocks_too_long', { kind: 'status', status: 400, body: 'msg_blocks_too_long' }, 'msg_blocks_too_long'],
    ['a 400 with no code', { kind: 'status', status: 400, body: '<html>Bad Request</html>' }, undefined],
  ])('classifies %s as a refusal of the message, and sends it as plain text', async (_name, fault, slackError) => {
    slack.inject(fault);
    const result = await notifier().send(notification, REF);
    expect(result).toEqual({
      status: 'sent',
      form: 'plain_text',
      text: message.text,
      fallback: { message: `Slack refused the message (${slackError ?? 'HTTP 400'}); sending it as plain text`, details: { status: 400, slackError } },
    });
    expect(slack.attempts).toHaveLength(2);
    expect(slack.messages.map((m) => m.body)).toEqual([{ text: plainTextMessage(message).text }]);
  });

  it('times out a hanging webhook as retryable, without the secret path in the message', async () => {
    slack.inject({ kind: 'hang' });
    const error = await failure(notifier().send(notification, REF));
    expect(error.kind).toBe('retryable');
    expect(error.message).not.toContain('fakeWebhookSecret123');
  });

  it('reports a refused connection without the webhook URL', async () => {
    const url = slack.webhookUrl;
    await slack.close();
    const error = await failure(createSlackWebhookNotifier({ webhookUrl: url, timeoutMs: 500 }).send(notification, REF));
    expect(error.kind).toBe('retryable');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('fakeWebhookSecret123');
    slack = await startFakeSlack();
  });

  it('does not follow a redirect, and calls it a broken webhook', async () => {
    const other = await startFakeSlack();
    slack.inject({ kind: 'status', status: 301, body: 'Moved', headers: { location: other.webhookUrl } });
    const error = await failure(notifier().send(notification, REF));
    expect(error.kind).toBe('channel');
    expect(error.message).toContain('redirect');
    expect(other.attempts).toHaveLength(0);
    await other.close();
  });

  it('calls a host that does not resolve (ENOTFOUND) a broken webhook', async () => {
    const error = await failure(
      createSlackWebhookNotifier({ webhookUrl: 'http://hooks.nonexistent.invalid/services/T1/B1/dnsSecretToken123', timeoutMs: 2000 }).send(notification, REF),
    );
    expect(error.kind).toBe('channel');
    expect(error.message).toContain('ENOTFOUND');
    expect(error.message).not.toContain('dnsSecretToken123');
  });

  it('calls a TLS failure a broken webhook', async () => {
    // https:// to a plain-HTTP server fails the handshake (ERR_SSL_WRONG_VERSION_NUMBER).
    const url = slack.webhookUrl.replace('http://', 'https://');
    const error = await failure(createSlackWebhookNotifier({ webhookUrl: url, timeoutMs: 2000 }).send(notification, REF));
    expect(error.kind).toBe('channel');
    expect(error.message).not.toContain('fakeWebhookSecret123');
  });

  it('keeps only a short code from a body that echoes the webhook path', async () => {
    const path = new URL(slack.webhookUrl).pathname;
    slack.inject({ kind: 'status', status: 404, body: `<!DOCTYPE html><pre>Cannot POST ${path}</pre>` });
    const error = await failure(notifier().send(notification, REF));
    expect(error.kind).toBe('channel');
    expect(error.slackError).toBeUndefined();
    expect(`${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`).not.toContain('fakeWebhookSecret123');
    expect(error.message).toBe('Slack answered HTTP 404');
  });

  it('sends the plain-text fallback as text only, without blocks', async () => {
    slack.inject({ kind: 'status', status: 400, body: 'invalid_blocks' });
    await notifier().send(notification, REF);
    expect(slack.messages[0]?.body).toEqual({ text: plainTextMessage(message).text });
  });

  it('rejects a message whose plain text is refused with a code naming the message, without a third attempt', async () => {
    slack.inject({ kind: 'status', status: 400, body: 'invalid_blocks' }, { kind: 'status', status: 400, body: 'invalid_payload' });
    const result = await notifier().send(notification, REF);
    expect(result).toMatchObject({
      status: 'rejected',
      reason: 'Slack rejected the message (invalid_payload), also as plain text',
      details: { status: 400, slackError: 'invalid_payload' },
      text: message.text,
    });
    expect(result.fallback?.message).toBe('Slack refused the message (invalid_blocks); sending it as plain text');
    expect(slack.attempts).toHaveLength(2);
  });

  it.each<[string, 'rejected' | 'channel', string, boolean]>([
    ['a layout refused with a bare 400', 'rejected', '<html>400 Bad Request</html>', false],
    ['a plain text refused with a code naming the message', 'rejected', 'invalid_payload', true],
    ['a plain text refused with a bare 400', 'channel', '<html>400 Bad Request</html>', true],
    ["a plain text refused with Mattermost's error for a deleted webhook", 'channel', '{"id":"web.incoming_webhook.invalid.app_error"}', true],
  ])('calls %s: %s', async (_name, kind, body, plainText) => {
    // The layout is refused first (a bare 400 counts as the layout's); the plain-text fallback then meets `body`.
    slack.inject({ kind: 'status', status: 400, body: '<html>400 Bad Request</html>' }, ...(plainText ? [{ kind: 'status' as const, status: 400, body }] : []));
    const result = await notifier().send(notification, REF);
    expect(result.fallback).toBeDefined();
    expect(slack.attempts).toHaveLength(2);
    if (!plainText) {
      expect(result.status).toBe('sent');
      return;
    }
    if (kind === 'rejected') {
      expect(result.status).toBe('rejected');
      return;
    }
    if (result.status !== 'retry' || !(result.error instanceof SlackDeliveryError)) throw new Error(`expected a retry, got ${JSON.stringify(result)}`);
    expect(result.error.kind).toBe('channel');
    expect(result.channelDown).toBe(result.error.message);
    expect(result.error.message).toContain('refused even a plain-text message');
  });

  it('refuses a notification it cannot render as malformed, without posting', async () => {
    const broken = { kind: 'transitions', projectId: 'p', integrationId: 'i', items: null, detectedAt: 't', part: 1, parts: 1 } as unknown as Notification;
    expect(await notifier().send(broken, REF)).toMatchObject({ status: 'rejected', malformed: true });
    expect(slack.attempts).toHaveLength(0);
  });

  it('renders the alerts with the links it is given, not read from the environment', async () => {
    const links = { ampersandDashboardUrl: 'https://dashboard.eu.example.com/', runbookUrl: 'https://wiki.example.com/runbook' };
    await createSlackWebhookNotifier({ webhookUrl: slack.webhookUrl, timeoutMs: 500, links }).send(alerts, REF);
    const blocks = JSON.stringify(slack.messages[0]?.body.blocks);
    expect(blocks).toContain('<https://dashboard.eu.example.com/|Ampersand dashboard>');
    expect(blocks).toContain('<https://wiki.example.com/runbook|Runbook>');
    expect(blocks).toBe(JSON.stringify(renderSlackMessage(alerts, REF, links).blocks));
  });

  it('names only the host as its target', () => {
    expect(notifier().target).not.toContain('fakeWebhookSecret123');
  });
});

/**
 * Certificates made at test time with the openssl CLI: a self-signed one for
 * 127.0.0.1, and a test CA with a leaf for another host name.
 */
function makeCertificates(dir: string): Record<'selfKey' | 'selfCert' | 'caKey' | 'caCert' | 'leafKey' | 'leafCert', Buffer> {
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=ahm test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  openssl('req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=elsewhere.test');
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:elsewhere.test\n');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'leaf.crt');
  const read = (name: string): Buffer => readFileSync(join(dir, name));
  return {
    selfKey: read('self.key'),
    selfCert: read('self.crt'),
    caKey: read('ca.key'),
    caCert: read('ca.crt'),
    leafKey: read('leaf.key'),
    leafCert: read('leaf.crt'),
  };
}

/**
 * Node's fetch trusting `ca` as well: an Agent of the undici bundled with Node (its
 * global dispatcher's class, shared under this symbol), passed as fetch's dispatcher.
 * The request and the handshake stay real.
 */
async function fetchTrusting(ca: Buffer): Promise<typeof globalThis.fetch> {
  const key = Symbol.for('undici.globalDispatcher.1');
  if ((globalThis as Record<symbol, unknown>)[key] === undefined) await fetch('data:,').catch(() => undefined);
  const Agent = ((globalThis as Record<symbol, unknown>)[key] as { constructor: new (options: object) => unknown }).constructor;
  const dispatcher = new Agent({ connect: { ca } });
  return (input, init) => fetch(input, { ...init, dispatcher } as RequestInit);
}

describe('createSlackWebhookNotifier over HTTPS', () => {
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  const servers: Server[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ahm-tls-'));
    certs = makeCertificates(dir);
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(key: Buffer, cert: Buffer): Promise<string> {
    const server = createServer({ key, cert }, (_req, res) => res.end('ok'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}/services/T1/B1/tlsSecretToken123`;
  }

  it('calls a self-signed certificate a broken webhook', async () => {
    const url = await serve(certs.selfKey, certs.selfCert);
    const error = await failure(createSlackWebhookNotifier({ webhookUrl: url, timeoutMs: 2000 }).send(notification, REF));
    expect(error.kind).toBe('channel');
    expect(error.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(error.message).not.toContain('tlsSecretToken123');
  });

  it('calls a certificate from an untrusted CA a broken webhook', async () => {
    const url = await serve(certs.leafKey, certs.leafCert);
    const error = await failure(createSlackWebhookNotifier({ webhookUrl: url, timeoutMs: 2000 }).send(notification, REF));
    expect(error.kind).toBe('channel');
    expect(error.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('calls a trusted certificate for another host name a broken webhook', async () => {
    const url = await serve(certs.leafKey, certs.leafCert);
    const error = await failure(
      createSlackWebhookNotifier({ webhookUrl: url, timeoutMs: 2000, fetch: await fetchTrusting(certs.caCert) }).send(notification, REF),
    );
    expect(error.kind).toBe('channel');
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('posts to a server whose certificate is trusted and names the host', async () => {
    const url = await serve(certs.selfKey, certs.selfCert);
    expect(
      (await createSlackWebhookNotifier({ webhookUrl: url, timeoutMs: 2000, fetch: await fetchTrusting(certs.selfCert) }).send(notification, REF)).status,
    ).toBe('sent');
  });
});

describe('isChannelNetworkError', () => {
  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'INVALID_CA',
    'HOSTNAME_MISMATCH',
    'PATH_LENGTH_EXCEEDED',
    'INVALID_PURPOSE',
    'UNABLE_TO_GET_CRL',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'ENOTFOUND',
  ])("calls %s the channel's fault", (code) => {
    expect(isChannelNetworkError({ code })).toBe(true);
  });

  it("calls any error from OpenSSL's SSL routines the channel's fault", () => {
    expect(isChannelNetworkError({ code: 'SOMETHING_NEW', library: 'SSL routines' })).toBe(true);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_HANDSHAKE_TIMEOUT', 'EAI_AGAIN'])('retries %s', (code) => {
    expect(isChannelNetworkError({ code })).toBe(false);
  });
});

describe('SlackDeliveryError', () => {
  it('keeps slackError only when it is a short [a-z_] code', () => {
    expect(new SlackDeliveryError('m', 'channel', { slackError: 'no_service' }).slackError).toBe('no_service');
    expect(new SlackDeliveryError('m', 'channel', { slackError: 'Cannot POST /services/T1/B1/secret' }).slackError).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | null, number]>([
    ['3', 3000],
    ['0.5', 500],
    [null, 1000],
    ['nonsense', 1000],
    [new Date(10_000).toUTCString(), 9000],
    // Slack's answer as it is: the alerts worker holds the queue for at least 1 s (rateLimitHoldMs).
    ['0', 0],
    [new Date(0).toUTCString(), 0],
  ])('reads %j as %i ms', (value, ms) => {
    expect(parseRetryAfter(value, 1000)).toBe(ms);
  });
});

describe('createLogNotifier', () => {
  it('logs the alert at warn level', async () => {
    const logs = captureLogs();
    expect(await createLogNotifier(logs.logger).send(notification, REF)).toEqual({ status: 'sent', form: 'logged', text: message.text });
    expect(logs.lines()).toEqual([expect.objectContaining({ level: 'warn', slackText: message.text })]);
  });

  it('renders the alerts with the links it is given', async () => {
    const logs = captureLogs();
    await createLogNotifier(logs.logger, { ampersandDashboardUrl: 'https://dashboard.eu.example.com/' }).send(alerts, REF);
    expect(JSON.stringify(logs.lines()[0]?.['blocks'])).toContain('<https://dashboard.eu.example.com/|Ampersand dashboard>');
  });
});

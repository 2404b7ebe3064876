/**
 * Delivers notifications to a Slack incoming webhook with @slack/webhook: it
 * renders them with the pure core (core/slack-message.ts), retries a message
 * Slack refuses for its layout once as plain text, and classifies Slack's
 * answer into a SendResult (never throwing for one). The library is given an
 * explicit timeout and no retries of its own: the alert queue decides retries,
 * so that a Slack outage delays messages but never drops or doubles them.
 */
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError, type IncomingWebhookSendArguments } from '@slack/webhook';
import type { Logger } from 'pino';
import type { Notification } from '../core/notification.js';
import { plainTextMessage, renderSlackMessage, type MessageLinks, type SlackMessage } from '../core/slack-message.js';
import { SlackDeliveryError, slackErrorCode } from '../core/errors/slack-delivery-error.js';
import { toError } from '../core/errors/to-error.js';
import type { Notifier, NotifierWording, SendFallback, SendResult } from '../ports.js';
import { createScrubber } from '../scrub-secrets.js';

/** How delivery names Slack in its log lines. */
export const slackWording: NotifierWording = { service: 'Slack', endpoint: 'webhook', fixHint: 'Check SLACK_WEBHOOK_URL and the channel.' };

/**
 * Renders a notification, or says why it cannot be: a notification that
 * cannot be made into a message is refused as malformed, never retried.
 */
function render(
  notification: Notification,
  ref: string,
  links: MessageLinks | undefined,
): { ok: true; message: SlackMessage } | { ok: false; result: SendResult } {
  try {
    return { ok: true, message: renderSlackMessage(notification, ref, links) };
  } catch (error) {
    return {
      ok: false,
      result: { status: 'rejected', reason: `the notification cannot be rendered: ${toError(error).message}`, details: {}, malformed: true, text: '' },
    };
  }
}

export interface SlackWebhookNotifierOptions {
  readonly webhookUrl: string;
  readonly timeoutMs: number;
  readonly fetch?: typeof globalThis.fetch;
  /** Where the messages link (AMPERSAND_DASHBOARD_URL, RUNBOOK_URL); the renderer's defaults when absent. */
  readonly links?: MessageLinks;
  /** How delivery names this webhook in its logs; slackWording (SLACK_WEBHOOK_URL) when absent. A route's names where its URL is set. */
  readonly wording?: NotifierWording;
}

/** Codes that name the message: another rendering of it (plain text) may pass. */
const PAYLOAD_ERRORS: ReadonlySet<string> = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_blocks_too_long',
  'invalid_payload',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
]);

/**
 * Codes with which Slack refuses a message for what it holds. A plain-text
 * message within 4,000 characters passes any working webhook, so only these
 * refusals of it are the message's; any other (a bare 400, Mattermost's JSON
 * error for a deleted webhook, a proxy's page) is the channel's.
 */
const MESSAGE_ERRORS: ReadonlySet<string> = new Set(['invalid_payload', 'msg_too_long', 'no_text', 'invalid_blocks', 'msg_blocks_too_long']);

/** Codes that name the webhook or its channel: no message can pass until someone fixes it. */
const CHANNEL_ERRORS: ReadonlySet<string> = new Set([
  'no_service',
  'no_service_id',
  'no_team',
  'team_disabled',
  'invalid_token',
  'invalid_auth',
  'channel_not_found',
  'channel_is_archived',
  'action_prohibited',
  'posting_to_general_channel_denied',
  'user_not_found',
]);

/**
 * The certificate verification codes Node gives a TLS error, one per OpenSSL
 * X509_V_ERR_* it names (X509ErrorCode in Node's crypto_common.cc; UNSPECIFIED
 * is its fallback). None of them passes on a retry: the certificate, its chain
 * or the host name is wrong until someone changes the URL or the server.
 */
const X509_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'OUT_OF_MEM',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'UNSPECIFIED',
]);

/**
 * Whether a request error means "this URL is wrong", not "try again in a
 * second": a host that does not resolve, or any TLS handshake or verification
 * failure (an X509 verify code, Node's ERR_TLS_* such as ERR_TLS_CERT_ALTNAME_INVALID,
 * OpenSSL's ERR_SSL_*, or an error from OpenSSL's "SSL routines"). A handshake
 * that timed out is the network's, as a connect timeout is.
 */
export function isChannelNetworkError(cause: { readonly code?: unknown; readonly library?: unknown } | undefined): boolean {
  const code = typeof cause?.code === 'string' ? cause.code : '';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return false;
  return (
    code === 'ENOTFOUND' ||
    code === 'EPROTO' ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    X509_VERIFY_CODES.has(code) ||
    cause?.library === 'SSL routines'
  );
}

/**
 * Decides whether an HTTP refusal is about this message or about the channel.
 * Unknown 4xx other than 400/413 count as the channel's: pausing loses nothing,
 * while dead-lettering message after message would empty the outbox. A plain-text
 * message (the fallback for a refused layout) within 4,000 characters passes any
 * working webhook, so only a code naming the message makes its refusal the
 * message's; a bare 400 or 413, Mattermost's `{"id":"web.incoming_webhook.invalid.app_error"}`
 * for a deleted webhook or a proxy's page then mean the webhook takes nothing.
 */
function classifyStatus(status: number, code: string | undefined, plainText: boolean): 'rejected' | 'channel' {
  if (code !== undefined && CHANNEL_ERRORS.has(code)) return 'channel';
  if (plainText) return code !== undefined && MESSAGE_ERRORS.has(code) ? 'rejected' : 'channel';
  if (code !== undefined && PAYLOAD_ERRORS.has(code)) return 'rejected';
  return status === 400 || status === 413 ? 'rejected' : 'channel';
}

/** Parses Retry-After (seconds or HTTP date) into milliseconds; defaults to 1 s as Slack documents. */
export function parseRetryAfter(value: string | null, nowMs: number): number {
  if (value === null) return 1000;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - nowMs);
}

/**
 * The Slack webhook as a Notifier. `send` renders the notification, posts it
 * and, if Slack refuses the layout or size (`rejected`), posts the same alert
 * as plain text once; only a refusal of that with a code naming the message
 * rejects it for good. A broken webhook comes back as `retry` with
 * `channelDown`, a 5xx or a network error as a plain `retry`, a 429 as
 * `rate_limited` with Slack's Retry-After.
 */
export function createSlackWebhookNotifier(options: SlackWebhookNotifierOptions): Notifier {
  const { webhookUrl } = options;
  const url = new URL(webhookUrl);
  const target = `${url.protocol}//${url.host}/…`;
  // The token is the last path segment; a receiver or a proxy may echo any of these forms.
  const scrub = createScrubber([webhookUrl, url.pathname, url.pathname.split('/').pop() ?? ''].filter((s) => s.length >= 8));
  const baseFetch = options.fetch ?? globalThis.fetch;

  /** Posts one message; throws SlackDeliveryError when Slack did not take it. */
  async function post(message: SlackMessage): Promise<void> {
    // @slack/webhook's HTTP error carries no headers; this seam keeps Retry-After. It also
    // asks for redirects as they are (the library would fail them as a bare network error):
    // a webhook that redirects is misconfigured, and its Location is never followed.
    let retryAfter: string | null = null;
    const fetchFn = async (input: string | URL, init?: RequestInit): Promise<Response> => {
      const response = await baseFetch(input, { ...init, redirect: 'manual' });
      retryAfter = response.headers.get('retry-after');
      return response;
    };
    const plainText = message.blocks.length === 0;
    const webhook = new IncomingWebhook(webhookUrl, { timeout: options.timeoutMs, retryConfig: { retries: 0 }, fetch: fetchFn });
    // A plain-text message (the fallback for a refused layout) carries no blocks at all.
    const payload: IncomingWebhookSendArguments = plainText ? { text: message.text } : { text: message.text, blocks: [...message.blocks] };
    try {
      await webhook.send(payload);
    } catch (error) {
      if (error instanceof IncomingWebhookHTTPError) {
        // Only a short code is kept from the body; the status message is the receiver's too.
        const slackError = slackErrorCode(error.body.slice(0, 100));
        const status = error.statusCode;
        const what = `HTTP ${status}${slackError === undefined ? '' : ` ${slackError}`}`;
        if (status === 429) {
          const retryAfterMs = parseRetryAfter(retryAfter, Date.now());
          throw new SlackDeliveryError(`Slack rate limited the webhook (429), retry after ${retryAfterMs} ms`, 'rate_limited', {
            status,
            retryAfterMs,
            ...(slackError === undefined ? {} : { slackError }),
          });
        }
        const details = { status, ...(slackError === undefined ? {} : { slackError }) };
        if (status >= 500) throw new SlackDeliveryError(`Slack answered ${what}`, 'retryable', details);
        if (status >= 300 && status < 400)
          throw new SlackDeliveryError(`the webhook answered with a redirect (${what}); it is not followed: check SLACK_WEBHOOK_URL`, 'channel', details);
        const kind = classifyStatus(status, slackError, plainText);
        const why =
          plainText && kind === 'channel'
            ? `the webhook refused even a plain-text message (${what}), with no Slack code naming the message: check SLACK_WEBHOOK_URL`
            : `Slack answered ${what}`;
        throw new SlackDeliveryError(why, kind, details);
      }
      if (error instanceof IncomingWebhookRequestError) {
        const original = error.original;
        const cause = original.cause as (Error & { code?: unknown; library?: unknown }) | undefined;
        const code = typeof cause?.code === 'string' ? cause.code : '';
        // The code (DEPTH_ZERO_SELF_SIGNED_CERT, ENOTFOUND …) is what an operator searches for.
        const detail = cause instanceof Error ? `: ${cause.message}${code !== '' && !cause.message.includes(code) ? ` (${code})` : ''}` : '';
        const kind = isChannelNetworkError(cause) ? 'channel' : 'retryable';
        throw new SlackDeliveryError(scrub(`Slack webhook request failed (${original.name}: ${original.message}${detail})`, 300), kind);
      }
      throw new SlackDeliveryError(scrub(`Slack webhook request failed (${toError(error).message})`, 300), 'retryable');
    }
  }

  /** Posts one message; resolves to the SlackDeliveryError when Slack did not take it. */
  const attempt = (message: SlackMessage): Promise<SlackDeliveryError | undefined> =>
    post(message).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof SlackDeliveryError) return error;
        throw error;
      },
    );

  return {
    target,
    wording: options.wording ?? slackWording,
    async send(notification, ref) {
      const rendered = render(notification, ref, options.links);
      if (!rendered.ok) return rendered.result;
      const { message } = rendered;
      let failure = await attempt(message);
      let fallback: SendFallback | undefined;
      if (failure?.kind === 'rejected') {
        // Slack refused this message's layout or size; the same alert as plain text gets through.
        fallback = {
          message: `Slack refused the message (${failure.slackError ?? `HTTP ${failure.status}`}); sending it as plain text`,
          details: { status: failure.status, slackError: failure.slackError },
        };
        failure = await attempt(plainTextMessage(message));
      }
      // The log lines of delivery show the rendered text, also after a fallback.
      const report = { text: message.text, ...(fallback === undefined ? {} : { fallback }) };
      if (failure === undefined) return { ...report, status: 'sent', form: fallback === undefined ? 'rendered' : 'plain_text' };
      const details = { status: failure.status, slackError: failure.slackError };
      switch (failure.kind) {
        case 'rate_limited':
          return { ...report, status: 'rate_limited', retryAfterMs: failure.retryAfterMs ?? 1000, details };
        case 'channel':
          return { ...report, status: 'retry', error: failure, details, channelDown: failure.message };
        case 'rejected':
          return {
            ...report,
            status: 'rejected',
            reason: `Slack rejected the message (${failure.slackError || `HTTP ${failure.status}`}), also as plain text`,
            details,
          };
        case 'retryable':
          return { ...report, status: 'retry', error: failure, details };
      }
    },
  };
}

/** Without SLACK_WEBHOOK_URL, alerts are rendered as for Slack and logged at warn level instead of posted. */
export function createLogNotifier(logger: Logger, links?: MessageLinks): Notifier {
  return {
    target: 'log',
    wording: slackWording,
    // The port is async; `async` keeps a throw (say, from the logger) a rejection, as the webhook's are.
    // eslint-disable-next-line @typescript-eslint/require-await
    async send(notification, ref) {
      const rendered = render(notification, ref, links);
      if (!rendered.ok) return rendered.result;
      const { message } = rendered;
      logger.warn({ slackText: message.text, blocks: message.blocks }, `alert (SLACK_WEBHOOK_URL unset): ${message.text}`);
      return { status: 'sent', form: 'logged', text: message.text };
    },
  };
}

/**
 * Posts rendered messages to a Slack incoming webhook with @slack/webhook.
 * The library is given an explicit timeout and no retries of its own: the
 * alert queue decides retries, so that a Slack outage delays messages but
 * never drops or doubles them.
 */
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import type { Logger } from 'pino';
import type { SlackMessage } from '../core/slack-message.js';
import { SlackDeliveryError } from '../errors/slack-delivery-error.js';

export interface SlackNotifier {
  /** Resolves once Slack accepted the message; throws SlackDeliveryError otherwise. */
  send(message: SlackMessage): Promise<void>;
  /** For logs and /readyz: where messages go, without the secret part. */
  readonly target: string;
}

export interface SlackWebhookNotifierOptions {
  readonly webhookUrl: string;
  readonly timeoutMs: number;
  readonly fetch?: typeof globalThis.fetch;
}

/** Parses Retry-After (seconds or HTTP date) into milliseconds; defaults to 1 s as Slack documents. */
export function parseRetryAfter(value: string | null, nowMs: number): number {
  if (value === null) return 1000;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - nowMs);
}

export function createSlackWebhookNotifier(options: SlackWebhookNotifierOptions): SlackNotifier {
  const { webhookUrl } = options;
  const url = new URL(webhookUrl);
  const target = `${url.protocol}//${url.host}/…`;
  const scrub = (s: string): string => s.split(webhookUrl).join('[webhook]').split(url.pathname).join('/…');
  const baseFetch = options.fetch ?? globalThis.fetch;

  return {
    target,
    async send(message) {
      // @slack/webhook's HTTP error carries no headers; this seam keeps Retry-After.
      let retryAfter: string | null = null;
      const fetchFn = async (input: string | URL, init?: RequestInit): Promise<Response> => {
        const response = await baseFetch(input, init);
        retryAfter = response.headers.get('retry-after');
        return response;
      };
      const webhook = new IncomingWebhook(webhookUrl, { timeout: options.timeoutMs, retryConfig: { retries: 0 }, fetch: fetchFn });
      try {
        await webhook.send({ text: message.text, blocks: [...message.blocks] as never });
      } catch (error) {
        if (error instanceof IncomingWebhookHTTPError) {
          const slackError = error.body.trim().slice(0, 100);
          const status = error.statusCode;
          if (status === 429) {
            const retryAfterMs = parseRetryAfter(retryAfter, Date.now());
            throw new SlackDeliveryError(`Slack rate limited the webhook (429), retry after ${retryAfterMs} ms`, 'rate_limited', { status, retryAfterMs, slackError });
          }
          const kind = status >= 500 ? 'retryable' : 'rejected';
          throw new SlackDeliveryError(scrub(`Slack answered HTTP ${status}: ${slackError || error.statusMessage}`), kind, { status, slackError });
        }
        if (error instanceof IncomingWebhookRequestError) {
          const original = error.original;
          const cause = original.cause instanceof Error ? `: ${original.cause.message}` : '';
          throw new SlackDeliveryError(scrub(`Slack webhook request failed (${original.name}: ${original.message}${cause})`), 'retryable');
        }
        throw new SlackDeliveryError(scrub(`Slack webhook request failed (${error instanceof Error ? error.message : String(error)})`), 'retryable');
      }
    },
  };
}

/** Without SLACK_WEBHOOK_URL, alerts are logged at warn level instead of posted. */
export function createLogNotifier(logger: Logger): SlackNotifier {
  return {
    target: 'log',
    async send(message) {
      logger.warn({ slackText: message.text, blocks: message.blocks }, `alert (SLACK_WEBHOOK_URL unset): ${message.text}`);
    },
  };
}

/**
 * A message Slack did not take. `kind` decides what happens next:
 * - `retryable`: 5xx, a timeout or a refused connection; retried with backoff up to the horizon.
 * - `rate_limited`: 429; wait `retryAfterMs`, then retry.
 * - `rejected`: Slack refused this message (400 invalid_blocks, msg_blocks_too_long,
 *   invalid_payload, msg_too_long …); resending it unchanged cannot help.
 * - `channel`: the webhook itself is broken (no_service, invalid_token,
 *   channel_is_archived, 403/404/410, a redirect, a DNS or TLS failure): a
 *   configuration fault of the channel, not of one message, so delivery pauses.
 * The message never contains the webhook URL: its path is the secret.
 */
export type SlackFailureKind = 'retryable' | 'rate_limited' | 'rejected' | 'channel';

/** What a Slack error code looks like; anything else in a body (an echoed path, HTML) is not kept. */
const ERROR_CODE_PATTERN = /^[a-z_]{1,64}$/;

/** Keeps `value` only if it is a short Slack error code such as `invalid_payload`. */
export function slackErrorCode(value: string | undefined): string | undefined {
  const code = value?.trim();
  return code !== undefined && ERROR_CODE_PATTERN.test(code) ? code : undefined;
}

export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
  readonly kind: SlackFailureKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /**
   * Slack's error code from the response body, such as `invalid_payload`, and
   * only that: a receiver that echoes the request path (`Cannot POST /services/…`)
   * would otherwise carry the webhook token into logs and BullMQ's failedReason.
   */
  readonly slackError: string | undefined;

  constructor(message: string, kind: SlackFailureKind, details: { status?: number; retryAfterMs?: number; slackError?: string } = {}) {
    super(message);
    this.kind = kind;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.slackError = slackErrorCode(details.slackError);
  }
}

/**
 * A message Slack did not take. `kind` decides what happens next:
 * - `retryable`: 5xx or no answer; retried with backoff up to the horizon.
 * - `rate_limited`: 429; wait `retryAfterMs`, then retry.
 * - `rejected`: any other 4xx (invalid_payload, no_service, channel_is_archived,
 *   404, 410 …); no retry can fix it.
 * The message never contains the webhook URL: its path is the secret.
 */
export type SlackFailureKind = 'retryable' | 'rate_limited' | 'rejected';

export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
  readonly kind: SlackFailureKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** Slack's error code from the response body, such as `invalid_payload`. */
  readonly slackError: string | undefined;

  constructor(message: string, kind: SlackFailureKind, details: { status?: number; retryAfterMs?: number; slackError?: string } = {}) {
    super(message);
    this.kind = kind;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.slackError = details.slackError;
  }
}

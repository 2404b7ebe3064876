/**
 * A delivery the job has already logged with its reason (a failed send to be
 * retried, or a broken channel that pauses delivery), thrown so that BullMQ
 * backs the job off. The worker does not log it a second time, whatever the
 * channel's own error type: the message is the channel's, the cause its error.
 */
export class DeliveryRetryError extends Error {
  override readonly name = 'DeliveryRetryError';

  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

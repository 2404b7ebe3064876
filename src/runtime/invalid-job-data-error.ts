import { UnrecoverableError } from 'bullmq';

/**
 * A job whose data is not what its job takes (an older release, a manual add,
 * a corrupt entry). Unrecoverable: no retry can mend the payload. The message
 * names the job and the field.
 */
export class InvalidJobDataError extends UnrecoverableError {
  override readonly name = 'InvalidJobDataError';
}

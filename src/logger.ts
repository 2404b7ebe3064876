/**
 * The pino logger of the service. Redaction is a second line of defence: the
 * adapters already keep the API key and the webhook URL out of what they log
 * and of the errors they throw.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'webhookUrl',
  '*.webhookUrl',
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  'headers["X-Api-Key"]',
  '*.headers["X-Api-Key"]',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'ampersand-health-monitor' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The pino logger of the service. Redaction is a second line of defence: the
 * adapters already keep the API key and the webhook URL out of what they log
 * and of the errors they throw.
 */
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { serviceVersion } from './service-version.js';

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

/**
 * One JSON line per event, readable without pino's tools: the level by name
 * (`"level":"warn"`), the time in ISO 8601, and which process and build wrote it
 * (pid, hostname, service version).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    // Setting `base` replaces pino's default pid and hostname, so they are listed again.
    base: { service: 'ampersand-health-monitor', version: serviceVersion(), pid: process.pid, hostname: hostname() },
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { toError } from '../src/core/errors/to-error.js';
import { captureLogs } from './helpers/logger.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('createLogger', () => {
  it('writes the level by name, an ISO time, the pid, the hostname and the service version', () => {
    const logs = captureLogs();
    logs.logger.warn({ integrationId: 'int-1' }, 'something to look at');
    const [line] = logs.lines();
    expect(line).toMatchObject({
      level: 'warn',
      pid: process.pid,
      hostname: hostname(),
      service: 'ampersand-health-monitor',
      version,
      integrationId: 'int-1',
      msg: 'something to look at',
    });
    expect(line?.['time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('still hides the API key', () => {
    const logs = captureLogs();
    logs.logger.info({ apiKey: 'amp-secret-key' }, 'config');
    expect(logs.text()).not.toContain('amp-secret-key');
  });

  it('logs an error as { err } with its type, message and stack, whatever was thrown', () => {
    const logs = captureLogs();
    logs.logger.warn({ err: toError(new RangeError('too deep')) }, 'a');
    logs.logger.warn({ err: toError('a string was thrown') }, 'b');
    logs.logger.warn({ err: toError({ code: 42 }) }, 'c');
    const [a, b, c] = logs.lines().map((l) => l['err'] as { type?: string; message?: string; stack?: string });
    expect(a).toMatchObject({ type: 'RangeError', message: 'too deep' });
    expect(a?.stack).toContain('RangeError: too deep\n    at ');
    expect(b).toMatchObject({ type: 'Error', message: 'a string was thrown' });
    expect(c).toMatchObject({ type: 'Error', message: '{"code":42}' });
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createFatalHandler } from '../src/fatal-handler.js';

const key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh';
const env = { AMPERSAND_API_KEY: key, SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0AAAA111/B0BBBB222/abcdEFGHijklMNOPqrstUVWX' };

function run(error: unknown, origin?: string): { lines: string[]; codes: number[] } {
  const lines: string[] = [];
  const codes: number[] = [];
  createFatalHandler({ write: (line) => lines.push(line), exit: (code) => codes.push(code), env })(error, origin);
  return { lines, codes };
}

describe('createFatalHandler', () => {
  it('writes one scrubbed fatal line naming where the error came from, and exits 1', () => {
    const { lines, codes } = run(new TypeError(`Headers.append: "${key}"\nis an invalid header value`), 'uncaughtException');
    expect(lines).toEqual(['fatal: uncaughtException: TypeError: Headers.append: "[redacted]" is an invalid header value\n']);
    expect(codes).toEqual([1]);
  });

  it('scrubs a rejection reason that is not an Error', () => {
    const { lines, codes } = run({ toString: () => `webhook ${env.SLACK_WEBHOOK_URL} failed` }, 'unhandledRejection');
    expect(lines).toEqual(['fatal: unhandledRejection: webhook [redacted] failed\n']);
    expect(codes).toEqual([1]);
  });

  it('cuts a very long message without leaving the start of a secret at the cut', () => {
    // The start of the key, as a library that cut its own message may have left it.
    const [line] = run(new Error(`${'x'.repeat(1995)}${key.slice(0, 12)} and more`)).lines;
    expect(line).toBe(`fatal: ${'x'.repeat(1995)}\n`);
  });
});

describe('installFatalHandlers', () => {
  it.each([
    ['uncaughtException', `setTimeout(() => { throw new Error('boom ' + process.env.AMPERSAND_API_KEY); })`],
    ['unhandledRejection', `Promise.reject(new Error('boom ' + process.env.AMPERSAND_API_KEY));`],
  ])(
    'turns an %s into one scrubbed fatal line and exit code 1',
    async (origin, crash) => {
      const script = `
      import { createFatalHandler, installFatalHandlers } from './src/fatal-handler.ts';
      installFatalHandlers(process, createFatalHandler({ write: (l) => process.stderr.write(l), exit: (c) => process.exit(c), env: process.env }));
      ${crash}`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { PATH: process.env['PATH'], ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(1);
      expect(out).toBe(`fatal: ${origin}: boom [redacted]\n`);
    },
    20_000,
  );
});

import { describe, expect, it } from 'vitest';
import { createScrubber, scrubSecrets } from '../src/scrub-secrets.js';

const env = {
  AMPERSAND_API_KEY: 'amp-key-1234\nsecond-half-5678',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0AAAA111/B0BBBB222/abcdEFGHijklMNOPqrstUVWX',
  REDIS_URL: 'redis://:redis-pass-999@redis:6379',
};

describe('scrubSecrets', () => {
  it.each([
    ['the whole API key', `Headers.append: "${env.AMPERSAND_API_KEY}" is an invalid header value.`],
    ['the API key JSON-escaped', `bad header ${JSON.stringify(env.AMPERSAND_API_KEY)}`],
    ['one line of a multi-line API key', 'value second-half-5678 rejected'],
    ['the webhook URL', `POST ${env.SLACK_WEBHOOK_URL} failed`],
    ['the webhook path, echoed by a receiver', 'Cannot POST /services/T0AAAA111/B0BBBB222/abcdEFGHijklMNOPqrstUVWX'],
    ['the webhook token URL-encoded', 'path=%2Fservices%2FT0AAAA111%2FB0BBBB222%2FabcdEFGHijklMNOPqrstUVWX'],
    ['the Redis password', 'WRONGPASS redis-pass-999'],
  ])('removes %s', (_what, text) => {
    const scrubbed = scrubSecrets(text, env);
    for (const secret of ['amp-key-1234', 'second-half-5678', 'abcdEFGHijklMNOPqrstUVWX', 'T0AAAA111', 'redis-pass-999']) {
      expect(scrubbed).not.toContain(secret);
    }
    expect(scrubbed).toContain('[redacted]');
  });

  it('removes the password of a redis+cluster:// REDIS_URL with several hosts', () => {
    const cluster = { REDIS_URL: 'redis+cluster://mon:cluster-pass-42@a:7000,b:7001' };
    expect(scrubSecrets('NOAUTH cluster-pass-42 refused', cluster)).toBe('NOAUTH [redacted] refused');
  });

  it('leaves a text without secrets as it is', () => {
    expect(scrubSecrets('connect ECONNREFUSED 127.0.0.1:6379 (services down)', env)).toBe('connect ECONNREFUSED 127.0.0.1:6379 (services down)');
  });

  it('does nothing when no secret is configured', () => {
    expect(scrubSecrets('fatal thing', {})).toBe('fatal thing');
  });
});

describe('scrubSecrets with short values', () => {
  it('cuts a short whole key, but not a key so short that it would mangle the line', () => {
    expect(scrubSecrets('key abcd rejected', { AMPERSAND_API_KEY: 'abcd' })).toBe('key [redacted] rejected');
    expect(scrubSecrets('Redis is not reachable', { AMPERSAND_API_KEY: 'k' })).toBe('Redis is not reachable');
  });
});

describe('createScrubber', () => {
  const key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh';
  const scrub = createScrubber([key]);

  describe('when the text is cut to a length', () => {
    it('scrubs before it cuts, so a key across the cut leaves nothing of itself', () => {
      const text = `${'y'.repeat(470)} key ${key} is not valid`;
      expect(scrub(text, 500)).toBe(`${'y'.repeat(470)} key [redacted] is not valid`);
      expect(scrub(text, 480)).toBe(`${'y'.repeat(470)} key [reda`);
    });

    it('drops an ending that is the start of the key, as another cut may have left it', () => {
      expect(scrub(`${'y'.repeat(20)} sk_live_4eC39 and more`, 30)).toBe(`${'y'.repeat(20)} `);
      expect(scrub(`${'y'.repeat(20)} sk_live_4eC39 and more`, 24)).toBe(`${'y'.repeat(20)} sk_`);
    });

    it('leaves a text within the length as it is', () => {
      expect(scrub('short sk_live', 500)).toBe('short sk_live');
    });
  });

  it.each([
    ['JSON-escaped', JSON.stringify('a"b\\c-secret-1')],
    ['URL-encoded', encodeURIComponent('a"b\\c-secret-1')],
    ['URL-encoded with lower-case hex', encodeURIComponent('a"b\\c-secret-1').replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
    ['form-encoded', new URLSearchParams({ k: 'a b+c-secret-1' }).toString().slice(2)],
  ])('removes a secret %s', (_form, echoed) => {
    const out = createScrubber(['a"b\\c-secret-1', 'a b+c-secret-1'])(`got ${echoed}!`);
    expect(out).not.toContain('secret-1');
    expect(out).toContain('[redacted]');
  });

  it('ignores an empty secret', () => {
    expect(createScrubber([''])('text', 2)).toBe('te');
  });
});

import { describe, expect, it } from 'vitest';
import { requestPath } from '../../src/core/request-target.js';

describe('requestPath', () => {
  describe('for an origin-form target', () => {
    it.each([
      ['/metrics', '/metrics'],
      ['/', '/'],
      ['/readyz?verbose=1&x=/y?', '/readyz'],
      ['/a/b/', '/a/b/'],
      ['/%7Euser', '/%7Euser'],
    ])('returns the path of %s', (target, path) => {
      expect(requestPath(target)).toBe(path);
    });

    it.each(['//', '//[', '/\\', '//:99999', '/a b', '/%zz', '/metrics#x', '/\u00e9', '/\u0000'])(
      'returns undefined for %s, which new URL() rejects or misreads',
      (target) => {
        expect(requestPath(target)).toBeUndefined();
      },
    );
  });

  describe('for an absolute-form target', () => {
    it('returns its path, as RFC 9112 requires a server to accept it', () => {
      expect(requestPath('http://monitor:9464/metrics?x=1')).toBe('/metrics');
      expect(requestPath('HTTPS://x/healthz')).toBe('/healthz');
    });

    it.each(['http://[', 'http://x:99999/', 'ftp://x/metrics'])('returns undefined for %s', (target) => {
      expect(requestPath(target)).toBeUndefined();
    });
  });

  it.each(['*', 'example.com:443', 'metrics', ''])('returns undefined for the target %j', (target) => {
    expect(requestPath(target)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { describeClusterTarget, hashTagOf, isClusterUrl, nodeUrl, parseClusterUrl } from '../../src/core/redis-cluster-target.js';

const target = {
  nodes: [
    { host: '10.0.0.1', port: 7000 },
    { host: '::1', port: 7001 },
  ],
  username: 'mon itor',
  password: 'p@ss:w/rd',
  tls: true,
} as const;

describe('describeClusterTarget', () => {
  it('shows the nodes and the user, never the password', () => {
    expect(describeClusterTarget(target)).toBe('rediss+cluster://mon%20itor:***@10.0.0.1:7000,[::1]:7001');
    expect(describeClusterTarget({ ...target, username: undefined, password: undefined, tls: false })).toBe('redis+cluster://10.0.0.1:7000,[::1]:7001');
  });
});

describe('nodeUrl', () => {
  it('gives one node as a URL with the cluster credentials, escaped, that parses back to them', () => {
    const url = new URL(nodeUrl(target, { host: '::1', port: 7001 }));
    expect(url.protocol).toBe('rediss:');
    expect(url.hostname).toBe('[::1]');
    expect(url.port).toBe('7001');
    expect(decodeURIComponent(url.username)).toBe('mon itor');
    expect(decodeURIComponent(url.password)).toBe('p@ss:w/rd');
  });
});

describe('parseClusterUrl', () => {
  it('reads a password holding an @, and the schemes in any case', () => {
    expect(isClusterUrl('Redis+Cluster://a:1')).toBe(true);
    expect(isClusterUrl('redis://a:1')).toBe(false);
    const parsed = parseClusterUrl('REDIS+CLUSTER://:a@b@h:1');
    expect(parsed).toEqual({ ok: true, value: { nodes: [{ host: 'h', port: 1 }], username: undefined, password: 'a@b', tls: false } });
  });

  it('refuses a bad %-escape without repeating the value', () => {
    const parsed = parseClusterUrl('redis+cluster://u:%zzsecret@h:1');
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain('secret');
  });
});

describe('hashTagOf', () => {
  it('is the first non-empty {…}, as Redis Cluster hashes it', () => {
    expect(hashTagOf('{ahm}:state:x')).toBe('ahm');
    expect(hashTagOf('prod-{ahm}:poll')).toBe('ahm');
    expect(hashTagOf('{}{ahm}')).toBeUndefined();
    expect(hashTagOf('ahm')).toBeUndefined();
    expect(hashTagOf('{ahm')).toBeUndefined();
  });
});

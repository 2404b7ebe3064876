import { describe, expect, it } from 'vitest';
import { decideAlerts } from '../../src/core/alert-policy.js';
import { diffSnapshots } from '../../src/core/diff.js';
import { decodeSnapshot, encodeSnapshot, sameSnapshot, SNAPSHOT_FORMAT_VERSION, type InstallationRecord } from '../../src/core/snapshot.js';
import { state } from '../helpers/builders.js';

const baseline = (list = [state('a'), state('b')]) => diffSnapshots(undefined, list).next;

/** A snapshot as the release before the format version (v1) stored it: id -> 7-tuple. */
const V1 = JSON.stringify({
  a: ['unhealthy', 'in_progress', 'failure', 'working', 'org-a', 'Customer "a"', 'salesforce'],
  v: ['healthy', 'unknown', 'unknown', 'bad_credentials', 'org-v', 'Ünïcode', 'hubspot'],
});

describe('encodeSnapshot and decodeSnapshot', () => {
  it('round-trip a snapshot', () => {
    const snap = baseline([state('a', { groupName: 'Ünïcode "quoted"' }), state('b', { lastOperationStatus: 'in_progress' })]);
    expect(decodeSnapshot(encodeSnapshot(snap))).toEqual(snap);
  });

  it('keeps an installation whose id is "__proto__" like any other', () => {
    const first = diffSnapshots(undefined, [state('__proto__', { healthStatus: 'unhealthy' }), state('constructor')]);
    const decoded = decodeSnapshot(encodeSnapshot(first.next));
    expect([...(decoded?.keys() ?? [])]).toEqual(['__proto__', 'constructor']);
    expect(diffSnapshots(decoded, [state('__proto__', { healthStatus: 'unhealthy' }), state('constructor')]).transitions).toEqual([]);
  });

  it.each(['not json', '[]', '{"a":[1,2]}', '{"a":["h","o","s","c","g","n"]}'])('return undefined for %j', (raw) => {
    expect(decodeSnapshot(raw)).toBeUndefined();
  });

  describe('the stored format', () => {
    it('is a JSON object with the format version, the field names once, and one row per installation', () => {
      const encoded = JSON.parse(encodeSnapshot(baseline([state('a', { healthStatus: 'unhealthy' })]))) as unknown;
      expect(encoded).toEqual({
        v: 2,
        fields: [
          'health_status',
          'last_operation_status',
          'settled_operation_status',
          'connection_status',
          'group_ref',
          'group_name',
          'provider',
          'state_since',
          'state_since_exact',
        ],
        installations: { a: ['unhealthy', 'success', 'success', 'working', 'org-a', 'Customer a', 'salesforce', '', '0'] },
      });
      expect(SNAPSHOT_FORMAT_VERSION).toBe(2);
    });
  });

  describe('when the stored snapshot is v1 (the 7-tuple of the release before)', () => {
    it('reads it with the same content as its v2 round trip', () => {
      const fromV1 = decodeSnapshot(V1);
      expect(fromV1?.get('a')).toEqual({
        healthStatus: 'unhealthy',
        lastOperationStatus: 'in_progress',
        settledOperationStatus: 'failure',
        connectionStatus: 'working',
        groupRef: 'org-a',
        groupName: 'Customer "a"',
        provider: 'salesforce',
      });
      // An installation called "v" is an installation, not a format version.
      expect(fromV1?.get('v')?.connectionStatus).toBe('bad_credentials');
      expect(decodeSnapshot(encodeSnapshot(fromV1 ?? new Map()))).toEqual(fromV1);
    });

    it('sees no transition and raises no alert when the same listing is polled after the upgrade', () => {
      const list = [
        state('a', { healthStatus: 'unhealthy' }),
        state('b', { lastOperationStatus: 'in_progress' }),
        state('c', { connectionStatus: 'bad_credentials' }),
      ];
      const before = baseline(list);
      const v1 = Object.fromEntries(
        [...before].map(([id, r]) => [
          id,
          [r.healthStatus, r.lastOperationStatus, r.settledOperationStatus, r.connectionStatus, r.groupRef, r.groupName, r.provider],
        ]),
      );
      const diff = diffSnapshots(decodeSnapshot(JSON.stringify(v1)), list);
      expect(diff.baseline).toBe(false);
      expect(diff.transitions).toEqual([]);
      expect(decideAlerts(diff)).toEqual([]);
    });

    it('reads an empty v1 snapshot as an empty snapshot, not as unreadable', () => {
      expect(decodeSnapshot('{}')).toEqual(new Map());
    });
  });

  describe('when the stored snapshot is v2 written by a later release', () => {
    it('ignores a field it does not know, wherever it sits', () => {
      const raw = JSON.stringify({
        v: 2,
        fields: [
          'added_later',
          'health_status',
          'last_operation_status',
          'settled_operation_status',
          'connection_status',
          'group_ref',
          'group_name',
          'provider',
        ],
        installations: { a: ['extra', 'unhealthy', 'success', 'success', 'working', 'org-a', 'Customer a', 'salesforce'] },
      });
      expect(decodeSnapshot(raw)).toEqual(baseline([state('a', { healthStatus: 'unhealthy' })]));
    });

    it.each([
      ['a number', 1_796_040_000_000],
      ['null', null],
      ['an object', { since: 'x' }],
      ['a list', ['a', 1]],
    ])('ignores the value of a field it does not know when it is %s, so a new field never re-baselines a rollback', (_name, extra) => {
      const fields = [
        'health_status',
        'last_operation_status',
        'settled_operation_status',
        'connection_status',
        'group_ref',
        'group_name',
        'provider',
        'added_later',
      ];
      const raw = JSON.stringify({
        v: 2,
        fields,
        installations: { a: ['unhealthy', 'success', 'success', 'working', 'org-a', 'Customer a', 'salesforce', extra] },
      });
      expect(decodeSnapshot(raw)).toEqual(baseline([state('a', { healthStatus: 'unhealthy' })]));
    });

    it('still refuses a known field that is not a string', () => {
      const fields = ['health_status', 'last_operation_status', 'settled_operation_status', 'connection_status', 'group_ref', 'group_name', 'provider'];
      const raw = JSON.stringify({ v: 2, fields, installations: { a: [1, 'success', 'success', 'working', 'org-a', 'Customer a', 'salesforce'] } });
      expect(decodeSnapshot(raw)).toBeUndefined();
    });
  });

  describe('when it cannot be read', () => {
    const fields = ['health_status', 'last_operation_status', 'settled_operation_status', 'connection_status', 'group_ref', 'group_name', 'provider'];
    const row = ['healthy', 'success', 'success', 'working', 'org-a', 'Customer a', 'salesforce'];
    it.each([
      ['an unknown future version', { v: 3, fields, installations: { a: row } }],
      ['an older version number', { v: 1, fields, installations: { a: row } }],
      ['no field list', { v: 2, installations: { a: row } }],
      ['a field it needs missing', { v: 2, fields: fields.slice(1), installations: { a: row.slice(1) } }],
      ['a row shorter than the field list', { v: 2, fields, installations: { a: row.slice(1) } }],
      ['a value that is not a string', { v: 2, fields, installations: { a: [...row.slice(1), 7] } }],
      ['installations that are a list', { v: 2, fields, installations: [row] }],
    ])('returns undefined for %s', (_, stored) => {
      expect(decodeSnapshot(JSON.stringify(stored))).toBeUndefined();
    });
  });

  describe('the state_since fields (added within v2)', () => {
    const FIELDS7 = ['health_status', 'last_operation_status', 'settled_operation_status', 'connection_status', 'group_ref', 'group_name', 'provider'];
    const ROW7 = ['unhealthy', 'failure', 'failure', 'working', 'org-a', 'A', 'salesforce'];

    it('round-trip an exact and a first-seen since', () => {
      const snap = diffSnapshots(undefined, [state('a'), state('b')], 1_000).next;
      const later = diffSnapshots(snap, [state('a', { healthStatus: 'unhealthy' }), state('b')], 61_000).next;
      const decoded = decodeSnapshot(encodeSnapshot(later));
      expect(decoded?.get('a')?.since).toEqual({ ms: 61_000, exact: true });
      expect(decoded?.get('b')?.since).toEqual({ ms: 1_000, exact: false });
    });

    it('default to unknown in a v2 snapshot written before they existed', () => {
      const decoded = decodeSnapshot(JSON.stringify({ v: 2, fields: FIELDS7, installations: { a: ROW7 } }));
      expect(decoded?.get('a')?.healthStatus).toBe('unhealthy');
      expect(decoded?.get('a')?.since).toBeUndefined();
    });

    it.each([
      ['not a number', ['soon', '1']],
      ['a number, not a string', [17, '1']],
      ['negative', ['-5', '1']],
      ['absurdly large', ['9'.repeat(40), '1']],
    ])('lose only the since when it is unreadable (%s)', (_name, since) => {
      const raw = JSON.stringify({ v: 2, fields: [...FIELDS7, 'state_since', 'state_since_exact'], installations: { a: [...ROW7, ...since] } });
      const decoded = decodeSnapshot(raw);
      expect(decoded?.get('a')?.healthStatus).toBe('unhealthy');
      expect(decoded?.get('a')?.since).toBeUndefined();
    });
  });
});

describe('sameSnapshot', () => {
  const record: InstallationRecord = {
    healthStatus: 'healthy',
    lastOperationStatus: 'success',
    settledOperationStatus: 'success',
    connectionStatus: 'working',
    groupRef: 'g',
    groupName: 'G',
    provider: 'salesforce',
    since: { ms: 1000, exact: true },
  };

  it('is true for the same records in another order, as a copy decoded from its encoding is', () => {
    const a = new Map([
      ['x', record],
      ['y', { ...record, healthStatus: 'unhealthy' }],
    ]);
    const b = new Map([...a].reverse().map(([id, r]) => [id, { ...r }] as const));
    expect(sameSnapshot(a, b)).toBe(true);
    expect(sameSnapshot(a, decodeSnapshot(encodeSnapshot(a)) ?? new Map())).toBe(true);
  });

  it('is false when an installation is added, removed or renamed', () => {
    const a = new Map([['x', record]]);
    expect(sameSnapshot(a, new Map([...a, ['y', record]]))).toBe(false);
    expect(sameSnapshot(a, new Map())).toBe(false);
    expect(sameSnapshot(a, new Map([['z', record]]))).toBe(false);
  });

  // Every field of a record, so that a field added later and not compared fails here.
  it.each(Object.keys(record) as (keyof InstallationRecord)[])('is false when %s differs', (field) => {
    const changed = field === 'since' ? { ...record, since: { ms: 1000, exact: false } } : { ...record, [field]: 'other' };
    expect(encodeSnapshot(new Map([['x', changed]]))).not.toBe(encodeSnapshot(new Map([['x', record]])));
    expect(sameSnapshot(new Map([['x', record]]), new Map([['x', changed]]))).toBe(false);
  });

  it('tells a known since from an unknown one, and a changed time', () => {
    const { since: _since, ...withoutSince } = record;
    expect(sameSnapshot(new Map([['x', record]]), new Map([['x', withoutSince]]))).toBe(false);
    expect(sameSnapshot(new Map([['x', record]]), new Map([['x', { ...record, since: { ms: 2000, exact: true } }]]))).toBe(false);
  });
});

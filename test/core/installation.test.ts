import { describe, expect, it } from 'vitest';
import {
  MAX_DISPLAY_LENGTH,
  MAX_PAUSED_READS,
  MAX_STATUS_LENGTH,
  UNREADABLE_VALUE,
  mergeDuplicate,
  parseInstallationList,
  parseIntegrationList,
  summarizeWarnings,
  truncateCodePoints,
  type InstallationState,
} from '../../src/core/installation.js';
import { buildInstallation, buildIntegration } from '../../src/simulator/fixtures.js';
import { installationSpec, state } from '../helpers/builders.js';
import { specErrors } from '../helpers/spec.js';

describe('parseInstallationList', () => {
  describe('when the body is a spec-conformant list', () => {
    it('normalises every installation and reads the group and provider', () => {
      const body = [buildInstallation(installationSpec('a')), buildInstallation(installationSpec('b', { healthStatus: 'unhealthy' }))];
      expect(specErrors('Installation', body, true)).toBe('');
      const result = parseInstallationList(body);
      expect(result).toEqual({
        ok: true,
        warnings: [],
        installations: [
          expect.objectContaining({ id: 'a', groupRef: 'org-a', groupName: 'Customer a', provider: 'salesforce', healthStatus: 'healthy' }),
          expect.objectContaining({ id: 'b', healthStatus: 'unhealthy', projectId: 'proj-1', integrationId: 'int-1' }),
        ],
      });
    });

    it('reports a missing lastOperationStatus as unknown', () => {
      const body = [buildInstallation(installationSpec('a', { lastOperationStatus: undefined }))];
      expect(specErrors('Installation', body, true)).toBe('');
      const result = parseInstallationList(body);
      expect(result.ok && result.installations[0]?.lastOperationStatus).toBe('unknown');
    });

    it('falls back to the connection group when the installation has none', () => {
      const inst: Record<string, unknown> = buildInstallation(installationSpec('a'));
      delete inst['group'];
      expect(specErrors('Installation', [inst], true)).toBe('');
      const result = parseInstallationList([inst]);
      expect(result.ok && result.installations[0]?.groupRef).toBe('org-a');
    });
  });

  describe('when a value is not in the spec enums', () => {
    it.each([
      ['healthStatus', { healthStatus: 'degraded' }, 'healthStatus "degraded"'],
      ['lastOperationStatus', { lastOperationStatus: 'cancelled' }, 'lastOperationStatus "cancelled"'],
      ['connection.status', { connectionStatus: 'revoked' }, 'connection.status "revoked"'],
    ])('keeps the %s value and warns once', (_field, overrides, expected) => {
      const body = [
        buildInstallation(installationSpec('a', overrides)),
        buildInstallation(installationSpec('b', overrides)),
        buildInstallation(installationSpec('c')),
      ];
      const result = parseInstallationList(body);
      if (!result.ok) throw new Error(result.error);
      expect(result.installations).toHaveLength(3);
      expect(result.warnings).toEqual([{ message: `value not in the spec: ${expected}`, count: 2, examples: ['a', 'b'] }]);
    });

    it('aggregates 10,000 odd items into one warning per kind with the first 5 ids', () => {
      const body = Array.from({ length: 10_000 }, (_, i) =>
        buildInstallation(installationSpec(`i${i}`, { healthStatus: 'degraded', connectionStatus: 'revoked' })),
      );
      const result = parseInstallationList(body);
      if (!result.ok) throw new Error(result.error);
      expect(result.warnings).toEqual([
        { message: 'value not in the spec: healthStatus "degraded"', count: 10_000, examples: ['i0', 'i1', 'i2', 'i3', 'i4'] },
        { message: 'value not in the spec: connection.status "revoked"', count: 10_000, examples: ['i0', 'i1', 'i2', 'i3', 'i4'] },
      ]);
      expect(summarizeWarnings(result.warnings)).toBe(
        'value not in the spec: healthStatus "degraded" on 10000 installation(s) (e.g. i0, i1, i2, i3, i4); value not in the spec: connection.status "revoked" on 10000 installation(s) (e.g. i0, i1, i2, i3, i4)',
      );
    });

    it('names at most 5 kinds in the summary line, however many distinct values came', () => {
      const body = Array.from({ length: 1000 }, (_, i) => buildInstallation(installationSpec(`i${i}`, { healthStatus: `odd-${i}` })));
      const result = parseInstallationList(body);
      if (!result.ok) throw new Error(result.error);
      const line = summarizeWarnings(result.warnings);
      expect(line.match(/value not in the spec/g)).toHaveLength(5);
      expect(line).toContain('and 995 more kind(s)');
    });
  });

  describe('when one item carries data that cannot be used as is', () => {
    const good = (): Record<string, unknown> => buildInstallation(installationSpec('a'));
    const other = (): Record<string, unknown> => buildInstallation(installationSpec('b', { healthStatus: 'unhealthy' }));
    const withGroup = (change: Record<string, unknown>): Record<string, unknown> => {
      const inst = good();
      inst['group'] = { ...(inst['group'] as object), ...change };
      return inst;
    };
    const withConnection = (change: Record<string, unknown> | null | string): Record<string, unknown> => {
      const inst = good();
      inst['connection'] = change === null || typeof change === 'string' ? change : { ...(inst['connection'] as object), ...change };
      return inst;
    };
    const long = 'g'.repeat(2000);
    it.each<[string, Record<string, unknown>, Partial<InstallationState>, string | undefined]>([
      [
        'a 2,000-character group name',
        withGroup({ groupName: long }),
        { groupName: `${'g'.repeat(MAX_DISPLAY_LENGTH - 1)}…` },
        'group.groupName is longer than 256 characters; cut',
      ],
      [
        'a 2,000-character group ref',
        withGroup({ groupRef: long }),
        { groupRef: `${'g'.repeat(MAX_DISPLAY_LENGTH - 1)}…` },
        'group.groupRef is longer than 256 characters; cut',
      ],
      [
        'a 2,000-character provider',
        withConnection({ provider: long }),
        { provider: `${'g'.repeat(MAX_DISPLAY_LENGTH - 1)}…` },
        'connection.provider is longer than 256 characters; cut',
      ],
      ['a missing groupName', withGroup({ groupName: undefined }), { groupName: '', groupRef: 'org-a' }, 'group.groupName is missing; shown empty'],
      ['a numeric groupName', withGroup({ groupName: 7 }), { groupName: '' }, 'group.groupName is number, not a string; shown empty'],
      ['a null group (optional: read as absent)', { ...good(), group: null }, { groupRef: 'org-a', groupName: 'Customer a' }, undefined],
      ['a null lastOperationStatus (optional: read as absent)', { ...good(), lastOperationStatus: null }, { lastOperationStatus: 'unknown' }, undefined],
      [
        'a null healthStatus',
        { ...good(), healthStatus: null },
        { healthStatus: UNREADABLE_VALUE },
        'installation.healthStatus is null, not a string; read as "(unreadable)"',
      ],
      [
        'a numeric healthStatus',
        { ...good(), healthStatus: 1 },
        { healthStatus: UNREADABLE_VALUE },
        'installation.healthStatus is number, not a string; read as "(unreadable)"',
      ],
      [
        'a 5,000-character healthStatus',
        { ...good(), healthStatus: 'h'.repeat(5000) },
        { healthStatus: `${'h'.repeat(MAX_STATUS_LENGTH - 1)}…` },
        `value not in the spec: healthStatus "${'h'.repeat(MAX_STATUS_LENGTH - 1)}…"`,
      ],
      ['a null connection', withConnection(null), { provider: '', connectionStatus: UNREADABLE_VALUE, groupRef: 'org-a' }, 'connection is null, not an object'],
      ['a string connection', withConnection('working'), { provider: '', connectionStatus: UNREADABLE_VALUE }, 'connection is string, not an object'],
      [
        'a connection without status',
        withConnection({ status: undefined }),
        { connectionStatus: UNREADABLE_VALUE },
        'connection.status is missing, not a string; read as "(unreadable)"',
      ],
      ['a missing projectId', { ...good(), projectId: undefined }, { projectId: '' }, 'installation.projectId is missing; shown empty'],
    ])('keeps the body usable with %s, and warns about it', (_name, item, expected, warning) => {
      const result = parseInstallationList([item, other()]);
      if (!result.ok) throw new Error(result.error);
      expect(result.installations).toHaveLength(2);
      expect(result.installations[0]).toMatchObject({ id: 'a', ...expected });
      expect(result.installations[1]).toEqual(state('b', { healthStatus: 'unhealthy' }));
      expect(result.warnings.map((w) => w.message)).toEqual(warning === undefined ? [] : [warning]);
    });
  });

  describe('when the body cannot be used', () => {
    const good = (): Record<string, unknown> => buildInstallation(installationSpec('a'));
    it.each<[string, unknown, string]>([
      ['an object instead of an array', { installations: [] }, 'expected a JSON array'],
      ['null', null, 'got null'],
      ['an item that is a string', ['x'], 'installations[0] must be an object'],
      ['a null item', [good(), null], 'installations[1] must be an object, got null'],
      ['a numeric id', [{ ...good(), id: 5 }], 'installations[0].id must be a string, got number'],
      ['an object id', [{ ...good(), id: { $gt: '' } }], 'installations[0].id must be a string, got object'],
      ['a missing id', [{ ...good(), id: undefined }], 'installations[0].id must be a string, got undefined'],
      ['an empty id', [{ ...good(), id: '' }], 'installations[0].id is empty'],
      ['a huge id', [{ ...good(), id: 'x'.repeat(5000) }], 'is 5000 characters long'],
      ['an id with a lone surrogate', [good(), { ...good(), id: 'a\ud800' }], 'installations[1].id is not well-formed UTF-16'],
    ])('rejects %s with a reason', (_name, body, reason) => {
      const result = parseInstallationList(body);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toContain(reason);
    });
  });

  describe('when an id appears more than once', () => {
    const copies = [
      state('a', { healthStatus: 'unhealthy', lastOperationStatus: 'success', connectionStatus: 'working', groupName: 'Zed' }),
      state('a', { healthStatus: 'healthy', lastOperationStatus: 'failure', connectionStatus: 'created', groupName: 'Acme' }),
      state('a', { healthStatus: 'degraded', lastOperationStatus: 'in_progress', connectionStatus: 'bad_credentials', groupName: 'Mid' }),
    ];
    const permutations = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    it.each(permutations)('keeps the worst value of each field, whatever the order (%i, %i, %i)', (...order) => {
      const body = [buildInstallation(installationSpec('z')), ...order.map((i) => buildInstallation(installationSpec('a', copies[i])))];
      const result = parseInstallationList(body);
      if (!result.ok) throw new Error(result.error);
      expect(result.installations.map((i) => i.id)).toEqual(['z', 'a']);
      expect(result.installations[1]).toEqual(
        state('a', { healthStatus: 'unhealthy', lastOperationStatus: 'failure', connectionStatus: 'bad_credentials', groupName: 'Acme' }),
      );
      expect(result.warnings).toContainEqual({
        message: 'installation id appears more than once; the worst state of its copies is kept',
        count: 2,
        examples: ['a', 'a'],
      });
    });

    it.each<[keyof InstallationState, string, string, string]>([
      ['healthStatus', 'healthy', 'unhealthy', 'unhealthy'],
      ['healthStatus', 'healthy', 'degraded', 'degraded'],
      ['healthStatus', 'degraded', 'unhealthy', 'unhealthy'],
      ['lastOperationStatus', 'unknown', 'success', 'success'],
      ['lastOperationStatus', 'success', 'in_progress', 'in_progress'],
      ['lastOperationStatus', 'in_progress', 'failure', 'failure'],
      ['lastOperationStatus', 'cancelled', 'in_progress', 'cancelled'],
      ['connectionStatus', 'working', 'bad_credentials', 'bad_credentials'],
      ['connectionStatus', 'created', 'working', 'created'],
      ['connectionStatus', 'revoked', 'zapped', 'revoked'],
      // A copy that can be read says more than one that cannot.
      ['healthStatus', 'healthy', UNREADABLE_VALUE, 'healthy'],
      ['lastOperationStatus', 'unknown', UNREADABLE_VALUE, 'unknown'],
      ['connectionStatus', 'working', UNREADABLE_VALUE, 'working'],
    ])('merges %s %s and %s to %s, in either order', (field, x, y, worst) => {
      const a = state('a', { [field]: x });
      const b = state('a', { [field]: y });
      expect(mergeDuplicate(a, b)[field]).toBe(worst);
      expect(mergeDuplicate(b, a)[field]).toBe(worst);
    });
  });
});

describe('parseInstallationList: the consumer and the paused reads', () => {
  const REMOVE = Symbol('remove');
  const READ_OBJECTS = 'config.content.read.objects';
  /** Installation `a` as served, with the value at a dotted path set (or removed). */
  const edited = (path: string, value: unknown): Record<string, unknown> => {
    const inst = structuredClone(buildInstallation(installationSpec('a'))) as unknown as Record<string, unknown>;
    const keys = path.split('.');
    const last = keys.pop() ?? '';
    const parent = keys.reduce<Record<string, unknown>>((obj, key) => obj[key] as Record<string, unknown>, inst);
    if (value === REMOVE) delete parent[last];
    else parent[last] = value;
    return inst;
  };
  const parseOne = (inst: unknown) => {
    const result = parseInstallationList([inst]);
    if (!result.ok) throw new Error(result.error);
    return { installation: result.installations[0], warnings: result.warnings.map((w) => w.message) };
  };

  it('reads the consumer and the paused read objects of a spec-conformant installation', () => {
    const body = [buildInstallation(installationSpec('a', { consumerRef: 'cons-7', consumerName: 'Ada Admin', pausedReads: ['opportunity', 'lead'] }))];
    expect(specErrors('Installation', body, true)).toBe('');
    expect(parseOne(body[0])).toEqual({
      installation: expect.objectContaining({ consumerRef: 'cons-7', consumerName: 'Ada Admin', pausedReads: ['lead', 'opportunity'] }),
      warnings: [],
    });
  });

  it.each([
    ['every read object is enabled', edited('id', 'a')],
    ['the config has no read part', edited('config.content.read', REMOVE)],
    ['the read object has no disabled flag', edited(`${READ_OBJECTS}.account.disabled`, REMOVE)],
  ])('names no paused read, and warns of nothing, when %s', (_name, inst) => {
    expect(parseOne(inst)).toEqual({ installation: expect.objectContaining({ pausedReads: [] }), warnings: [] });
  });

  it('names a paused object by its key when it has no objectName', () => {
    expect(parseOne(edited(`${READ_OBJECTS}.contact`, { disabled: true })).installation?.pausedReads).toEqual(['contact']);
  });

  it.each<[string, Record<string, unknown>, Partial<InstallationState>, string[]]>([
    [
      'a missing consumer',
      edited('connection.consumer', REMOVE),
      { consumerRef: '', consumerName: '' },
      ['connection.consumer is missing, not an object; shown empty'],
    ],
    [
      'a string consumer',
      edited('connection.consumer', 'jane'),
      { consumerRef: '', consumerName: '' },
      ['connection.consumer is string, not an object; shown empty'],
    ],
    [
      'a numeric consumerName',
      edited('connection.consumer.consumerName', 7),
      { consumerName: '' },
      ['connection.consumer.consumerName is number, not a string; shown empty'],
    ],
    [
      'a consumerName with control characters and line breaks',
      edited('connection.consumer.consumerName', 'Jane\u0007 \u202eSmith\r\n<!here>'),
      { consumerName: 'Jane Smith <!here>' },
      ['connection.consumer.consumerName has control characters or line breaks; removed'],
    ],
    [
      'a 5,000-character consumerRef',
      edited('connection.consumer.consumerRef', 'r'.repeat(5000)),
      { consumerRef: `${'r'.repeat(MAX_DISPLAY_LENGTH - 1)}…` },
      ['connection.consumer.consumerRef is longer than 256 characters; cut'],
    ],
    ['a missing config', edited('config', REMOVE), { pausedReads: [] }, ['config is missing, not an object; no paused reads read']],
    ['a config whose content is an array', edited('config.content', []), { pausedReads: [] }, ['config.content is array, not an object; no paused reads read']],
    [
      'read objects that are a list',
      edited(READ_OBJECTS, ['account']),
      { pausedReads: [] },
      ['config.content.read.objects is array, not an object; no paused reads read'],
    ],
    [
      'a read object that is a string',
      edited(`${READ_OBJECTS}.lead`, 'off'),
      { pausedReads: [] },
      ['config.content.read.objects has a string, not an object; ignored'],
    ],
    [
      'disabled given as the string "true"',
      edited(`${READ_OBJECTS}.account.disabled`, 'true'),
      { pausedReads: [] },
      ['config.content.read.objects[…].disabled is string, not a boolean; read as not paused'],
    ],
    [
      'a paused object name with a line break',
      edited(`${READ_OBJECTS}.account`, { objectName: 'acc\nount', disabled: true }),
      { pausedReads: ['acc ount'] },
      ['a paused read object name has control characters or line breaks; removed'],
    ],
  ])('keeps the installation with %s, and warns about it', (_name, inst, expected, warnings) => {
    const parsed = parseOne(inst);
    expect(parsed.installation).toMatchObject({ id: 'a', healthStatus: 'healthy', ...expected });
    expect(parsed.warnings).toEqual(warnings);
  });

  it('adds no consumer warning to an installation whose connection is missing', () => {
    expect(parseOne(edited('connection', REMOVE)).warnings).toEqual(['connection is missing, not an object']);
  });

  it(`names at most ${MAX_PAUSED_READS} paused reads, the first by name, and warns about the rest`, () => {
    const names = Array.from({ length: 70 }, (_, n) => `obj${String(n).padStart(2, '0')}`);
    const parsed = parseOne(buildInstallation(installationSpec('a', { pausedReads: names.toReversed() })));
    expect(parsed.installation?.pausedReads).toEqual(names.slice(0, MAX_PAUSED_READS));
    expect(parsed.warnings).toEqual([`more than ${MAX_PAUSED_READS} read objects are paused; the first ${MAX_PAUSED_READS} by name are named`]);
  });

  it('merges duplicate copies to the union of their paused reads, whatever their order', () => {
    const a = state('a', { pausedReads: ['lead', 'account'] });
    const b = state('a', { pausedReads: ['contact', 'lead'] });
    expect(mergeDuplicate(a, b).pausedReads).toEqual(['account', 'contact', 'lead']);
    expect(mergeDuplicate(b, a).pausedReads).toEqual(['account', 'contact', 'lead']);
  });
});

describe('truncateCodePoints', () => {
  it('never cuts a surrogate pair in half', () => {
    const cut = truncateCodePoints('𝔘'.repeat(10), 4);
    expect(cut).toBe('𝔘𝔘𝔘…');
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('leaves a value that fits alone', () => {
    expect(truncateCodePoints('𝔘'.repeat(4), 4)).toBe('𝔘'.repeat(4));
  });
});

describe('parseIntegrationList', () => {
  it('returns the ids of spec-conformant integrations', () => {
    const body = [buildIntegration('proj-1', 'int-1', 'salesforce'), buildIntegration('proj-1', 'int-2', 'hubspot')];
    expect(specErrors('Integration', body, true)).toBe('');
    expect(parseIntegrationList(body)).toEqual({ ok: true, ids: ['int-1', 'int-2'], skipped: [] });
  });

  it('rejects an item without an id', () => {
    expect(parseIntegrationList([{ name: 'x' }]).ok).toBe(false);
  });

  it.each([
    ['a lone high surrogate', 'bad\ud800'],
    ['a lone low surrogate', '\udc00bad'],
    ['a reversed pair', 'bad\udc00\ud800'],
  ])('skips an id with %s and keeps the others', (_name, id) => {
    const body = [{ id: 'int-1' }, { id }, { id: 'int-3' }];
    expect(parseIntegrationList(body)).toEqual({ ok: true, ids: ['int-1', 'int-3'], skipped: [1] });
  });

  it('keeps an id with a surrogate pair', () => {
    expect(parseIntegrationList([{ id: 'int-𝔘' }])).toEqual({ ok: true, ids: ['int-𝔘'], skipped: [] });
  });
});

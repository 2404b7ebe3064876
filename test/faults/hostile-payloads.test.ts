/**
 * Hostile payloads: random spec-derived bodies and hostile values (wrong
 * types, nulls, huge strings, 10,000 extra fields, deep nesting, tens of MB,
 * invalid UTF-8). The service never crashes, sends no false alert, leaves the
 * snapshot alone when the body is unusable (not a list, or an item without a
 * usable id), keeps an odd item's installation (a status that is not a string
 * reads as "(unreadable)", a long name is cut, null in an optional field is
 * absent) rather than blind the whole integration, and logs one clear line per poll.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildInstallation, type InstallationSpec } from '../../src/simulator/fixtures.js';
import type { Fault } from '../../src/simulator/fake-ampersand-server.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { specErrors } from '../helpers/spec.js';
import { waitFor } from '../helpers/wait.js';
import { comparable, rng } from './chaos.js';

let h: Harness;
const base: InstallationSpec[] = ['a', 'b', 'c'].map((id) => installationSpec(id, id === 'b' ? { healthStatus: 'unhealthy' } : {}));

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', base);
});
afterEach(async () => {
  await h.stop();
});

const json = (body: unknown): Fault => ({ kind: 'raw', contentType: 'application/json', body: JSON.stringify(body) });
const installations = (): Record<string, unknown>[] => base.map(buildInstallation);
const mutateFirst = (change: (i: Record<string, unknown>) => void): Fault => {
  const list = installations();
  change(list[0] as Record<string, unknown>);
  return json(list);
};

/** Spec-valid variations of the same state: optional fields, unicode, extra properties. */
function randomConformingBody(seed: number): unknown[] {
  const random = rng(seed);
  const words = ['Ünïcødé', '𝔘𝔫𝔦', 'ﷺ', '<script>', '"quoted"', 'a&b', '\u0000nul', 'x'.repeat(500)];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return installations().map((inst) => {
    const out: Record<string, unknown> = { ...inst, createdBy: `consumer:${pick(words)}` };
    if (random() < 0.5) out['updateTime'] = '2025-03-01T12:00:00Z';
    if (random() < 0.3) delete out['group'];
    const connection = { ...(out['connection'] as Record<string, unknown>) };
    if (random() < 0.5) connection['providerWorkspaceRef'] = pick(words);
    if (random() < 0.5) connection['authScheme'] = pick(['apiKey', 'basic', 'oauth2/clientCredentials']);
    out['connection'] = connection;
    for (let i = 0; i < Math.floor(random() * 20); i += 1) out[`x-extra-${i}`] = pick([null, 1, pick(words), [1, { a: 2 }], { nested: { deep: true } }]);
    return out;
  });
}

interface Case {
  readonly name: string;
  readonly fault: Fault;
  /** What the log line must say: the poll error reason, or a warning for a usable body. */
  readonly logs: string;
  /** Whether the body is usable (then the snapshot may be committed again, unchanged). */
  readonly usable: boolean;
}

const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const CASES: Case[] = [
  { name: 'a null body', fault: json(null), logs: 'invalid_body', usable: false },
  { name: 'an object body', fault: json({ installations: [] }), logs: 'invalid_body', usable: false },
  { name: 'a null item', fault: json([null]), logs: 'invalid_body', usable: false },
  { name: 'a numeric healthStatus', fault: mutateFirst((i) => (i['healthStatus'] = 1)), logs: 'healthStatus is number, not a string', usable: true },
  { name: 'a null healthStatus', fault: mutateFirst((i) => (i['healthStatus'] = null)), logs: 'healthStatus is null, not a string', usable: true },
  { name: 'an object id', fault: mutateFirst((i) => (i['id'] = { $gt: '' })), logs: 'invalid_body', usable: false },
  { name: 'a string connection', fault: mutateFirst((i) => (i['connection'] = 'working')), logs: 'connection is string, not an object', usable: true },
  { name: 'a null connection', fault: mutateFirst((i) => (i['connection'] = null)), logs: 'connection is null, not an object', usable: true },
  { name: 'an empty id', fault: mutateFirst((i) => (i['id'] = '')), logs: 'invalid_body', usable: false },
  // Nulls in fields the spec has as optional (it has no nullable fields): read as absent.
  { name: 'a null group', fault: mutateFirst((i) => (i['group'] = null)), logs: 'poll committed', usable: true },
  { name: 'a null lastOperationStatus', fault: mutateFirst((i) => (i['lastOperationStatus'] = null)), logs: 'poll committed', usable: true },
  {
    name: 'a group without groupName',
    fault: mutateFirst((i) => (i['group'] = { ...(i['group'] as object), groupName: undefined })),
    logs: 'group.groupName is missing',
    usable: true,
  },
  {
    name: 'a duplicate id with a worse state, listed first',
    fault: json([{ ...installations()[1], healthStatus: 'healthy' }, ...installations()]),
    logs: 'appears more than once',
    usable: true,
  },
  {
    name: 'a 2 MB group name',
    fault: mutateFirst((i) => (i['group'] = { ...(i['group'] as object), groupName: 'g'.repeat(2_000_000) })),
    logs: 'longer than 256 characters; cut',
    usable: true,
  },
  {
    name: 'truncated JSON',
    fault: { kind: 'raw', contentType: 'application/json', body: JSON.stringify(installations()).slice(0, 100) },
    logs: 'invalid_body',
    usable: false,
  },
  {
    name: 'invalid UTF-8',
    fault: {
      kind: 'raw',
      contentType: 'application/json',
      body: Buffer.concat([Buffer.from('[{"id":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]')]),
    },
    logs: 'invalid_body',
    usable: false,
  },
  {
    name: 'an HTML error page with status 200',
    fault: { kind: 'raw', contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' },
    logs: 'invalid_body',
    usable: false,
  },
  { name: 'a 30 MB body over the 10 MB cap', fault: json([{ pad: 'p'.repeat(30 * 1024 * 1024) }]), logs: 'body_too_large', usable: false },
  {
    name: 'a 30 MB chunked body (no Content-Length) over the cap',
    fault: { kind: 'raw', contentType: 'application/json', body: JSON.stringify([{ pad: 'p'.repeat(30 * 1024 * 1024) }]), chunked: true },
    logs: 'body_too_large',
    usable: false,
  },
  {
    name: '10,000 extra fields on every installation',
    fault: json(installations().map((i) => ({ ...i, ...Object.fromEntries(Array.from({ length: 10_000 }, (_, n) => [`f${n}`, n])) }))),
    logs: 'poll committed',
    usable: true,
  },
  {
    name: 'JSON nested 100,000 deep in an extra field',
    fault: { kind: 'raw', contentType: 'application/json', body: JSON.stringify(installations()).replace('"id":', `"deep":${deep(100_000)},"id":`) },
    logs: 'poll committed',
    usable: true,
  },
  {
    name: 'a 6 MB padded but valid body',
    fault: json(installations().map((i) => ({ ...i, padding: 'q'.repeat(2_000_000) }))),
    logs: 'poll committed',
    usable: true,
  },
  ...Array.from({ length: 12 }, (_, n): Case => ({
    name: `random spec-conforming body #${n + 1}`,
    fault: json(randomConformingBody(1000 + n)),
    logs: 'poll committed',
    usable: true,
  })),
];

describe('hostile payloads', () => {
  it('conforming random bodies really conform to the spec', () => {
    for (let n = 0; n < 12; n += 1) expect(specErrors('Installation', randomConformingBody(1000 + n), true)).toBe('');
  });

  it('never crash the service, never alert falsely, and each gets a clear log line', async () => {
    const { logs } = await h.start({ POLL_INTERVAL_SECONDS: '0.2', AMPERSAND_MAX_BODY_MB: '10', UPSTREAM_DEGRADED_AFTER_CYCLES: '1000' });
    const snapKey = `${h.prefix}:state:snap:int-1`;
    await waitFor('the baseline summary', () => h.texts().length === 1);
    // Compared without each record's since when: a status that comes back dates its record anew.
    const stored = async (): Promise<string> => comparable(await h.redis.hget(snapKey, 'd'));
    const baseline = await stored();
    const figures: { name: string; polls: number; logLine: string }[] = [];

    for (const c of CASES) {
      const lines = logs.lines().length;
      const served = h.ampersand.requests.length;
      h.ampersand.setStickyFault(c.fault);
      await waitFor(`two polls of "${c.name}"`, () => h.ampersand.requests.length >= served + 2, 20_000);
      await waitFor(
        `the log line of "${c.name}"`,
        () =>
          logs
            .lines()
            .slice(lines)
            .some((l) => String(l['msg']).includes(c.logs) || l['reason'] === c.logs),
        20_000,
      );
      h.ampersand.setStickyFault(undefined);
      const line = logs
        .lines()
        .slice(lines)
        .find((l) => String(l['msg']).includes(c.logs) || l['reason'] === c.logs);
      figures.push({ name: c.name, polls: h.ampersand.requests.length - served, logLine: String(line?.['msg']).slice(0, 160) });
      expect(h.texts(), c.name).toHaveLength(1);
      // A usable body may have changed the snapshot (a status read as "(unreadable)", a cut
      // name); the next clean poll must bring it back, without an alert either way.
      if (c.usable) await waitFor(`the way back from "${c.name}"`, async () => (await stored()) === baseline, 20_000);
      expect(await stored(), c.name).toBe(baseline);
      expect((await h.get('/healthz')).status, c.name).toBe(200);
    }
    // An enum value the spec does not know: kept, warned about, and no alert either way.
    h.ampersand.update('int-1', 'a', { healthStatus: 'degraded' });
    await waitFor('the warning', () => logs.text().includes('value not in the spec: healthStatus \\"degraded\\"'));
    h.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    await waitFor('the way back', async () => (await stored()) === baseline);
    expect(h.texts()).toHaveLength(1);
    console.log(`FAULT-FIGURES ${JSON.stringify({ label: 'hostile-payloads', cases: figures.length, falseAlerts: h.texts().length - 1 })}`);
    for (const f of figures) console.log(`  ${f.name}: ${f.polls} polls; log: ${f.logLine}`);
  }, 300_000);
});

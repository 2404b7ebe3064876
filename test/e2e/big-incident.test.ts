/**
 * A big incident: 60 installations of one integration, with realistic names,
 * go wrong in one poll, each in all three conditions. They fire together, in
 * one digest, which Slack (the fake, as strict as the real one) accepts: it
 * shows as many as its size budget allows, worst first, and counts the rest;
 * the log names every one of them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.stop();
});

/** All block text, counted as Slack's cumulative limit counts it (independent of the renderer's own count). */
const blockText = (x: unknown): number =>
  Array.isArray(x)
    ? x.reduce((n: number, e: unknown) => n + blockText(e), 0)
    : typeof x === 'object' && x !== null
      ? Object.entries(x).reduce((n, [k, v]) => n + (k === 'text' && typeof v === 'string' ? v.length : blockText(v)), 0)
      : 0;

const uuid = (i: number): string => `${(0x1000_0000 + i * 7919).toString(16)}-8c1e-4d2b-9f3a-${String(i).padStart(12, '0')}`;
const groupName = (i: number): string => `Customer ${i} Holdings International Limited`.padEnd(45, '.');
const groupRef = (i: number): string => `org_${String(i).padStart(4, '0')}_eu-west-1_prod_tenant`.padEnd(35, 'x');

describe('a big incident', () => {
  it('reaches Slack in one digest within its budget, the rest counted, and every one of 60 installations is named in the log', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => uuid(i));
    expect(groupName(59)).toHaveLength(45);
    expect(groupRef(59)).toHaveLength(35);
    h.ampersand.setIntegration(
      'int-1',
      'salesforce',
      ids.map((id, i) => installationSpec(id, { groupName: groupName(i), groupRef: groupRef(i) })),
    );
    // All 60 flipping at once would be a mass event (one summary, test/e2e/outbox-priority.test.ts): the
    // thresholds are raised here so that the per-installation digest and its budget are what is tested.
    const { logs } = await h.start({ SLACK_MESSAGES_PER_SECOND: '20', FAILURE_DETAILS_PER_CYCLE: '0', MASS_EVENT_MIN_COUNT: '1000' });
    const version = async (): Promise<number> => Number(await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v'));
    await waitFor('the baseline', async () => (await version()) > 0);

    // One synchronous loop: the fake API serves all 60 changes in the same poll; they fire on the next (ALERT_AFTER_POLLS=2).
    for (const id of ids) h.ampersand.update('int-1', id, { healthStatus: 'unhealthy', lastOperationStatus: 'failure', connectionStatus: 'bad_credentials' });
    await waitFor('the firing', () => h.slack.messages.length === 1, 20_000);
    await waitFor('an empty outbox', async () => (await h.redis.llen(`${h.prefix}:state:outbox:ids`)) === 0, 20_000);

    expect(h.slack.attempts.filter((a) => a.status !== 200)).toEqual([]);
    expect(await h.redis.llen(`${h.prefix}:state:dead:ids`)).toBe(0);
    const [digest] = h.slack.messages;
    expect(digest?.body.blocks).toBeDefined();
    expect(blockText(digest?.body.blocks)).toBeLessThanOrEqual(10_000);
    const received = JSON.stringify(digest?.body.blocks);
    const shown = ids.filter((id) => received.includes(id)).length;
    expect(shown).toBeGreaterThan(0);
    // Credentials first (the worst), and the count of the events not shown.
    expect(received).toContain('Salesforce credentials rejected');
    expect(received).toMatch(/\+\d+ more event\(s\) not shown here/);
    // The phone line counts the events shown by kind and the rest: 180 in all (60 installations × 3 conditions).
    const [, firing, more] = /^\[FIRING:(\d+), \+(\d+) more\] integration int-1: /.exec(String(digest?.body.text)) ?? [];
    expect(Number(firing) + Number(more)).toBe(180);
    const fired = new Set(
      logs
        .lines()
        .filter((l) => l['event'] === 'fire')
        .map((l) => l['installationId']),
    );
    expect(ids.filter((id) => !fired.has(id))).toEqual([]);
    expect(logs.text()).not.toContain('dead letters');
  }, 60_000);
});

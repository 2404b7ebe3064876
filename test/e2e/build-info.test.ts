/**
 * Which build runs, as an operator reads it: the start-up log line and
 * `ampersand_health_monitor_build_info` on /metrics name the same version,
 * revision and Node.js.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a')]);
});
afterEach(async () => {
  await h.stop();
});

describe('the build a replica runs', () => {
  it('is named by the start-up line and by ampersand_health_monitor_build_info', async () => {
    const { logs } = await h.start();
    const started = logs.lines().find((l) => l['msg'] === 'ampersand-health-monitor started');
    // A checkout has no recorded revision; the image's package.json has one (see the Dockerfile).
    expect(started).toMatchObject({ version, revision: 'unknown', nodejs: process.version });
    const text = await h.metrics();
    expect(sample(text, 'ampersand_health_monitor_build_info', { version, revision: 'unknown', nodejs: process.version })).toBe(1);
  });
});

/**
 * The status page as a person sees it, in a real headless Chromium (Debian's
 * `chromium` package, driven by playwright-core), against the real service,
 * the fake Ampersand and Redis: the unhealthy installations are listed, a
 * group name made of HTML is shown as that text (no element is made from it),
 * the counts are those of /metrics, the page refreshes itself, and loading it
 * makes no request but its own.
 *
 * Without Chromium (set CHROMIUM_PATH, or install the Debian package
 * chromium) the test is skipped with a message; where CI is set, it fails:
 * .ci/run installs Chromium.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

/** CHROMIUM_PATH, or where Debian installs it. */
function findChromium(): string | undefined {
  const candidates = process.env['CHROMIUM_PATH'] ? [process.env['CHROMIUM_PATH']] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path) => existsSync(path));
}

const chromiumPath = findChromium();
const inCi = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';
if (chromiumPath === undefined && inCi) {
  throw new Error('Chromium is missing in CI: .ci/run should have installed it (Debian package chromium), or set CHROMIUM_PATH');
}
if (chromiumPath === undefined) console.warn('Chromium not found (Debian package chromium, or set CHROMIUM_PATH): the status page browser test is skipped');

/** A group name made of markup: shown as it is, it is text; parsed, it would make elements and run script. */
const EVIL = `<b>Evil & "Co"</b>\n<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> 'quoted'`;

let h: Harness;
let browser: Browser | undefined;

beforeAll(async () => {
  if (chromiumPath === undefined) return;
  // No sandbox: the tests may run as root (in a container), where Chromium's sandbox refuses to start;
  // the browser loads only the local page under test.
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [
    installationSpec('ok-1'),
    installationSpec('ok-2'),
    installationSpec('evil', { healthStatus: 'unhealthy', groupName: EVIL, groupRef: 'org_evil' }),
    installationSpec('creds', { connectionStatus: 'bad_credentials', lastOperationStatus: 'failure' }),
  ]);
  h.ampersand.setIntegration('int-2', 'hubspot', [
    installationSpec('h-1', { integrationId: 'int-2', provider: 'hubspot' }),
    installationSpec('h-2', { integrationId: 'int-2', provider: 'hubspot', healthStatus: 'unhealthy' }),
    installationSpec('h-3', { integrationId: 'int-2', provider: 'hubspot', healthStatus: 'unhealthy' }),
  ]);
});
afterEach(async () => {
  await h.stop();
});

/** The page's rows of one table body, each as the text of its cells. */
async function rows(page: Page, section: string): Promise<string[][]> {
  const trs = await page.locator(`#${section} tbody tr`).all();
  return Promise.all(trs.map((tr) => tr.locator('th, td').allTextContents()));
}

/** An integration's counts by health as the page shows them: `{ healthy: 3, unhealthy: 1 }`. */
async function healthCounts(page: Page, integrationId: string): Promise<Record<string, number>> {
  const counts = page
    .locator('#integrations tbody tr')
    .filter({ has: page.locator('th', { hasText: integrationId }) })
    .locator('td.health ul.counts');
  const [values, numbers] = await Promise.all([counts.locator('.k').allTextContents(), counts.locator('.v').allTextContents()]);
  return Object.fromEntries(values.map((value, i) => [value, Number((numbers[i] ?? '').replace(/,/g, ''))]));
}

describe.skipIf(chromiumPath === undefined)('the status page in headless Chromium', () => {
  it('lists the installations needing attention with their group names as text, shows the counts of /metrics, refreshes itself and loads nothing else', async () => {
    const { monitor } = await h.start({ AMPERSAND_INTEGRATION_IDS: 'int-1,int-2', DASHBOARD_URL: 'https://grafana.example.com/d/ahm?orgId=1' });
    await waitFor('both integrations in /metrics', async () => {
      const text = await h.metrics();
      return ['int-1', 'int-2'].every((id) => sample(text, 'ampersand_installations', { integration_id: id, health_status: 'healthy' }) !== undefined);
    });
    const page = await browser!.newPage();
    const requests: string[] = [];
    const complaints: string[] = [];
    page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
    page.on('console', (message) => {
      // A CSP violation (something the page tried to load or run) is reported as a console error.
      if (message.type() === 'error' || message.type() === 'warning') complaints.push(message.text());
    });
    page.on('pageerror', (error) => complaints.push(error.message));
    const url = `http://127.0.0.1:${monitor.httpPort}/`;
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const metrics = await h.metrics();

    // The installations needing attention, worst first; the evil group name is there as the text it is.
    const attention = await rows(page, 'attention');
    expect(attention.map((cells) => cells.at(-2))).toEqual(['creds', 'evil', 'h-2', 'h-3']);
    const evil = attention.find((cells) => cells.at(-2) === 'evil') ?? [];
    expect(evil.slice(0, 7)).toEqual(['int-1', EVIL, 'org_evil', 'salesforce', 'unhealthy', 'success', 'working']);
    expect(await page.locator('#attention td.group', { hasText: '<b>Evil & "Co"</b>' }).isVisible()).toBe(true);
    expect(await page.locator('#attention').innerText()).toContain('<b>Evil & "Co"</b>');
    // No element was made from it, and nothing of it ran.
    expect(await page.locator('b, img, script').count()).toBe(0);
    // The function runs in the page, where globalThis is its window.
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('#attention .badge').innerText()).toBe('4');

    // The counts are those /metrics exports.
    for (const id of ['int-1', 'int-2']) {
      const shown = await healthCounts(page, id);
      const exported = Object.fromEntries(
        ['healthy', 'unhealthy'].map((status) => [status, sample(metrics, 'ampersand_installations', { integration_id: id, health_status: status }) ?? -1]),
      );
      expect({ id, shown: { healthy: shown['healthy'] ?? 0, unhealthy: shown['unhealthy'] ?? 0 } }).toEqual({ id, shown: exported });
      const total = await page
        .locator('#integrations tbody tr')
        .filter({ has: page.locator('th', { hasText: id }) })
        .locator('td.num')
        .first()
        .innerText();
      expect(Number(total)).toBe((exported['healthy'] ?? 0) + (exported['unhealthy'] ?? 0));
    }
    expect(await healthCounts(page, 'int-1')).toEqual({ healthy: 3, unhealthy: 1 });

    // The monitor's own state, and the dashboard link.
    const monitorText = await page.locator('#monitor').innerText();
    expect(monitorText).toMatch(/Ampersand API readable\s+yes/);
    expect(monitorText).toMatch(/Dead letters\s+0/);
    const link = page.getByRole('link', { name: 'Grafana dashboard' });
    expect(await link.getAttribute('href')).toBe('https://grafana.example.com/d/ahm?orgId=1');

    // It refreshes itself, and loaded nothing but itself, with nothing refused.
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('30');
    expect(await page.title()).toBe('4 need attention · Ampersand health monitor');
    expect(requests).toEqual([`GET ${url}`]);
    expect(complaints).toEqual([]);
    await page.close();
  });
});

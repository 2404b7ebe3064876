/**
 * The compose stack's demo profile without Docker: the stack simulator
 * (src/simulator/stack-simulator.ts, the Dockerfile's demo target) run as the
 * image runs it, and the production service configured with the environment
 * compose.yaml gives monitor-demo, against it. What the demo shows, the Slack
 * messages arriving at the webhook catcher, is what this test waits for.
 */
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../helpers/harness.js';
import { REDIS_URL, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';
import { specErrors } from '../helpers/spec.js';
import { spawnWithOutput, type Spawned } from '../helpers/spawn.js';
import { waitFor } from '../helpers/wait.js';

const ENTRY = 'dist/src/simulator/stack-simulator.js';

const running: Spawned[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

/** Starts the stack simulator on free ports and returns the URLs its banner prints. */
async function startSimulator(cwd?: string, args: readonly string[] = [ENTRY]): Promise<Spawned & { apiUrl: string; webhookUrl: string }> {
  const sim = spawnWithOutput(process.execPath, [...args, '--ampersand-port', '0', '--slack-port', '0'], {}, cwd);
  running.push(sim);
  await waitFor('the simulator banner', () => sim.output().includes('Both listen on loopback only'), 10_000);
  const apiUrl = /fake Ampersand API: (http:\/\/127\.0\.0\.1:\d+\/v1) /.exec(sim.output())?.[1] ?? '';
  const webhookUrl = /webhook catcher: +(http:\/\/127\.0\.0\.1:\d+\/services\/\S+) /.exec(sim.output())?.[1] ?? '';
  expect([apiUrl, webhookUrl].every((u) => u !== '')).toBe(true);
  return { ...sim, apiUrl, webhookUrl };
}

async function stop(p: Spawned): Promise<number | null> {
  p.child.kill('SIGTERM');
  const [code] = (await once(p.child, 'exit')) as [number | null];
  return code;
}

describe('the stack simulator', () => {
  it('serves the demo project as the spec allows and catches webhook messages as Slack would, printing what it takes', async () => {
    const sim = await startSimulator();
    const get = (path: string): Promise<Response> => fetch(`${sim.apiUrl}${path}`, { headers: { 'x-api-key': 'demo-key' } });
    const integrations = (await (await get('/projects/demo-project/integrations')).json()) as { id: string }[];
    expect(integrations.map((i) => i.id)).toEqual(['salesforce-sync', 'hubspot-contacts', 'zendesk-tickets']);
    const installations = await (await get('/projects/demo-project/integrations/hubspot-contacts/installations')).json();
    expect(specErrors('Installation', installations, true)).toBe('');
    expect((await fetch(`${sim.apiUrl}/projects/demo-project/integrations`)).status).toBe(401);

    const post = (body: unknown): Promise<Response> =>
      fetch(sim.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await post({ blocks: [{ type: 'section' }] });
    expect([refused.status, await refused.text()]).toEqual([400, 'invalid_blocks']);
    expect((await post({ text: '[FIRING:1] caught by the catcher' })).status).toBe(200);
    await waitFor('the caught message on stdout', () => sim.output().includes('[FIRING:1] caught by the catcher'));
    expect(await stop(sim)).toBe(0);
  });

  it('runs as the demo image does: the CMD of the Dockerfile demo stage, from what it copies, with no node_modules', async () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const stage = /^FROM \S+ AS demo\n([\s\S]*?)(?=^FROM |(?![\s\S]))/m.exec(dockerfile)?.[1] ?? '';
    const copies = [...stage.matchAll(/^COPY (?:--from=demo-build )?--chown=\S+ (\S+) (\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? ''] as const);
    expect(copies).toEqual([
      ['/app/dist/src/simulator', './dist/src/simulator'],
      ['package.json', './'],
    ]);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(stage)?.[1] ?? '[]') as string[];
    expect(cmd).toEqual(['node', ENTRY]);
    // /app of the image: the stage's copies of this build (npm test builds dist/ first), under a temporary directory with no node_modules above it.
    const app = mkdtempSync(join(tmpdir(), 'ahm-demo-image-'));
    try {
      cpSync('dist/src/simulator', join(app, 'dist/src/simulator'), { recursive: true });
      cpSync('package.json', join(app, 'package.json'));
      const sim = await startSimulator(app, cmd.slice(1));
      expect((await fetch(`${sim.apiUrl}/projects/demo-project/integrations`, { headers: { 'x-api-key': 'demo-key' } })).status).toBe(200);
      expect(await stop(sim)).toBe(0);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('refuses a bad argument with one line and exit code 2', async () => {
    for (const args of [['--ampersand-port', '99999'], ['--slack-port', 'x'], ['--verbose']]) {
      const sim = spawnWithOutput(process.execPath, [ENTRY, ...args], {});
      running.push(sim);
      const [code] = (await once(sim.child, 'exit')) as [number | null];
      const lines = sim.output().trim().split('\n');
      expect({ args, code, lines: lines.length }).toEqual({ args, code: 2, lines: 1 });
      expect(lines[0]).toMatch(/^stack simulator: .*; usage: /);
    }
  });

  it('stops with one line and exit code 1 when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const sim = spawnWithOutput(process.execPath, [ENTRY, '--ampersand-port', String(port), '--slack-port', '0'], {});
      running.push(sim);
      const [code] = (await once(sim.child, 'exit')) as [number | null];
      expect(code).toBe(1);
      expect(sim.output().trim().split('\n')).toEqual([expect.stringMatching(/^stack simulator failed: .*EADDRINUSE/) as string]);
    } finally {
      taken.close();
    }
  });
});

describe('the demo profile, wired as compose.yaml wires it', () => {
  it("runs the service with monitor-demo's environment against the simulator, and the Slack messages arrive at the webhook catcher", async () => {
    const compose = parse(readFileSync('compose.yaml', 'utf8')) as { services: Record<string, { environment?: Record<string, string> }> };
    const env = { ...compose.services['monitor-demo']?.environment };
    const sim = await startSimulator();
    // compose's URLs with the ports this simulator took; paths as compose has them, which must be the simulator's.
    const withPort = (composeUrl: string | undefined, actual: string): string => {
      const url = new URL(composeUrl ?? '');
      expect(`${url.protocol}//${url.hostname}${url.pathname}`).toBe(`http://127.0.0.1${new URL(actual).pathname}`);
      url.port = new URL(actual).port;
      return url.toString().replace(/\/$/, '');
    };
    const prefix = uniquePrefix();
    const redis = connect();
    const monitor = spawnWithOutput(process.execPath, ['dist/src/main.js'], {
      ...env,
      AMPERSAND_API_URL: withPort(env['AMPERSAND_API_URL'], sim.apiUrl),
      SLACK_WEBHOOK_URL: withPort(env['SLACK_WEBHOOK_URL'], sim.webhookUrl),
      // The test's Redis, a prefix of its own and a free port on loopback, instead of the stack's.
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      METRICS_PORT: String(await freePort()),
      METRICS_HOST: '127.0.0.1',
    });
    running.push(monitor);
    try {
      // hubspot-contacts-inst-5 starts unhealthy: the baseline summary of its integration is the first alert.
      await waitFor(
        'the baseline message at the webhook catcher',
        () =>
          sim.output().includes('[BASELINE] Ampersand integration hubspot-contacts: monitoring started, already needing attention: hubspot-contacts-inst-5'),
        20_000,
      );
      expect(monitor.output()).not.toMatch(/"level":"(error|fatal)"/);
      expect(await stop(monitor)).toBe(0);
      expect(await stop(sim)).toBe(0);
    } finally {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  });
});

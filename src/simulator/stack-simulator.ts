/**
 * The simulator of the compose stack's demo profile (`docker compose --profile
 * demo up`): the demo's fake Ampersand API and a webhook catcher (the fake
 * Slack, as strict as Slack), and nothing else: no monitor, no Redis. The
 * demo monitor is the production image, configured with the URLs printed
 * here.
 *
 * Both servers listen on 127.0.0.1 only. The monitor refuses http:// URLs
 * except on loopback (its API key and webhook path must not cross a network in
 * clear), so the demo monitor runs in this container's network namespace
 * (compose `network_mode: service:simulator`), where these URLs are loopback;
 * no other container can reach them.
 *
 * Every change the simulator makes and every message the catcher takes is
 * printed on stdout (`docker compose logs -f simulator`). Its runtime imports
 * are node: modules and src/simulator/ only, so the image's demo target needs
 * no node_modules (test/deploy/compose.test.ts checks it).
 *
 *   node dist/src/simulator/stack-simulator.js [--ampersand-port N] [--slack-port N]
 *
 * Ports default to 8080 and 8081; 0 takes a free one (the tests). A bad
 * argument prints one line and exits 2; SIGTERM or SIGINT stops both servers
 * and exits 0.
 */
import { parseArgs } from 'node:util';
import { formatForConsole } from './console-format.js';
import { demoApiKey, demoIntegrations, demoProjectId, seedDemoIntegrations, stackSimulatorPorts, startDemoChurn } from './demo-scenario.js';
import { startFakeAmpersand } from './fake-ampersand-server.js';
import { startFakeSlack } from './fake-slack-server.js';

const churnEveryMs = 7000;
const usage = 'usage: node dist/src/simulator/stack-simulator.js [--ampersand-port N] [--slack-port N] (0 to 65535; 0 takes a free port)';

/** The ports from the command line, or one line saying what is wrong. */
function parsePorts(args: readonly string[]): { ampersandPort: number; slackPort: number } | { error: string } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { 'ampersand-port': { type: 'string' }, 'slack-port': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { error: error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error) };
  }
  const port = (name: string, fallback: number): number | string => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    return typeof raw === 'string' && /^\d{1,5}$/.test(raw) && Number(raw) <= 65535
      ? Number(raw)
      : `--${name} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`;
  };
  const ampersandPort = port('ampersand-port', stackSimulatorPorts.ampersand);
  const slackPort = port('slack-port', stackSimulatorPorts.slack);
  if (typeof ampersandPort === 'string') return { error: ampersandPort };
  if (typeof slackPort === 'string') return { error: slackPort };
  return { ampersandPort, slackPort };
}

const describeChange = (changes: Readonly<Record<string, unknown>>): string =>
  Object.entries(changes)
    .map(([field, value]) => `${field} → ${String(value)}`)
    .join(', ');

async function main(): Promise<void> {
  const ports = parsePorts(process.argv.slice(2));
  if ('error' in ports) {
    process.stderr.write(`stack simulator: ${ports.error}; ${usage}\n`);
    process.exit(2);
  }

  // What stop() closes, filled as start-up goes, so a signal at any point stops what runs.
  const closers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 5000).unref();
    void Promise.all(closers.map((close) => close())).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // PID 1 in a container: without handlers, SIGTERM would be ignored until compose kills it.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, stop);

  const ampersand = await startFakeAmpersand({ apiKey: demoApiKey, projectId: demoProjectId, host: '127.0.0.1', port: ports.ampersandPort });
  closers.push(() => ampersand.close());
  const slack = await startFakeSlack({
    host: '127.0.0.1',
    port: ports.slackPort,
    onMessage: (m) => process.stdout.write(`\n${formatForConsole(m.body, new Date(m.at))}`),
  });
  closers.push(() => slack.close());
  seedDemoIntegrations(ampersand);
  const stopChurn = startDemoChurn(ampersand, churnEveryMs, (c) =>
    process.stdout.write(`simulator: ${c.integrationId} ${c.installationId} ${describeChange(c.changes)}\n`),
  );
  closers.push(() => Promise.resolve(stopChurn()));
  process.stdout.write(
    [
      'ampersand-health-monitor stack simulator',
      `  fake Ampersand API: ${ampersand.url} (project ${demoProjectId}, API key ${demoApiKey}; ${demoIntegrations.length} integrations, one change every ${churnEveryMs / 1000} s)`,
      `  webhook catcher:    ${slack.webhookUrl} (a fake Slack: refuses what Slack refuses, prints what it takes)`,
      '  Both listen on loopback only: the demo monitor shares this network namespace.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`stack simulator failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/**
 * `npm run screenshot:status-page`: docs/status-page.png, the status page of
 * the demo (the built-in Ampersand simulator, no credentials), taken in
 * headless Chromium. It runs `npm run demo` as a child process on a free port
 * and its own QUEUE_PREFIX (REDIS_URL as the demo takes it: the one that
 * answers there, or a private redis-server), waits until a few installations
 * need attention (the simulator changes one every 7 s), takes the picture and
 * stops the demo. Chromium is Debian's `chromium` package, or CHROMIUM_PATH.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const output = 'docs/status-page.png';
/** Installations needing attention before the picture is taken, and the longest wait for them. */
const wantedProblems = 3;
const longestWaitMs = 90_000;

const chromiumPath = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && p !== '' && existsSync(p));
if (chromiumPath === undefined) {
  console.error('Chromium not found: install the Debian package chromium, or set CHROMIUM_PATH');
  process.exit(1);
}

/** A TCP port free right now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const demo = spawn(process.execPath, ['dist/src/simulator/main.js'], {
  env: {
    ...process.env,
    METRICS_PORT: String(await freePort()),
    METRICS_HOST: '127.0.0.1',
    POLL_INTERVAL_SECONDS: '1',
    QUEUE_PREFIX: 'ahm-screenshot',
    LOG_LEVEL: 'error',
    // Grafana's default address unless one is given, so that the picture shows where the link sits.
    DASHBOARD_URL: process.env['DASHBOARD_URL'] ?? 'http://localhost:3000/',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let banner = '';
demo.stdout.on('data', (chunk: Buffer) => (banner += chunk.toString()));
const exited = once(demo, 'exit');

try {
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (url === undefined) {
    url = /status page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(banner)?.[1];
    if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}):\n${banner}`);
    if (Date.now() > deadline) throw new Error(`the demo did not start within 30 s:\n${banner}`);
    await sleep(100);
  }

  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 });
    const waitUntil = Date.now() + longestWaitMs;
    for (;;) {
      await page.goto(url);
      const problems = Number(
        (await page
          .locator('#attention .badge')
          .textContent()
          .catch(() => '0')) ?? '0',
      );
      if (problems >= wantedProblems || Date.now() > waitUntil) break;
      process.stdout.write(`${problems} installation(s) need attention; waiting for ${wantedProblems}\n`);
      await sleep(5000);
    }
    await page.screenshot({ path: output, fullPage: true });
    console.log(`wrote ${output} from ${url}`);
  } finally {
    await browser.close();
  }
} finally {
  demo.kill('SIGTERM');
  await exited;
}

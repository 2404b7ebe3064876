/**
 * The monitor child: the service as it runs (startMonitor: workers, schedule,
 * HTTP server on a free port), for the scrape and the alert latency. It also
 * watches its own event loop, so the bench can ask how long a scrape blocked it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startMonitor, type Monitor } from '../../src/main.js';
import { serveParent } from './child-process.js';
import type { MonitorInit, MonitorRequest } from './protocol.js';

let monitor: Monitor | undefined;
// 10 ms resolution: the loop is sampled often enough to see a 50 ms block.
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

serveParent<MonitorRequest>({
  async init(init) {
    const { env } = init as MonitorInit;
    monitor = await startMonitor(parseConfig(env), { logger: createLogger('error', process.stderr), httpPort: 0 });
  },
  handle(request) {
    switch (request.cmd) {
      case 'port':
        return Promise.resolve(monitor?.httpPort);
      case 'loop-reset':
        loop.reset();
        return Promise.resolve();
      case 'cpu': {
        // Milliseconds of CPU (user + system) the process has used: what a scrape cost it, whatever the client's pace.
        const { user, system } = process.cpuUsage();
        return Promise.resolve((user + system) / 1000);
      }
      case 'loop-max':
        // Nanoseconds: the longest delay seen since the reset, less the sampling interval itself.
        return Promise.resolve(Math.max(0, loop.max / 1e6 - 10));
    }
  },
  async close() {
    loop.disable();
    await monitor?.close();
  },
});

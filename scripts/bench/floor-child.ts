/**
 * The floor: a process that does nothing but what a poll cannot avoid, the
 * HTTP GET of the listing and JSON.parse of its body, with Node's own fetch
 * (which ky wraps). Its time and peak RSS are what every poll figure is
 * divided by.
 */
import { serveParent } from './child-process.js';
import type { FloorInit, FloorRequest, FloorResult } from './protocol.js';

let target: FloorInit | undefined;

serveParent<FloorRequest>({
  init(init) {
    target = init as FloorInit;
    return Promise.resolve();
  },
  async handle() {
    if (!target) throw new Error('not initialised');
    const started = performance.now();
    const response = await fetch(target.url, { headers: { 'X-Api-Key': target.apiKey, Accept: 'application/json' } });
    const text = await response.text();
    const body: unknown = JSON.parse(text);
    const ms = performance.now() - started;
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return { ms, bytes: Buffer.byteLength(text), items: Array.isArray(body) ? body.length : 0 } satisfies FloorResult;
  },
  close: () => Promise.resolve(),
});

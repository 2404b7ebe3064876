/**
 * The version of this service, from its package.json, so that every log line
 * says which build wrote it. The file is found by walking up from this module:
 * it is one level up from src/ (tests, tsx) and two from dist/src/ (npm start,
 * the Docker image, which copies package.json next to dist/).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'ampersand-health-monitor';
let cached: string | undefined;

/** The `version` of our package.json, or "unknown" if it cannot be found (never throws). */
export function serviceVersion(): string {
  cached ??= readVersion();
  return cached;
}

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (parsed.name === PACKAGE_NAME && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // Not here (or not ours): look one level up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * The version of this service, from its package.json, so that every log line
 * says which build wrote it. The file is found by walking up from this module:
 * it is one level up from src/ (tests, tsx) and two from dist/src/ (npm start,
 * the Docker image, which copies package.json next to dist/).
 *
 * The image also records the source revision it was built from in that
 * package.json, as `gitHead` (the field `npm publish` fills with the commit):
 * the Dockerfile writes it from its REVISION build argument. A checkout has no
 * `gitHead`, so its revision is "unknown". No environment variable is involved:
 * the revision belongs to the build, not to the configuration.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'ampersand-health-monitor';
/** What a revision may look like (a commit hash, a tag, `1a2b3c-dirty`); anything else is reported as "unknown". */
const REVISION = /^[A-Za-z0-9._-]{1,64}$/;

export interface ServiceBuild {
  /** The `version` of package.json, or "unknown". */
  readonly version: string;
  /** The source revision the image was built from (package.json `gitHead`), or "unknown". */
  readonly revision: string;
}

let cached: ServiceBuild | undefined;

/** The `version` of our package.json, or "unknown" if it cannot be found (never throws). */
export function serviceVersion(): string {
  return serviceBuild().version;
}

/** Version and revision of this build, read once from our package.json (never throws). */
export function serviceBuild(): ServiceBuild {
  cached ??= readServiceBuild(dirname(fileURLToPath(import.meta.url)));
  return cached;
}

/** Version and revision from the first package.json of ours found in `from` or up to three levels above it. */
export function readServiceBuild(from: string): ServiceBuild {
  let dir = from;
  for (let depth = 0; depth < 4; depth++) {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown; gitHead?: unknown };
      if (parsed.name === PACKAGE_NAME && typeof parsed.version === 'string') {
        const revision = typeof parsed.gitHead === 'string' && REVISION.test(parsed.gitHead) ? parsed.gitHead : 'unknown';
        return { version: parsed.version, revision };
      }
    } catch {
      // Not here (or not ours): look one level up.
    }
    dir = dirname(dir);
  }
  return { version: 'unknown', revision: 'unknown' };
}

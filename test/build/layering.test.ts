/**
 * The layering of eslint.config.js can fail: small modules, placed at real
 * paths of the tree but never written to disk, are linted with the project's
 * own config through ESLint's Node API. Each wrong import must be reported by
 * the rule that owns it, and an allowed import must not be reported at all.
 */
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const LAYERING_RULES = ['import-x/no-restricted-paths', '@typescript-eslint/no-restricted-imports', 'import-x/no-cycle'];

let eslint: ESLint;

beforeAll(() => {
  // The files are not on disk, so TypeScript's project cannot hold them: their type-aware rules
  // are turned off. The layering rules read only the import statements and the files on disk.
  eslint = new ESLint({ cwd: process.cwd(), overrideConfig: tseslint.configs.disableTypeChecked });
});

/** Lints `code` as if it were the file at `filePath`; returns every message, with its rule. */
async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  if (result === undefined) throw new Error(`ESLint returned no result for ${filePath}`);
  return result.messages;
}

/** The rules of the layering that report `code` at `filePath`. */
async function layeringRulesFor(filePath: string, code: string): Promise<(string | null)[]> {
  return (await lint(filePath, code)).map((m) => m.ruleId).filter((rule) => rule === null || LAYERING_RULES.includes(rule));
}

// The import resolver reads tsconfig.json and the modules on disk, once, on the first file.
const SLOW = 60_000;

describe('the lint layering', () => {
  describe('of jobs/', () => {
    it('reports a job that imports an adapter, even for a type', { timeout: SLOW }, async () => {
      const code = "import type { Metrics } from '../src/adapters/metrics.js';\nexport type JobMetrics = Metrics;\n";
      expect(await layeringRulesFor('jobs/x.ts', code)).toEqual(['import-x/no-restricted-paths']);
    });

    it('reports a job that imports the runtime', { timeout: SLOW }, async () => {
      const code = "import { BULLMQ_NAMES } from '../src/runtime/job-names.js';\nexport const names = BULLMQ_NAMES;\n";
      expect(await layeringRulesFor('jobs/x.ts', code)).toEqual(['import-x/no-restricted-paths']);
    });

    it('reports a job that imports a node module or a runtime package', { timeout: SLOW }, async () => {
      const code = "import { readFileSync } from 'node:fs';\nimport { Queue } from 'bullmq';\nexport const used = [readFileSync, Queue];\n";
      expect(await layeringRulesFor('jobs/x.ts', code)).toEqual(['@typescript-eslint/no-restricted-imports', '@typescript-eslint/no-restricted-imports']);
    });

    it('reports a job that takes a value, not the Logger type, from pino', { timeout: SLOW }, async () => {
      const code = "import { pino } from 'pino';\nexport const make = pino;\n";
      expect(await layeringRulesFor('jobs/x.ts', code)).toEqual(['@typescript-eslint/no-restricted-imports']);
    });

    it('accepts a job that imports the core, the ports and the Logger type', { timeout: SLOW }, async () => {
      const code = [
        "import type { Logger } from 'pino';",
        "import { diffSnapshots } from '../src/core/diff.js';",
        "import type { Clock } from '../src/ports.js';",
        'export type JobDeps = { readonly logger: Logger; readonly clock: Clock };',
        'export const diff = diffSnapshots;',
        '',
      ].join('\n');
      expect(await lint('jobs/x.ts', code)).toEqual([]);
    });
  });

  describe('of src/core/', () => {
    it('reports a node module in the core', { timeout: SLOW }, async () => {
      const code = "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n";
      expect(await layeringRulesFor('src/core/x.ts', code)).toEqual(['@typescript-eslint/no-restricted-imports']);
    });

    it('reports a package that does I/O in the core', { timeout: SLOW }, async () => {
      const code = "import ky from 'ky';\nexport const http = ky;\n";
      expect(await layeringRulesFor('src/core/x.ts', code)).toEqual(['@typescript-eslint/no-restricted-imports']);
    });

    it('reports the core importing the ports or an adapter', { timeout: SLOW }, async () => {
      const code = "import type { Clock } from '../ports.js';\nimport type { Metrics } from '../adapters/metrics.js';\nexport type Both = [Clock, Metrics];\n";
      expect(await layeringRulesFor('src/core/x.ts', code)).toEqual(['import-x/no-restricted-paths', 'import-x/no-restricted-paths']);
    });

    it('accepts the core importing the core and the types of @slack/types', { timeout: SLOW }, async () => {
      const code =
        "import type { SectionBlock } from '@slack/types';\nimport type { Snapshot } from './snapshot.js';\nexport type Both = [SectionBlock, Snapshot];\n";
      expect(await lint('src/core/x.ts', code)).toEqual([]);
    });
  });

  describe('of src/adapters/', () => {
    it('reports an adapter that imports another adapter', { timeout: SLOW }, async () => {
      const code = "import type { Metrics } from './metrics.js';\nexport type AdapterMetrics = Metrics;\n";
      expect(await layeringRulesFor('src/adapters/x.ts', code)).toEqual(['import-x/no-restricted-paths']);
    });

    it('reports a Redis store that imports another adapter', { timeout: SLOW }, async () => {
      const code = "import type { Metrics } from '../metrics.js';\nexport type StoreMetrics = Metrics;\n";
      expect(await layeringRulesFor('src/adapters/redis/x.ts', code)).toEqual(['import-x/no-restricted-paths']);
    });

    it('reports an adapter that imports the runtime or a job', { timeout: SLOW }, async () => {
      const code =
        "import { BULLMQ_NAMES } from '../runtime/job-names.js';\nimport type { DeliverOutcome } from '../../jobs/deliver-notification.js';\nexport const names = BULLMQ_NAMES;\nexport type Outcome = DeliverOutcome;\n";
      expect(await layeringRulesFor('src/adapters/x.ts', code)).toEqual(['import-x/no-restricted-paths', 'import-x/no-restricted-paths']);
    });

    it('accepts the files of the Redis adapter importing each other, and the ports', { timeout: SLOW }, async () => {
      const code =
        "import { stateKeys } from './keys.js';\nimport type { Clock } from '../../ports.js';\nexport const keysOf = stateKeys;\nexport type StoreClock = Clock;\n";
      expect(await lint('src/adapters/redis/x.ts', code)).toEqual([]);
    });
  });

  describe('of src/simulator/', () => {
    it('reports the runtime importing the simulator', { timeout: SLOW }, async () => {
      const code = "import * as fixtures from '../simulator/fixtures.js';\nexport const used = fixtures;\n";
      expect(await layeringRulesFor('src/runtime/x.ts', code)).toEqual(['import-x/no-restricted-paths']);
    });

    it('reports main.ts importing the simulator', { timeout: SLOW }, async () => {
      const code = "import * as fixtures from './simulator/fixtures.js';\nexport const used = fixtures;\n";
      expect(await layeringRulesFor('src/x.ts', code)).toEqual(['import-x/no-restricted-paths']);
    });

    it('accepts the tests and the simulator itself importing the simulator', { timeout: SLOW }, async () => {
      expect(await lint('test/x.ts', "import * as fixtures from '../src/simulator/fixtures.js';\nexport const used = fixtures;\n")).toEqual([]);
      expect(await lint('src/simulator/x.ts', "import * as fixtures from './fixtures.js';\nexport const used = fixtures;\n")).toEqual([]);
    });
  });

  describe('of cycles', () => {
    it('reports a module that imports a module that imports it', { timeout: SLOW }, async () => {
      // poll-plan.ts imports diff.ts on disk; this diff.ts imports poll-plan.ts back.
      const code = "import { planPoll } from './poll-plan.js';\nexport const plan = planPoll;\n";
      expect(await layeringRulesFor('src/core/diff.ts', code)).toEqual(['import-x/no-cycle']);
    });
  });
});

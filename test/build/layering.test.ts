/**
 * The layering of eslint.config.js can fail: small modules, placed at real
 * paths of the tree but never written to disk, are linted with the project's
 * own config through ESLint's Node API. Each wrong import must be reported by
 * the rules that own it, an allowed import must not be reported at all, and
 * every zone of import-x/no-restricted-paths must be needed by some case
 * (deleting it lets a wrong import through).
 */
import { readFileSync } from 'node:fs';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const PATHS = 'import-x/no-restricted-paths';
const IMPORTS = '@typescript-eslint/no-restricted-imports';
const SYNTAX = 'no-restricted-syntax';
const CYCLE = 'import-x/no-cycle';
const LAYERING_RULES = [PATHS, IMPORTS, SYNTAX, CYCLE];

// The files are not on disk, so TypeScript's project cannot hold them: their type-aware rules
// are turned off. The layering rules read only the import statements and the files on disk.
const newESLint = (overrides: Linter.Config[] = []): ESLint =>
  new ESLint({ cwd: process.cwd(), overrideConfig: [tseslint.configs.disableTypeChecked, ...overrides] });

let eslint: ESLint;

beforeAll(() => {
  eslint = newESLint();
});

/** Lints `code` as if it were the file at `filePath`; returns every message, with its rule. */
async function lint(filePath: string, code: string, linter: ESLint = eslint): Promise<Linter.LintMessage[]> {
  const [result] = await linter.lintText(code, { filePath });
  if (result === undefined) throw new Error(`ESLint returned no result for ${filePath}`);
  return result.messages;
}

/** The rules of the layering that report `code` at `filePath`, sorted (two rules may report the same import). */
async function layeringRulesFor(filePath: string, code: string, linter: ESLint = eslint): Promise<(string | null)[]> {
  return (await lint(filePath, code, linter))
    .map((m) => m.ruleId)
    .filter((rule) => rule === null || LAYERING_RULES.includes(rule))
    .sort();
}

// The import resolver reads tsconfig.json and the modules on disk, once, on the first file.
const SLOW = 60_000;

interface Reported {
  readonly name: string;
  readonly file: string;
  readonly code: readonly string[];
  /** Every layering rule that reports it, sorted. */
  readonly rules: readonly string[];
}

/** Wrong imports, by layer; each case is also a witness for the zone test at the end. */
const REPORTED: Record<string, readonly Reported[]> = {
  'jobs/': [
    {
      name: 'an adapter, even for a type',
      file: 'jobs/x.ts',
      code: ["import type { Metrics } from '../src/adapters/metrics.js';", 'export type JobMetrics = Metrics;'],
      rules: [PATHS],
    },
    {
      name: 'the runtime',
      file: 'jobs/x.ts',
      code: ["import { BULLMQ_NAMES } from '../src/runtime/job-names.js';", 'export const names = BULLMQ_NAMES;'],
      rules: [PATHS],
    },
    {
      name: 'a node module and a runtime package',
      file: 'jobs/x.ts',
      code: ["import { readFileSync } from 'node:fs';", "import { Queue } from 'bullmq';", 'export const used = [readFileSync, Queue];'],
      rules: [IMPORTS, IMPORTS, PATHS],
    },
    {
      name: 'the Logger type from pino rather than from the ports',
      file: 'jobs/x.ts',
      code: ["import type { Logger } from 'pino';", 'export type JobLogger = Logger;'],
      rules: [IMPORTS, PATHS],
    },
    {
      name: 'a value from pino',
      file: 'jobs/x.ts',
      code: ["import { pino } from 'pino';", 'export const make = pino;'],
      rules: [IMPORTS, PATHS],
    },
    {
      name: 'a package by import()',
      file: 'jobs/x.ts',
      code: ["export const load = () => import('bullmq');"],
      rules: [PATHS, SYNTAX],
    },
    {
      name: 'a package by a path into node_modules/',
      file: 'jobs/x.ts',
      code: ["import { Queue } from '../node_modules/bullmq/dist/esm/index.js';", 'export const used = Queue;'],
      rules: [IMPORTS, PATHS],
    },
    {
      name: 'a script',
      file: 'jobs/x.ts',
      code: ["import { specFile } from '../scripts/ampersand-api-types.js';", 'export const used = specFile;'],
      rules: [PATHS],
    },
    {
      name: 'a test module',
      file: 'jobs/x.ts',
      code: ["import { FixedClock } from '../test/fakes/fixed-clock.js';", 'export const used = FixedClock;'],
      rules: [PATHS],
    },
    {
      name: 'the simulator',
      file: 'jobs/x.ts',
      code: ["import * as fixtures from '../src/simulator/fixtures.js';", 'export const used = fixtures;'],
      rules: [PATHS],
    },
  ],
  'src/core/': [
    {
      name: 'a node module',
      file: 'src/core/x.ts',
      code: ["import { readFileSync } from 'node:fs';", 'export const read = readFileSync;'],
      rules: [IMPORTS],
    },
    {
      name: 'a node module by import()',
      file: 'src/core/x.ts',
      code: ["export const load = () => import('node:fs');"],
      rules: [SYNTAX],
    },
    {
      name: 'a package that does I/O',
      file: 'src/core/x.ts',
      code: ["import ky from 'ky';", 'export const http = ky;'],
      rules: [IMPORTS, PATHS],
    },
    {
      name: 'a package by a path into node_modules/',
      file: 'src/core/x.ts',
      code: ["import { Redis } from '../../node_modules/ioredis/built/index.js';", 'export const used = Redis;'],
      rules: [IMPORTS, PATHS],
    },
    {
      name: 'the ports and an adapter',
      file: 'src/core/x.ts',
      code: ["import type { Clock } from '../ports.js';", "import type { Metrics } from '../adapters/metrics.js';", 'export type Both = [Clock, Metrics];'],
      rules: [PATHS, PATHS],
    },
    {
      name: 'a job, a test module, a script and the simulator',
      file: 'src/core/x.ts',
      code: [
        "import type { PollOutcome } from '../../jobs/poll-integration.js';",
        "import { FixedClock } from '../../test/fakes/fixed-clock.js';",
        "import { specFile } from '../../scripts/ampersand-api-types.js';",
        "import * as fixtures from '../simulator/fixtures.js';",
        'export type Outcome = PollOutcome;',
        'export const used = [FixedClock, specFile, fixtures];',
      ],
      rules: [PATHS, PATHS, PATHS, PATHS],
    },
  ],
  'src/ports.ts': [
    {
      name: 'a re-export of an adapter',
      file: 'src/ports.ts',
      code: ["export { createMetrics } from './adapters/metrics.js';"],
      rules: [PATHS, SYNTAX],
    },
    {
      name: 'a type re-export of the runtime',
      file: 'src/ports.ts',
      code: ["export type { Runtime } from './runtime/runtime.js';"],
      rules: [PATHS],
    },
    {
      name: 'the types of a package other than pino',
      file: 'src/ports.ts',
      code: ["import type { Redis } from 'ioredis';", 'export type Connection = Redis;'],
      rules: [IMPORTS, PATHS],
    },
    {
      name: 'a value from pino',
      file: 'src/ports.ts',
      code: ["import { pino } from 'pino';", 'export type Make = typeof pino;'],
      rules: [IMPORTS, SYNTAX],
    },
    {
      name: 'a value and an import()',
      file: 'src/ports.ts',
      code: ["export const load = () => import('./core/diff.js');"],
      rules: [SYNTAX, SYNTAX],
    },
  ],
  'src/adapters/': [
    {
      name: 'another adapter',
      file: 'src/adapters/x.ts',
      code: ["import type { Metrics } from './metrics.js';", 'export type AdapterMetrics = Metrics;'],
      rules: [PATHS],
    },
    {
      name: 'another adapter, from the Redis store',
      file: 'src/adapters/redis/x.ts',
      code: ["import type { Metrics } from '../metrics.js';", 'export type StoreMetrics = Metrics;'],
      rules: [PATHS],
    },
    {
      name: 'the runtime and a job',
      file: 'src/adapters/x.ts',
      code: [
        "import { BULLMQ_NAMES } from '../runtime/job-names.js';",
        "import type { DeliverOutcome } from '../../jobs/deliver-notification.js';",
        'export const names = BULLMQ_NAMES;',
        'export type Outcome = DeliverOutcome;',
      ],
      rules: [PATHS, PATHS],
    },
  ],
  'src/simulator/ (imported from elsewhere)': [
    {
      name: 'the runtime',
      file: 'src/runtime/x.ts',
      code: ["import * as fixtures from '../simulator/fixtures.js';", 'export const used = fixtures;'],
      rules: [PATHS],
    },
    {
      name: 'an adapter',
      file: 'src/adapters/x.ts',
      code: ["import * as fixtures from '../simulator/fixtures.js';", 'export const used = fixtures;'],
      rules: [PATHS],
    },
    {
      name: 'main.ts',
      file: 'src/x.ts',
      code: ["import * as fixtures from './simulator/fixtures.js';", 'export const used = fixtures;'],
      rules: [PATHS],
    },
    {
      name: 'the CLI',
      file: 'src/cli/x.ts',
      code: ["import * as fixtures from '../simulator/fixtures.js';", 'export const used = fixtures;'],
      rules: [PATHS],
    },
    {
      name: 'a script',
      file: 'scripts/x.ts',
      code: ["import * as fixtures from '../src/simulator/fixtures.js';", 'export const used = fixtures;'],
      rules: [PATHS],
    },
  ],
  'src/cli/ (imported from elsewhere)': [
    {
      name: 'an adapter',
      file: 'src/adapters/x.ts',
      code: ["import { programName } from '../cli/command-definition.js';", 'export const used = programName;'],
      rules: [PATHS],
    },
    {
      name: 'the runtime',
      file: 'src/runtime/x.ts',
      code: ["import { exitCodes } from '../cli/exit-codes.js';", 'export const used = exitCodes;'],
      rules: [PATHS],
    },
    {
      name: 'a job',
      file: 'jobs/x.ts',
      code: ["import { exitCodes } from '../src/cli/exit-codes.js';", 'export const used = exitCodes;'],
      rules: [PATHS],
    },
    {
      name: 'the core',
      file: 'src/core/x.ts',
      code: ["import { exitCodes } from '../cli/exit-codes.js';", 'export const used = exitCodes;'],
      rules: [PATHS],
    },
    {
      name: 'the service entry point',
      file: 'src/x.ts',
      code: ["import { exitCodes } from './cli/exit-codes.js';", 'export const used = exitCodes;'],
      rules: [PATHS],
    },
  ],
  'any file': [
    {
      name: 'a package by a path into node_modules/, in a test',
      file: 'test/x.ts',
      code: ["import { Redis } from '../node_modules/ioredis/built/index.js';", 'export const used = Redis;'],
      rules: [IMPORTS],
    },
  ],
  cycles: [
    {
      // poll-plan.ts imports diff.ts on disk; this diff.ts imports poll-plan.ts back.
      name: 'a module that imports a module that imports it',
      file: 'src/core/diff.ts',
      code: ["import { planPoll } from './poll-plan.js';", 'export const plan = planPoll;'],
      rules: [CYCLE],
    },
  ],
};

const source = (code: readonly string[]): string => `${code.join('\n')}\n`;

describe('the lint layering', () => {
  for (const [layer, cases] of Object.entries(REPORTED)) {
    describe(`reports, in ${layer}`, () => {
      for (const { name, file, code, rules } of cases) {
        it(name, { timeout: SLOW }, async () => {
          expect(await layeringRulesFor(file, source(code))).toEqual(rules);
        });
      }
    });
  }

  describe('accepts', () => {
    it('a job that imports the core, the ports (with the Logger type) and a shared job helper', { timeout: SLOW }, async () => {
      const code = [
        "import { diffSnapshots } from '../src/core/diff.js';",
        "import type { Clock, Logger } from '../src/ports.js';",
        "import { reportInternalError } from './report-internal-error.js';",
        'export type JobDeps = { readonly logger: Logger; readonly clock: Clock };',
        'export const used = [diffSnapshots, reportInternalError];',
      ];
      expect(await lint('jobs/x.ts', source(code))).toEqual([]);
    });

    it('the core importing the core and the types of @slack/types', { timeout: SLOW }, async () => {
      const code = [
        "import type { SectionBlock } from '@slack/types';",
        "import type { Snapshot } from './snapshot.js';",
        'export type Both = [SectionBlock, Snapshot];',
      ];
      expect(await lint('src/core/x.ts', source(code))).toEqual([]);
    });

    it('the core importing croner, the cron library it works out maintenance windows with', { timeout: SLOW }, async () => {
      const code = ["import { Cron } from 'croner';", "export const next = (at: Date) => new Cron('0 2 * * SAT', { timezone: 'UTC' }).nextRun(at);"];
      expect(await lint('src/core/x.ts', source(code))).toEqual([]);
    });

    it('the ports as they are: types over the core, and the Logger type from pino', { timeout: SLOW }, async () => {
      expect(await lint('src/ports.ts', readFileSync('src/ports.ts', 'utf8'))).toEqual([]);
    });

    it('the files of the Redis adapter importing each other, and the ports', { timeout: SLOW }, async () => {
      const code = [
        "import { stateKeys } from './keys.js';",
        "import type { Clock } from '../../ports.js';",
        'export const keysOf = stateKeys;',
        'export type StoreClock = Clock;',
      ];
      expect(await lint('src/adapters/redis/x.ts', source(code))).toEqual([]);
    });

    it('the CLI, a composition root, importing config, an adapter, the runtime and the core', { timeout: SLOW }, async () => {
      const code = [
        "import { readConfig } from '../config.js';",
        "import { createRedisStores } from '../adapters/redis/stores.js';",
        "import { createAmpersandClient } from '../adapters/ampersand-client.js';",
        "import { BULLMQ_NAMES } from '../runtime/job-names.js';",
        "import { planPoll } from '../core/poll-plan.js';",
        "import type { Outbox } from '../ports.js';",
        "import { exitCodes } from './exit-codes.js';",
        'export type CliOutbox = Outbox;',
        'export const used = [readConfig, createRedisStores, createAmpersandClient, BULLMQ_NAMES, planPoll, exitCodes];',
      ];
      expect(await layeringRulesFor('src/cli/x.ts', source(code))).toEqual([]);
    });

    it('the tests, the bench and the simulator itself importing the simulator', { timeout: SLOW }, async () => {
      expect(await lint('test/x.ts', "import * as fixtures from '../src/simulator/fixtures.js';\nexport const used = fixtures;\n")).toEqual([]);
      expect(await lint('scripts/bench/x.ts', "import * as fixtures from '../../src/simulator/fixtures.js';\nexport const used = fixtures;\n")).toEqual([]);
      expect(await lint('src/simulator/x.ts', "import * as fixtures from './fixtures.js';\nexport const used = fixtures;\n")).toEqual([]);
    });
  });

  it('needs every zone: deleting any one lets a reported import through', { timeout: 5 * SLOW }, async () => {
    const cases = Object.values(REPORTED).flat();
    const ruleEntry = ((await eslint.calculateConfigForFile('jobs/x.ts')) as Linter.Config).rules?.[PATHS];
    if (!Array.isArray(ruleEntry)) throw new Error(`${PATHS} is not configured`);
    const options = ruleEntry[1] as { basePath: string; zones: readonly { target: unknown; from: unknown }[] };
    expect(options.zones.length).toBeGreaterThan(0);

    /** How many times the zones report the cases. */
    const countReports = async (linter: ESLint): Promise<number> => {
      let count = 0;
      for (const { file, code } of cases) count += (await layeringRulesFor(file, source(code), linter)).filter((rule) => rule === PATHS).length;
      return count;
    };
    const all = await countReports(eslint);
    const unneeded = [];
    for (const zone of options.zones) {
      const zones = options.zones.filter((other) => other !== zone);
      const without = newESLint([{ rules: { [PATHS]: ['error', { ...options, zones }] } }]);
      if ((await countReports(without)) >= all) unneeded.push(zone);
    }
    expect(unneeded).toEqual([]);
  });
});

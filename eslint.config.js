// @ts-check
/**
 * Lint gates, run by `npm test`. Beyond the usual typed checks, this file encodes
 * the layering of docs/ARCHITECTURE.md, so that a wrong import fails the build:
 *   - src/core/ is pure: it imports only src/core/, no node:* and no package
 *     (types from @slack/types and the cron library croner excepted), and has no import();
 *   - src/ports.ts holds types only and imports only src/core/ (and pino's Logger type);
 *   - jobs/ import only src/core/, src/ports.ts and jobs/ (shared helpers), and have no import();
 *   - an adapter never imports jobs/, src/runtime/ or another adapter
 *     (the files of src/adapters/redis/ are one adapter and import each other);
 *   - only src/simulator/ itself, the tests and the bench (scripts/bench/) import src/simulator/;
 *   - nothing but the CLI itself and the tests imports src/cli/ (a composition root, like src/main.ts);
 *   - no import path into node_modules/ (a package is imported by its name);
 *   - no import cycles.
 * test/build/layering.test.ts proves that each of these rules can fail.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

// Paths are resolved from this file, not from the working directory, so the ESLint Node API
// (test/build/layering.test.ts) and editors get the same zones as `npm run lint`.
const root = import.meta.dirname;
/** @param {string} dir */
const subdirectories = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

const CORE_IS_PURE = 'src/core/ is pure: it imports only src/core/.';
const JOBS_SEE_PORTS = 'jobs/ import only src/core/, src/ports.ts and the helpers in jobs/.';
const PORTS_ARE_TYPES = 'src/ports.ts holds types only: it imports only src/core/ (and the Logger type from pino).';

// Deny by default: a zone `from: '.'` lists what its target may import in `except` (paths under
// the root). A package import resolves to its file under ./node_modules/, so a package the layer
// may use is excepted by its folder; a node:* module resolves to no file and is left to
// no-restricted-imports below.
const layering = () => [
  // The core imports only the core (and the types of @slack/types, and croner: see below).
  { target: './src/core', from: '.', except: ['./src/core', './node_modules/@slack/types', './node_modules/croner'], message: CORE_IS_PURE },
  // The ports are types over the core; a re-export from here would let a job reach an adapter.
  { target: './src/ports.ts', from: '.', except: ['./src/core', './node_modules/pino'], message: PORTS_ARE_TYPES },
  // Jobs see the core, the ports and their shared helpers, never an adapter or the runtime, not even for types.
  { target: './jobs', from: '.', except: ['./src/core', './src/ports.ts', './jobs'], message: JOBS_SEE_PORTS },
  // Adapters implement ports; they do not drive jobs or each other.
  { target: './src/adapters', from: './jobs', message: 'An adapter never imports a job.' },
  { target: './src/adapters', from: './src/runtime', message: 'An adapter never imports the runtime.' },
  { target: './src/adapters/*.ts', from: './src/adapters', message: 'An adapter never imports another adapter.' },
  // An adapter in a folder (src/adapters/redis/) is one adapter: its files import each other.
  ...subdirectories('src/adapters').map((name) => ({
    target: `./src/adapters/${name}/**`,
    from: './src/adapters',
    except: [`./${name}`],
    message: 'An adapter never imports another adapter.',
  })),
  // The CLI (src/cli/) is a second composition root: like src/main.ts it may import config, adapters, runtime and
  // core, and nothing imports it. (The core, the ports and the jobs are denied it by their zones above.)
  {
    target: ['./src/adapters', './src/runtime', './src/simulator', './src/*.ts', './scripts'],
    from: './src/cli',
    message: 'Only src/cli/ itself and the tests import src/cli/: it is a composition root.',
  },
  // The simulator (fakes, fixtures, the demo) is for itself, the tests and the bench only: it is not
  // in the image. (The core, the ports and the jobs are denied it by their zones above.) The bench,
  // scripts/bench/, serves its load from the fake Ampersand; the other scripts may not use it.
  ...[
    './src/*.ts',
    ...subdirectories('src')
      .filter((name) => !['simulator', 'core'].includes(name))
      .map((name) => `./src/${name}`),
    './scripts/*.ts',
  ].map((target) => ({
    target,
    from: './src/simulator',
    message: 'Only src/simulator/, the tests and the bench import src/simulator/.',
  })),
];

/** A package is imported by its name: a path into node_modules/ would get past the zones' except lists. */
const NO_NODE_MODULES_PATH = { regex: '(^|/)node_modules(/|$)', message: 'Import a package by its name, never by a path into node_modules/.' };
/** `import()` is not checked by the import rules, so the layers that must stay pure have none. */
const NO_DYNAMIC_IMPORT = { selector: 'ImportExpression', message: 'No import() here: the layering rules check only static imports.' };

export default tseslint.config(
  // Generated from the vendored spec by `npm run generate:api` (a test fails when it is stale):
  // lint would only report the generator's style.
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', 'spec/**', 'src/core/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: root },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x parses no .ts dependency, and no-cycle sees no cycle at all.
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/external-module-folders': importX.flatConfigs.typescript.settings['import-x/external-module-folders'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: join(root, 'tsconfig.json') })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: layering() }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [NO_NODE_MODULES_PATH] }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // The same leeway as tsc's noUnusedLocals: `_`-named bindings, and the rest sibling
      // `const { dropped: _, ...kept } = x`, which is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_NODE_MODULES_PATH,
            // croner is the one package the core runs: pure date arithmetic over cron expressions and
            // time zones (Intl), no I/O; the core never schedules with it, so it starts no timer.
            // silences.ts works out maintenance windows with it, and monitor-config.ts checks them.
            { regex: '^(?!\\.|@slack/types$|croner$)', message: 'src/core/ is pure: no node:* module and no package (croner excepted).' },
            { regex: '^@slack/types$', allowTypeImports: true, message: 'src/core/ takes only types from @slack/types.' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', NO_DYNAMIC_IMPORT],
    },
  },
  {
    files: ['src/ports.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_NODE_MODULES_PATH,
            { regex: '^(?!\\.|pino$)', message: 'src/ports.ts imports no node:* module and no package but pino.' },
            { regex: '^pino$', allowTypeImports: true, message: 'src/ports.ts takes only the Logger type from pino.' },
          ],
        },
      ],
      // Types only: every statement is a type, an interface, or a type-only import or re-export.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'Program > :not(TSInterfaceDeclaration, TSTypeAliasDeclaration, ImportDeclaration[importKind="type"], ExportNamedDeclaration[exportKind="type"], ExportAllDeclaration[exportKind="type"])',
          message: 'src/ports.ts holds types only: interfaces, type aliases and type-only imports and exports.',
        },
        NO_DYNAMIC_IMPORT,
      ],
    },
  },
  {
    files: ['jobs/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_NODE_MODULES_PATH,
            { regex: '^(?!\\.)', message: 'Jobs reach the outside world through src/ports.ts: no node:* module and no package.' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', NO_DYNAMIC_IMPORT],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Fakes implement Promise-returning ports with `async` methods that have nothing to await;
      // `async` is what keeps their throws as rejections, like the real adapters'.
      '@typescript-eslint/require-await': 'off',
      // vitest's asymmetric matchers (expect.anything(), expect.any(), expect.stringContaining())
      // are typed `any` so they can stand in for any field; that is all this rule finds in tests.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // Same reason: a matcher returned from a helper or passed on is `any` by design. In tests this
      // rule found nothing else, and it was the costliest one (a sixth of `npm run lint`).
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  prettier,
);

// @ts-check
/**
 * Lint gates, run by `npm test`. Beyond the usual typed checks, this file encodes
 * the layering of docs/ARCHITECTURE.md, so that a wrong import fails the build:
 *   - src/core/ is pure: it imports only src/core/, no node:* and no package
 *     (types from @slack/types excepted);
 *   - jobs/ import only src/core/ and src/ports.ts (and pino's Logger type);
 *   - an adapter never imports jobs/, src/runtime/ or another adapter
 *     (the files of src/adapters/redis/ are one adapter and import each other);
 *   - only src/simulator/ itself and the tests import src/simulator/;
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
const JOBS_SEE_PORTS = 'jobs/ import only src/core/ and src/ports.ts.';

/** @param {string[]} jobsMayAlsoImport paths under src/ that jobs may import besides the core and the ports */
const layering = (jobsMayAlsoImport = []) => [
  // The core imports only the core.
  { target: './src/core', from: './src', except: ['./core'], message: CORE_IS_PURE },
  ...['./jobs', './test', './scripts'].map((from) => ({ target: './src/core', from, message: CORE_IS_PURE })),
  // Jobs see the core and the ports, never an adapter or the runtime, not even for types.
  { target: './jobs', from: './src', except: ['./core', './ports.ts', ...jobsMayAlsoImport], message: JOBS_SEE_PORTS },
  { target: './jobs', from: './test', message: JOBS_SEE_PORTS },
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
  // The simulator (fakes, fixtures, the demo) is for itself and the tests only: it is not in the image.
  ...[
    './src/*.ts',
    ...subdirectories('src')
      .filter((name) => name !== 'simulator')
      .map((name) => `./src/${name}`),
    './jobs',
    './scripts',
  ].map((target) => ({
    target,
    from: './src/simulator',
    message: 'Only src/simulator/ and the tests import src/simulator/.',
  })),
];

export default tseslint.config(
  // Generated from the vendored spec by `npm run generate:api` (a test fails when it is stale):
  // lint would only report the generator's style.
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'spec/**', 'src/core/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
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
            { regex: '^(?!\\.|@slack/types$)', message: 'src/core/ is pure: no node:* module and no package.' },
            { regex: '^@slack/types$', allowTypeImports: true, message: 'src/core/ takes only types from @slack/types.' },
          ],
        },
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
            { regex: '^(?!\\.|pino$)', message: 'Jobs reach the outside world through src/ports.ts: no node:* module and no package.' },
            { regex: '^pino$', allowTypeImports: true, message: 'Jobs take only the Logger type from pino.' },
          ],
        },
      ],
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
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  prettier,
);

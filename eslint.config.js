import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tandem/', 'coverage/', 'dist/', 'bin/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Layer boundaries: modules talk to each other only through their index.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '(^|/)modules/[^/]+/(?!index\\.ts$)[^/]+$',
          message: 'Import another module only through its index.ts.',
        }],
      }],
    },
  },
  {
    // A file directly in a module folder: ../people/repo.ts reaches into a sibling module.
    files: ['src/modules/*/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^\\.\\./[^./][^/]*/(?!index\\.ts$)[^/]+$|(^|/)modules/[^/]+/(?!index\\.ts$)[^/]+$',
          message: 'Import another module only through its index.ts.',
        }],
      }],
    },
  },
  {
    // A file in a module's sub-folder: ../render/lru.ts stays inside the module; ../../people/repo.ts does not.
    files: ['src/modules/*/*/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^\\.\\./\\.\\./[^./][^/]*/(?!index\\.ts$)[^/]+$|(^|/)modules/[^/]+/(?!index\\.ts$)[^/]+$',
          message: 'Import another module only through its index.ts.',
        }],
      }],
    },
  },
  {
    files: ['src/modules/**/*.ts'],
    ignores: ['src/modules/**/*.test.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "MemberExpression[object.name='process'][property.name='env']",
        message: 'Read configuration through src/config.ts only.',
      }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'src/**/*.test.ts', 'src/cli/**/*.ts'],
    rules: { 'no-console': 'off', 'no-restricted-imports': 'off' },
  },
  {
    // Plain JavaScript run by node without tsx (the build script, module hooks): not in the TS project.
    files: ['eslint.config.js', 'vitest.config.ts', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
);

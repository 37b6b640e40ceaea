// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The operator console's browser modules (docs/console.md).
    files: ['service/console/static/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'atob',
          'confirm',
          'crypto',
          'document',
          'EventSource',
          'fetch',
          'location',
          'Node',
          'sessionStorage',
          'TextDecoder',
          'TextEncoder',
          'window',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);

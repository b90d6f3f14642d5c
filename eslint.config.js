import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'examples/**', 'builders/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'dockerode', message: 'only src/docker/ may import dockerode' }, { name: '@iarna/toml', message: 'only src/cnb/toml.ts may import @iarna/toml' }] }],
    },
  },
  { files: ['src/docker/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/cnb/toml.ts'], rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'dockerode', message: 'only src/docker/ may import dockerode' }] }] } },
);

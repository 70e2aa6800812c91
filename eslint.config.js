// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Engines and the model are pure: no I/O, no process, no colour, no cluster client.
const pureLayers = ['src/model/**', 'src/netfilter/**', 'src/policy/**', 'src/dns/**', 'src/endpoints/**', 'src/trace/**'];
const ioModules = ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'child_process', 'node:child_process',
  'execa', '@kubernetes/client-node', 'chalk', 'process', 'node:process', 'net', 'node:net', 'dgram', 'node:dgram'];

export default tseslint.config(
  { ignores: ['eslint.config.js', 'dist/**', 'node_modules/**', 'bench/.data/**', 'coverage/**', 'bin/**', 'scripts/**', 'bench/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: pureLayers,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ioModules.map((name) => ({ name, message: 'engines and the model are pure: pass data in, do I/O in src/sources' })),
        patterns: [{ group: ['**/commands/**', '**/sources/**', '**/render/**', '**/cli/**'], message: 'imports point one way: commands → sources, engines, render → model' }] }],
      'no-restricted-globals': ['error', { name: 'process', message: 'engines are pure: pass what you need in' }],
    },
  },
  {
    files: ['src/render/**', 'src/sources/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/commands/**'], message: 'nothing imports a command' },
        { group: ['**/cli/**'], message: 'sources and renderers do not import the CLI layer: errors live in src/model/errors.ts' }] }],
    },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);

import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layersPlugin } from './scripts/layer-rules.mjs';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.scratch/**', 'data/**', 'load/out/**', 'media/native/build/**', '**/*.xml'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': 'off',
    },
  },
  {
    // Layer boundaries between source folders (scripts/layer-rules.mjs); import circles: scripts/check-import-cycles.mjs.
    files: ['common/**/*.ts', 'signaling/**/*.ts', 'media/**/*.ts', 'metrics/**/*.ts', 'control-plane/**/*.ts', 'cli/**/*.ts'],
    plugins: { carillon: layersPlugin(import.meta.dirname) },
    rules: { 'carillon/layers': 'error' },
  },
);

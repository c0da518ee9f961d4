// The type-aware linter (typescript-eslint), run by `npm test`. The rules that flag values typed
// `any` (no-unsafe-*, no-explicit-any) stay off until every store maps typed rows (issue 15).
// Every other rule of typescript-eslint's type-checked recommendation is an error; the few
// settings below say why they differ.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      'admin/static/**',
      'data/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json', './tsconfig.check-tests.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Handlers passed where a callback returning void is expected are hapi's and Node's norm.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // `async` marks functions that fulfil a promise-returning contract (health checks, hooks,
      // stores behind one interface) even where one of them needs no await; writing
      // `Promise.resolve(...)` by hand there would say less.
      '@typescript-eslint/require-await': 'off',
      // Leading underscores name what is left out on purpose (a destructured field, an unused argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // A timer declared before the closure that clears it and set after is not a constant.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
);

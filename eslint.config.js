// The type-aware linter (typescript-eslint), run by `npm test`. The rules that flag values typed
// `any` (no-unsafe-*) are on: request payloads, params and queries are typed by their schemas
// (http/route.ts), so a handler that reads an untyped value fails the lint. The files listed in
// `untyped` below still read `any` and have the rules off, each group for its reason; a file leaves
// the list when its values are typed. no-explicit-any stays off: the `any` left is knex's and joi's,
// not ours.
// Every other rule of typescript-eslint's type-checked recommendation is an error; the few
// settings below say why they differ.
import tseslint from 'typescript-eslint';

const unsafe = [
  'no-unsafe-assignment',
  'no-unsafe-member-access',
  'no-unsafe-argument',
  'no-unsafe-call',
  'no-unsafe-return',
].map((rule) => `@typescript-eslint/${rule}`);

const untyped = [
  // The environment as joi returns it (`any`): typing it means one interface for ~60 variables.
  'appliance/src/config.ts',
  // Tests and benchmarks read API answers as JSON (`any`) throughout.
  'test/**/*.ts',
  'bench/**/*.ts',
];

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
      ...Object.fromEntries(unsafe.map((rule) => [rule, 'error'])),
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
  { files: untyped, rules: Object.fromEntries(unsafe.map((rule) => [rule, 'off'])) },
);

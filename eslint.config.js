// The type-aware linter (typescript-eslint), run by `npm test`. The rules that flag values typed
// `any` (no-unsafe-*) are on: request payloads, params and queries are typed by their schemas
// (http/route.ts), rows by each store's row interfaces, raw SQL results by db/knex.ts's rawRows,
// the environment by config.ts's Environment (checked against its joi schema), so a file that reads
// an untyped value fails the lint. Where a library hands out `any` (knex's client and migrate.list(),
// joi's describe(), Handlebars' options.data) one typed view beside the call says what we rely on.
// Only tests and benchmarks, listed in `untyped` below, still read `any` with the rules off.
// no-explicit-any stays off: the `any` left is the libraries', not ours.
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
        project: ['./tsconfig.check.json'],
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

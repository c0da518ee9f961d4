// Every setting reaches the appliance without an edit of compose.yaml: each variable config.ts
// reads is in the appliance's environment in compose.yaml, fed from a .env variable that env.example
// documents, and README's configuration table names it. Compared with the schema itself, so the
// three cannot drift apart again.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { configVariables, environmentDescription } from '../../appliance/src/config.ts';
import { present } from '../helpers/present.ts';
import { root } from './_bundle.ts';

const compose = readFileSync(join(root, 'compose.yaml'), 'utf8');
const envExample = readFileSync(join(root, 'env.example'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
/** README's section "Configuration": its table of variables. */
const configurationTable = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## What each part does'));

/** The table's rows: the variables a row names (first column) and the whole row's text. */
const tableRows = [...configurationTable.matchAll(/^\| (`[A-Z][^|]*?) +\|.*$/gm)].map(([line, names]) => ({
  variables: [...present(names, 'names').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => present(m[1], 'a name')),
  line,
}));

/** The container's own layout, fixed by the bundle on purpose. */
const fixedByBundle = new Set(['NODE_ENV', 'HOST', 'PORT', 'DATA_DIR']);

function applianceEnvironment(): Map<string, string> {
  // The first appliance service; further replicas merge its environment (a YAML anchor).
  const block =
    /\n  appliance:(?: &[\w-]+)?\n[\s\S]*?\n    environment:(?: &[\w-]+)?\n((?:      .*\n|\s*\n)+)/.exec(
      compose,
    )?.[1] ?? '';
  return new Map(
    [...block.matchAll(/^      ([A-Z][A-Z0-9_]*): (.*)$/gm)].map(([, name, value]) => [
      present(name, 'a name'),
      present(value, `the value of ${name}`),
    ]),
  );
}

/** Variables env.example documents, set (NAME=) or shown with their default (#NAME=). */
const documented = new Set([...envExample.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
const referenced = (text: string) => [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);

test('every variable config.ts reads is passed to the appliance by compose.yaml', (t) => {
  t.true(configVariables.length > 40, 'the schema lists its variables');
  const environment = applianceEnvironment();
  for (const variable of configVariables) {
    const value = environment.get(variable);
    t.not(value, undefined, `${variable} is not in the appliance's environment in compose.yaml`);
    if (value === undefined) continue;
    if (fixedByBundle.has(variable)) {
      t.deepEqual(referenced(value), [], `${variable} is fixed by the bundle`);
    } else {
      t.true(referenced(value).length > 0, `${variable} cannot be set from .env: ${value}`);
    }
  }
});

test('every .env variable compose.yaml uses is documented in env.example, and env.example holds no stale one', (t) => {
  const used = new Set(referenced(compose));
  for (const variable of used)
    t.true(documented.has(variable), `${variable} is used by compose.yaml but not in env.example`);
  for (const variable of documented)
    t.true(used.has(variable), `${variable} is in env.example but compose.yaml never reads it`);
});

test("README's configuration table names every variable the appliance reads", (t) => {
  const named = new Set(tableRows.flatMap((row) => row.variables));
  for (const variable of configVariables) t.true(named.has(variable), `${variable} has no row in README's table`);
});

test("README's configuration table names no variable the appliance does not read", (t) => {
  const read = new Set(configVariables);
  const stale = tableRows.flatMap((row) => row.variables).filter((variable) => !read.has(variable));
  t.deepEqual(stale, [], 'rows for variables config.ts no longer reads');
});

// env.example is the one file an installer edits: a variable the bundle fixes (compose.yaml sets it
// for the container's own layout) is still named there, so that nobody sets it in vain.
test('env.example names every variable the appliance reads, those the bundle fixes included', (t) => {
  for (const variable of configVariables)
    t.regex(envExample, new RegExp(`\\b${variable}\\b`), `${variable} is not in env.example`);
  for (const variable of fixedByBundle)
    t.regex(
      envExample,
      new RegExp(`^# .*\\b${variable}\\b.*$`, 'm'),
      `env.example says in a comment that the bundle fixes ${variable}`,
    );
});

/** What config.ts checks of a variable, as the words README's row must hold for each check. */
function statedLimits(variable: string): string[] {
  const described = environmentDescription()[variable];
  const rules = (described?.rules ?? []) as {
    name: string;
    args?: { limit?: number | { ref: { path: string[] } }; options?: { scheme?: string[] } };
  }[];
  // A limit is a number, or another variable's value (SESSION_IDLE_MINUTES's at most SESSION_HOURS
  // in minutes), which the row names in backticks.
  const limit = (name: string) => {
    const value = rules.find((r) => r.name === name)?.args?.limit;
    return typeof value === 'object' ? `\`${value.ref.path.join('.')}\`` : value;
  };
  const words: string[] = [];
  const [min, max] = [limit('min'), limit('max')];
  if (described?.type === 'number') {
    if (min !== undefined && typeof max === 'string') words.push(`${min} to ${max}`);
    else if (min !== undefined && max !== undefined) words.push(`${min}–${max}`);
    else if (max !== undefined) words.push(`at most ${max}`);
  } else {
    if (min !== undefined) words.push(`≥ ${min} characters`);
    if (max !== undefined) words.push(`at most ${max} characters`);
  }
  for (const scheme of rules.find((r) => r.name === 'uri')?.args?.options?.scheme ?? []) words.push(`\`${scheme}://`);
  const flags = described?.flags as { only?: boolean } | undefined;
  if (flags?.only) for (const value of (described?.allow ?? []) as string[]) words.push(`\`${value}\``);
  return words;
}

test("README's configuration table states the limits config.ts checks (ranges, lengths, schemes, values)", (t) => {
  let checked = 0;
  for (const variable of configVariables) {
    const row = tableRows.find((r) => r.variables.includes(variable))?.line ?? '';
    for (const words of statedLimits(variable)) {
      t.true(row.includes(words), `README's row of ${variable} does not say ${words}`);
      checked += 1;
    }
  }
  t.true(checked > 40, 'the limits were read from the schema');
});

test('env.example names the identity provider redirect URIs', (t) => {
  for (const uri of ['PUBLIC_URL/auth/callback', 'PUBLIC_URL/entry/identify/callback', 'PUBLIC_URL/login?bye=true'])
    t.true(envExample.includes(uri), uri);
});

/** compose.yaml's `${NAME:-default}`: what the bundle uses when .env leaves NAME out. */
const composeDefaults = new Map(
  [...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}/g)].map(([, name, value]) => [
    present(name, 'a name'),
    present(value, `the default of ${name}`),
  ]),
);

/** config.ts's default of a variable, as the environment would spell it; undefined when none (or computed). */
function configDefault(variable: string): string | undefined {
  const flags = environmentDescription()[variable]?.flags as { default?: unknown } | undefined;
  const value = flags?.default;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

test('every default env.example shows (#NAME=value) is the one that applies when the line stays commented', (t) => {
  const set = new Set([...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  let checked = 0;
  for (const [, name, shown] of envExample.matchAll(/^#([A-Z][A-Z0-9_]*)=(.+)$/gm)) {
    const variable = present(name, 'a name');
    // An alternative to a line that is set (the PostgreSQL DATABASE_URL) is not a default.
    if (set.has(variable)) continue;
    const bundle = composeDefaults.get(variable);
    const applies = bundle ? bundle : configDefault(variable);
    // Without a default anywhere the commented value is an example (OIDC_ISSUER, TEMPLATES_DIR).
    if (applies === undefined) continue;
    t.is(shown, applies, `env.example shows #${variable}=${shown}, but ${applies} applies when it is left out`);
    checked += 1;
  }
  t.true(checked > 15, 'env.example shows the defaults it leaves commented');
});

test("README's configuration table gives each variable the default config.ts has", (t) => {
  let checked = 0;
  for (const [, names, defaults] of configurationTable.matchAll(/^\| ([^|]+?) +\| ([^|]+?) +\|/gm)) {
    const variables = [...present(names, 'names').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => present(m[1], 'a name'));
    // The defaults a row lists in backticks, in the order of its variables ("unset → …" is none).
    const values = present(defaults, 'defaults')
      .split(/[,;] /)
      .map((part) => /^`([^`]*)`$/.exec(part.trim())?.[1]);
    if (values.length !== variables.length) continue;
    variables.forEach((variable, i) => {
      const documented = values[i];
      const actual = configDefault(variable);
      if (documented === undefined || actual === undefined) return;
      t.is(documented, actual, `README says ${variable} defaults to ${documented}; config.ts has ${actual}`);
      checked += 1;
    });
  }
  t.true(checked > 20, "the table's defaults were read");
});

// The test above reads a row's defaults by position, and so skips a row whose default column does
// not list one per variable ("unset → …"): there a default must still be named.
test("README's configuration table names every default config.ts has, in the variable's row", (t) => {
  let checked = 0;
  for (const variable of configVariables) {
    const value = configDefault(variable);
    if (value === undefined) continue;
    const row = tableRows.find((r) => r.variables.includes(variable))?.line ?? '';
    t.true(row.includes(`\`${value}\``), `README's row of ${variable} does not name its default ${value}`);
    checked += 1;
  }
  t.true(checked > 30, 'the defaults were read from the schema');
});

/** Variables the appliance's code reads by name (`env.NAME`), besides the schema's. */
function variablesReadByName(): Set<string> {
  const sources = readdirSync(join(root, 'appliance/src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(root, 'appliance/src', file), 'utf8'));
  return new Set(
    sources.flatMap((text) => [...text.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => present(m[1], 'a name'))),
  );
}

/** Set by the appliance's own launcher (bin/samverka.js), never by an administrator. */
const internal = new Set(['SAMVERKA_CLI']);

test("README's Configuration section names every variable the code reads outside the schema", (t) => {
  const outside = [...variablesReadByName()].filter((v) => !configVariables.includes(v) && !internal.has(v));
  t.true(outside.includes('SAMVERKA_ENV_FILE'), 'the source was read');
  for (const variable of outside) t.true(configurationTable.includes(`\`${variable}\``), variable);
});

test("the Debian install's samverka.env.example sets only variables the appliance reads", (t) => {
  const debianEnv = readFileSync(join(root, 'provisioning/debian/samverka.env.example'), 'utf8');
  const named = [...debianEnv.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => present(m[1], 'a name'));
  t.true(named.length > 20, 'the file was read');
  t.deepEqual(
    named.filter((variable) => !configVariables.includes(variable)),
    [],
  );
});

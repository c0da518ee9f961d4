// README's two commands are the project's contract with whoever clones it: `npm ci && npm start`
// runs the appliance, `npm test` runs the suite. CI must run that same test command after `npm ci`,
// so that what CI passes is what the README promises, and the scripts must be the ones README
// describes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { run } from '../../appliance/src/cli.ts';
import { projectRoot } from '../../appliance/src/config.ts';

const read = (file: string) => readFileSync(join(projectRoot, file), 'utf8');
const readme = read('README.md');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

/** The commands of README's first shell block ("The two commands"), comments left out. */
function readmeCommands(): string[] {
  const section = readme.slice(readme.indexOf('## The two commands'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

/** The commands .ci/run runs, in order: its lines that are not comments, blank or shell control. */
function ciCommands(): string[] {
  return read('.ci/run')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

test("README's two commands are `npm ci && npm start` and `npm test`", (t) => {
  t.deepEqual(readmeCommands(), ['npm ci && npm start', 'npm test']);
});

test("CI stops at the first failure, installs with npm ci, and ends with README's test command", (t) => {
  const commands = ciCommands();
  t.true(commands.includes('set -euo pipefail'), 'a failing step fails the run');
  const install = commands.findIndex((c) => /^npm ci(\s|$)/.test(c));
  t.true(install >= 0, 'CI installs with npm ci');
  t.is(commands.at(-1), readmeCommands().at(-1), "CI's last command is README's test command");
  t.is(commands.filter((c) => /^npm (test|run test)\b/.test(c)).length, 1, 'the suite runs once');
  t.true(commands.indexOf('npm test') > install, 'after npm ci');
});

test('npm start builds only when the sources changed, then runs the built appliance; npm test runs the suite in passes', (t) => {
  t.true(readme.includes('`bin/build.js --if-changed`'), 'README names the build step of npm start');
  t.regex(scripts.start ?? '', /^node bin\/build\.js --if-changed && node dist\/appliance\/src\/main\.js$/);
  t.regex(scripts.test ?? '', /^bash provisioning\/test-deps\.sh && npm run typecheck\b.*&& npm run lint\b/);
  t.regex(scripts.test ?? '', /node test\/passes\.js$/);
});

/** A command line as its words and options, without the values' placeholders (E, FILE, [--phone P] → [--phone]). */
const shape = (command: string) =>
  command
    .replace(/ [A-Z][A-Z]*\b/g, '')
    .replace(/\s+/g, ' ')
    .trim();

test("README's CLI table lists exactly the commands `samverka --help` shows", async (t) => {
  const lines: string[] = [];
  const exit = await run(['--help'], {}, (text) => lines.push(text) > 0);
  t.is(exit, 0);
  const help = lines.join('\n');
  const shown = [...help.matchAll(/^ {2}([a-z][^\n]*?)(?: {2,}|$)/gm)].map((m) => shape(m[1]!));
  const section = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('## Layout'));
  const listed = [...section.matchAll(/^\| `([a-z][^`]*)` +\|/gm)].map((m) => shape(m[1]!));
  t.true(shown.length > 10, `the usage was read: ${shown.join('; ')}`);
  t.deepEqual([...listed].sort(), [...shown].sort());
});

test('`samverka --help` says where the command takes its configuration from, as README does: the environment, ./.env, and not ./.env under SAMVERKA_ENV_FILE', async (t) => {
  const lines: string[] = [];
  await run(['--help'], {}, (text) => lines.push(text) > 0);
  const help = lines.join('\n');
  const said = /^Configuration [\s\S]*$/m.exec(help)?.[0] ?? '';
  t.regex(said, /environment/);
  t.regex(said, /\.\/\.env/);
  t.regex(said, /SAMVERKA_ENV_FILE/, 'the help names the variable that makes it skip ./.env');
  // Every variable the help names is one README describes, in its configuration and its CLI section.
  const configuration = readme.slice(
    readme.indexOf('## Configuration'),
    readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
  );
  const cli = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('## Layout'));
  for (const variable of said.match(/\b[A-Z][A-Z_]{3,}\b/g) ?? []) {
    t.true(configuration.includes(`\`${variable}\``), `README's configuration section names ${variable}`);
    t.true(cli.includes(`\`${variable}\``), `README's CLI section names ${variable}`);
  }
});

// Import rules for the appliance (ARCHITECTURE.md, "The rules"). `npm test` runs them; a domain that
// reaches into another's files, a cycle, a transport library outside its adapter or the shared
// kernel importing a domain fails the build. There are no exceptions. test/architecture.ts checks
// that each plugin declares the domains it imports and registers after them.
const domains = '(admin|audit|connlog|docs|entry|evaluation|health|invites|meetings|rooms|staff|techtest)';
const kernel = '^appliance/src/(common|http|db)/|^appliance/src/(config|crypto|events|schedule)[.]ts$';

/** Only an adapter (the files `owners` matches) imports its transport library. */
const adapterOwns = (name, owners, library) => ({
  name,
  comment: 'Only the adapters import the transport libraries.',
  severity: 'error',
  from: { pathNot: owners },
  to: { path: `node_modules/${library}/` },
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-internals',
      comment: "A domain uses another only through the other's index.ts (its public API).",
      severity: 'error',
      from: { path: `^appliance/src/${domains}/` },
      to: {
        path: `^appliance/src/${domains}/`,
        pathNot: ['^appliance/src/$1/', `^appliance/src/${domains}/index[.]ts$`],
      },
    },
    {
      name: 'root-uses-public-apis',
      comment: 'The composition roots (server, main, cli) use domains through their index.ts too.',
      severity: 'error',
      from: { path: '^appliance/src/[^/]+[.]ts$' },
      to: { path: `^appliance/src/${domains}/`, pathNot: `^appliance/src/${domains}/index[.]ts$` },
    },
    {
      name: 'kernel-imports-no-domain',
      comment: 'The shared kernel (common/, http/, db/, config, crypto, events, schedule) is below every domain.',
      severity: 'error',
      from: { path: kernel },
      to: { path: `^appliance/src/${domains}/` },
    },
    {
      name: 'migrations-stand-alone',
      comment: 'A migration must run the same in ten years: it imports no domain code.',
      severity: 'error',
      from: { path: '^appliance/src/db/migrations/' },
      to: { path: '^appliance/src/', pathNot: '^appliance/src/db/' },
    },
    adapterOwns(
      'adapters-own-the-wire',
      '^appliance/src/invites/(mail|embedded)[.]ts$',
      '(nodemailer|smtp-server|mailparser)',
    ),
    adapterOwns(
      'sms-adapter-owns-smpp',
      '^appliance/src/invites/(sms|embedded)[.]ts$|^appliance/src/invites/smpp[.]d[.]ts$',
      'smpp',
    ),
    adapterOwns(
      'xmpp-adapter-owns-xmpp',
      '^appliance/src/rooms/xmpp[.]ts$|^appliance/src/rooms/xmpp-client[.]d[.]ts$',
      '@xmpp',
    ),
    {
      name: 'no-circular',
      comment: 'No cycles: between domains (through their index.ts) nor between files inside one.',
      severity: 'error',
      from: { path: '^appliance/src/' },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^appliance/src/|node_modules/(nodemailer|smtp-server|mailparser|smpp|@xmpp)/',
    exclude: { path: '^appliance/src/.*[.]d[.]ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    moduleSystems: ['es6'],
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

// The domain plugins, in registration order. A new domain adds one line here.
// Each imports only domains registered before it (ARCHITECTURE.md; test/architecture.ts checks).
// staff comes before every plugin with routes: it sets the default authentication they inherit.
import type { Plugin } from '@hapi/hapi';
import { plugin as db } from './db/index.ts';
import { plugin as audit } from './audit/index.ts';
import { plugin as staff } from './staff/index.ts';
import { plugin as health } from './health/index.ts';
import { plugin as docs } from './docs/index.ts';
import { plugin as meetings } from './meetings/index.ts';
import { plugin as invites } from './invites/index.ts';
import { plugin as entry } from './entry/index.ts';
import { plugin as rooms } from './rooms/index.ts';
import { plugin as techtest } from './techtest/index.ts';
import { plugin as connlog } from './connlog/index.ts';
import { plugin as evaluation } from './evaluation/index.ts';
import { plugin as admin } from './admin/index.ts';

export const plugins: Plugin<void>[] = [
  db,
  audit,
  staff,
  health,
  docs,
  meetings,
  techtest,
  entry,
  invites,
  rooms,
  evaluation,
  connlog,
  admin,
];

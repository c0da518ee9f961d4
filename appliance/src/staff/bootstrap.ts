// The very first start with an empty database creates one admin account, so that hospital IT can
// log in and add the real staff. Its generated password is printed once and must be changed.
import type { Db } from '../db/knex.ts';
import { addStaff, addUnit } from './service.ts';
import { countStaff, findUnit } from './store.ts';

export const firstAdmin = { email: 'admin@samverka.local', name: 'Administratör', unit: 'Administration' };

export async function ensureFirstAdmin(db: Db): Promise<{ email: string; password: string } | undefined> {
  if ((await countStaff(db)) > 0) return undefined;
  if (!(await findUnit(db, { name: firstAdmin.unit }))) await addUnit(db, { name: firstAdmin.unit });
  // Generated, so one-time (addStaff): the admin chooses their own at the first login.
  const { staff, generatedPassword } = await addStaff(db, { ...firstAdmin, role: 'admin' });
  return { email: staff.email, password: generatedPassword! };
}

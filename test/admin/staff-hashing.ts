// A password is hashed before the transaction that stores it. scrypt takes tens of milliseconds of
// the thread pool; on SQLite every change shares one transaction on the one connection (db/group-commit.ts),
// so a hash inside it held every other write (and read) of the appliance until it was done.
// The hash is held here at Node's crypto (crypto.scrypt, replaced for the test and synced to the
// ES module exports) while other work goes on.
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import test from 'ava';
import { startServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';
import { loggedIn } from '../meetings/_booking.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer();
});
test.after.always(() => app?.stop());

/** Holds every scrypt call made while `run` runs, until the test lets them go. */
async function holdingHashes<T>(run: (hashes: { first: Promise<void>; release(): void }) => Promise<T>): Promise<T> {
  const original = crypto.scrypt;
  const held: (() => void)[] = [];
  let released = false;
  let seen: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (seen = resolve));
  crypto.scrypt = ((...args: Parameters<typeof crypto.scrypt>) => {
    const go = () => (original as (...a: unknown[]) => void)(...args);
    if (released) return go();
    held.push(go);
    seen();
  }) as typeof crypto.scrypt;
  syncBuiltinESMExports();
  const release = () => {
    released = true;
    for (const go of held.splice(0)) go();
  };
  try {
    return await run({ first, release });
  } finally {
    release();
    crypto.scrypt = original;
    syncBuiltinESMExports();
  }
}

/** Whether a promise settles within a few seconds: the other work must not wait for the hash. */
function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  const settle = () => (done = true);
  void promise.then(settle, settle);
  return until('the other change', () => done, 5000).then(
    () => true,
    () => false,
  );
}

type Admin = Awaited<ReturnType<typeof loggedIn>>['client'];

/** What an admin sends, on a path made before the hashing is held (a new account's own hash is not the one watched). */
const cases: [string, () => Promise<(admin: Admin, unitId: string) => Promise<{ status: number }>>][] = [
  [
    'adding a staff member',
    async () => (admin, unitId) =>
      admin.submit('/admin/staff', {
        name: 'Hanna Hash',
        email: 'hanna.hash@region.example',
        unit: unitId,
        role: 'clinician',
      }),
  ],
  [
    'a new one-time password',
    async () => {
      const { staff } = await app.staff('clinician', 'Neurologi');
      return (admin) => admin.submit(`/admin/staff/${staff.id}/password`, {});
    },
  ],
];

for (const [what, prepare] of cases)
  test.serial(`${what}: the appliance's other writes go on while the password is hashed`, async (t) => {
    const { client: admin, staff } = await loggedIn(app, 'admin', 'Administration');
    await admin.get('/admin/staff');
    const submit = await prepare();
    await holdingHashes(async (hashes) => {
      const answer = submit(admin, staff.unitId);
      await hashes.first;
      // Another request's change while the hash is held: it commits.
      const other = app.server.app.db.transaction((trx) =>
        trx('care_units').where({ id: staff.unitId }).update({ name: 'Administration' }),
      );
      t.true(await settlesSoon(other), 'another change commits while the password is being hashed');
      hashes.release();
      t.true([200, 201].includes((await answer).status));
    });
  });

// A failed login's record keeps, for the audit log's ten years, when and from where it was tried;
// an e-mail address typed that names no account (a patient's, a private one mistyped) is kept
// beside it only until the retention run forgets it (RETENTION_LOGIN_ADDRESS_DAYS) - so is an
// HSA-ID a SITHS login gave that names no account - and a try on
// an account names the account, not what was typed.
import test from 'ava';
import { purge } from '../../appliance/src/admin/retention.ts';
import { findAudit, insertAudit } from '../../appliance/src/audit/store.ts';
import * as typedAddresses from '../../appliance/src/db/migrations/0033_audit_typed_addresses.ts';
import * as unknownHsaIds from '../../appliance/src/db/migrations/0036_audit_unknown_hsa_ids.ts';
import { present } from '../helpers/present.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let app: TestServer;
test.before(async () => {
  app = await startServer({ env: { RETENTION_LOGIN_ADDRESS_DAYS: '30' } });
});
test.after.always(() => app?.stop());

const daysFromNow = (days: number) => new Date(Date.now() + days * 86_400_000);
const failedLogins = async () => findAudit(app.server.app.db, { action: 'login.failed' });
/** The record as the log itself holds it, without what is kept beside it. */
const stored = async (id: number) =>
  present(await app.server.app.db('audit_log').where({ id }).first<{ details: string | null }>('details'), 'the record')
    .details ?? '';

test.serial(
  'an address that names no account is kept beside the record for the retention period, then forgotten; the record stays',
  async (t) => {
    const typed = 'anna.privat@hemma.example';
    t.is((await app.client().login(typed, 'fel lösenord')).status, 401);
    const record = present(
      (await failedLogins()).find((r) => r.details?.email === typed),
      'the failed login, with the address typed',
    );
    t.true(record.details?.unknownAccount === true);
    t.false((await stored(record.id)).includes(typed), 'not in the ten-year log itself');

    await purge(app.server.app.db, app.config.retention, 'cli', daysFromNow(29));
    t.is((await failedLogins()).find((r) => r.id === record.id)?.details?.email, typed, 'kept within 30 days');

    const counts = await purge(app.server.app.db, app.config.retention, 'cli', daysFromNow(31));
    t.true(counts.loginAddresses >= 1);
    const after = present(
      (await failedLogins()).find((r) => r.id === record.id),
      'the record, still in the log',
    );
    t.is(after.details?.email, undefined, 'the address is forgotten');
    t.true(after.details?.unknownAccount === true, 'that the account was unknown is kept');
    t.truthy(after.ip, 'so is where it came from');
  },
);

test.serial('a wrong password for an account names the account, never the address typed', async (t) => {
  const { staff } = await app.staff('clinician');
  t.is((await app.client().login(staff.email.toUpperCase(), 'fel lösenord')).status, 401);
  const record = present(
    (await failedLogins()).find((r) => r.targetId === staff.id),
    'the failed login on the account',
  );
  t.is(record.details?.email, undefined);
  t.false((await stored(record.id)).includes('@'));
});

test.serial("the addresses recorded before are moved out of the log's records by the migration", async (t) => {
  const db = app.server.app.db;
  await typedAddresses.down(db);
  // A record as the appliance wrote it before migration 0033.
  await insertAudit(db, { action: 'login.failed', targetType: 'staff', details: { email: 'sara@privat.example' } });
  // (Read from the log itself: the table beside it is not there yet.)
  const old = present(
    await db('audit_log').where('details', 'like', '%sara@privat.example%').first<{ id: number }>('id'),
    'the old record',
  );
  await typedAddresses.up(db);
  t.false((await stored(Number(old.id))).includes('sara@privat.example'), 'out of the record');
  const moved = present(
    (await failedLogins()).find((r) => r.id === Number(old.id)),
    'the record',
  );
  t.is(moved.details?.email, 'sara@privat.example', 'kept beside it, for the retention run to forget');
  t.true(moved.details?.unknownAccount === true);
  const refused = await db('audit_log')
    .where({ id: Number(old.id) })
    .update({ details: null })
    .then(
      () => false,
      () => true,
    );
  t.true(refused, 'the log is append-only again');
});

test.serial(
  "the HSA-IDs that named no account, recorded before, are moved out of the log's records by the migration",
  async (t) => {
    const db = app.server.app.db;
    const unknown = 'SE2321000016-UNKNOWN1';
    const ofDisabled = 'SE2321000016-DISABLED1';
    // Records as the appliance wrote them before migration 0036.
    await insertAudit(db, { action: 'login.failed', details: { method: 'oidc', reason: 'unknown', hsaId: unknown } });
    await insertAudit(db, {
      action: 'login.failed',
      details: { method: 'oidc', reason: 'disabled', hsaId: ofDisabled },
    });
    const idOf = async (text: string) =>
      Number(present(await db('audit_log').where('details', 'like', `%${text}%`).first<{ id: number }>('id'), text).id);
    const [unknownId, disabledId] = [await idOf(unknown), await idOf(ofDisabled)];
    await unknownHsaIds.up(db);
    t.false((await stored(unknownId)).includes(unknown), 'out of the record');
    const moved = present(
      (await failedLogins()).find((r) => r.id === unknownId),
      'the record',
    );
    t.is(moved.details?.hsaId, unknown, 'kept beside it, for the retention run to forget');
    t.true(moved.details?.unknownAccount === true);
    t.true((await stored(disabledId)).includes(ofDisabled), "a disabled account's stays: it names the account");
    const refused = await db('audit_log')
      .where({ id: unknownId })
      .update({ details: null })
      .then(
        () => false,
        () => true,
      );
    t.true(refused, 'the log is append-only again');
  },
);

// SQL for care units, staff, sessions and API tokens. Rows are mapped to the model here, once.
import { randomUUID } from 'node:crypto';
import { rowsOf, timestampParam, type Db } from '../db/knex.ts';
import { iso, toBool, toDate, type DbBigint, type DbBoolean, type DbTimestamp } from '../db/values.ts';
import type { CareUnit, Role, Staff } from './model.ts';
import { nameKey } from '../common/names.ts';

// The rows as either driver returns them (db/values.ts).
interface UnitRow {
  id: string;
  name: string;
  phone: string | null;
  created_at: DbTimestamp;
}

interface StaffRow {
  id: string;
  email: string;
  name: string;
  /** The name by the name rule (common/names.ts), for the admin's search in SQL. */
  name_key: string;
  hsa_id: string | null;
  role: Role;
  unit_id: string;
  password_hash: string | null;
  password_must_change: DbBoolean;
  failed_logins: number;
  locked_until: DbTimestamp | null;
  last_login_at: DbTimestamp | null;
  disabled_at: DbTimestamp | null;
  created_at: DbTimestamp;
}

/** How a session began: with a password, or through the identity provider (SITHS). */
export type SessionMethod = 'password' | 'oidc';

interface SessionRow {
  id: string;
  staff_id: string;
  created_at: DbTimestamp;
  expires_at: DbTimestamp;
  method: SessionMethod;
  id_token_sealed: string | null;
  /** The hash of the id the session began with, kept when it is renamed (migration 0023). */
  session_key: string | null;
  /** The person's last activity in it, to a minute (migration 0032). */
  seen_at: DbTimestamp | null;
}

interface TokenRow {
  id: string;
  staff_id: string;
  name: string;
  token_hash: string;
  created_at: DbTimestamp;
  last_used_at: DbTimestamp | null;
  revoked_at: DbTimestamp | null;
}

const units = (db: Db) => db<UnitRow>('care_units');
const staffTable = (db: Db) => db<StaffRow>('staff');
const sessions = (db: Db) => db<SessionRow>('staff_sessions');
const tokens = (db: Db) => db<TokenRow>('api_tokens');

/** What a Staff is made of (also read by the identity provider's flows, joined with staff.*). */
export type StaffFields = Pick<
  StaffRow,
  'id' | 'email' | 'name' | 'hsa_id' | 'role' | 'unit_id' | 'disabled_at' | 'password_must_change'
>;

export const toStaff = (r: StaffFields): Staff => ({
  id: r.id,
  email: r.email,
  name: r.name,
  hsaId: r.hsa_id ?? null,
  role: r.role,
  unitId: r.unit_id,
  disabled: r.disabled_at != null,
  mustChangePassword: toBool(r.password_must_change),
});

const toUnit = (r: UnitRow): CareUnit => ({ id: r.id, name: r.name, phone: r.phone ?? null });

export async function insertUnit(db: Db, unit: { name: string; phone?: string | null }): Promise<CareUnit> {
  const row: UnitRow = { id: randomUUID(), name: unit.name, phone: unit.phone ?? null, created_at: iso() };
  await units(db).insert(row);
  return toUnit(row);
}

/**
 * A care unit by its id, or by its name as people name it (the name rule, common/names.ts): "Östra"
 * pasted from a Mac (O + combining diaeresis), with a double space or in other letter case is the
 * same unit, not a second one.
 */
export async function findUnit(db: Db, by: { id?: string; name?: string }): Promise<CareUnit | undefined> {
  if (by.id) {
    const row = await units(db).where({ id: by.id }).first();
    return row ? toUnit(row) : undefined;
  }
  const key = nameKey(by.name ?? '');
  return (await listUnits(db)).find((unit) => nameKey(unit.name) === key);
}

export async function listUnits(db: Db): Promise<CareUnit[]> {
  return (await units(db).orderBy('name')).map(toUnit);
}

export interface NewStaff {
  email: string;
  name: string;
  role: Role;
  unitId: string;
  hsaId?: string | null;
  passwordHash?: string | null;
  passwordMustChange?: boolean;
}

/**
 * Adds the account unless its e-mail address or HSA-ID has one already, perhaps added a moment ago
 * by a request beside this one (a second tab's login, a form sent twice): then nothing is added
 * (undefined), and the caller looks again. On PostgreSQL the insert waits for such a request's
 * transaction and then does nothing, where a plain insert would fail on the unique index (a 500).
 */
export async function insertStaffUnlessTaken(db: Db, staff: NewStaff): Promise<Staff | undefined> {
  const row = {
    id: randomUUID(),
    email: staff.email,
    name: staff.name,
    name_key: nameKey(staff.name),
    role: staff.role,
    unit_id: staff.unitId,
    // As SITHS cards carry it, whoever gives it: the admin form, or a provider's claim at provisioning.
    hsa_id: staff.hsaId ? normaliseHsaId(staff.hsaId) : null,
    password_hash: staff.passwordHash ?? null,
    password_must_change: staff.passwordMustChange ?? false,
    created_at: iso(),
  };
  const added: unknown[] = await staffTable(db).insert(row).onConflict().ignore().returning('id');
  return added.length === 1 ? toStaff({ ...row, disabled_at: null }) : undefined;
}

export async function countStaff(db: Db): Promise<number> {
  const [{ n } = { n: 0 }]: { n: DbBigint }[] = await staffTable(db).count({ n: '*' });
  return Number(n);
}

export async function updatePassword(db: Db, staffId: string, passwordHash: string, mustChange = false): Promise<void> {
  await staffTable(db).where({ id: staffId }).update({ password_hash: passwordHash, password_must_change: mustChange });
}

/** The same password's hash in its place, unless the password changed meanwhile (a normalised rehash). */
export async function replacePasswordHash(db: Db, staffId: string, oldHash: string, newHash: string): Promise<void> {
  await staffTable(db).where({ id: staffId, password_hash: oldHash }).update({ password_hash: newHash });
}

/** Lifts a lockout: the count of wrong passwords starts afresh. */
export async function clearLoginFailures(db: Db, staffId: string): Promise<void> {
  await staffTable(db).where({ id: staffId }).update({ failed_logins: 0, locked_until: null });
}

export async function findPasswordHash(db: Db, staffId: string): Promise<string | null> {
  const row = await staffTable(db).where({ id: staffId }).first('password_hash');
  return row?.password_hash ?? null;
}

export interface LoginRecord {
  staff: Staff;
  passwordHash: string | null;
  failedLogins: number;
  lockedUntil: Date | null;
}

/**
 * An e-mail address as accounts are stored and found by it: trimmed, in lower case, and in Unicode
 * NFC, so that "å" typed as one code point (a Windows keyboard) or as "a" with a combining ring
 * (macOS, a phone, a pasted text) is the same address, as a password is (passwords.ts). Every way
 * an address comes in (the admin's forms, the command line, the login form, the identity
 * provider's claim, a booking naming a colleague) is found through this; migration 0029 made the
 * stored ones NFC.
 */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase().normalize('NFC');

export async function findLogin(db: Db, email: string): Promise<LoginRecord | undefined> {
  const row = await staffTable(db)
    .where({ email: normaliseEmail(email) })
    .first();
  if (!row) return undefined;
  return {
    staff: toStaff(row),
    passwordHash: row.password_hash,
    failedLogins: Number(row.failed_logins),
    lockedUntil: toDate(row.locked_until, true),
  };
}

/**
 * An HSA-ID as SITHS sends it: upper case ("SE2321000016-1234" typed as "se2321000016-1234" on the
 * admin form would never match a sign-in).
 */
export const normaliseHsaId = (hsaId: string): string => hsaId.trim().toUpperCase();

export async function findStaff(
  db: Db,
  by: { id?: string; email?: string; hsaId?: string },
): Promise<Staff | undefined> {
  const q = staffTable(db);
  // HSA-IDs are compared in upper case: accounts saved before they were normalised may hold lower case.
  if (by.hsaId) q.whereRaw('upper(hsa_id) = ?', [normaliseHsaId(by.hsaId)]);
  else q.where(by.id ? { id: by.id } : { email: by.email === undefined ? by.email : normaliseEmail(by.email) });
  const row = await q.first();
  return row ? toStaff(row) : undefined;
}

/**
 * Takes one try at an account's password before it is checked, in one statement: the n-th try of a
 * burst sees n, and the try that reaches `maxTries` locks the account until `lockUntil`. Returns
 * the try's number, or undefined while the account is locked. A lock that has run out starts the
 * count afresh.
 */
export async function takeLoginTry(
  db: Db,
  staffId: string,
  maxTries: number,
  lockUntil: Date,
  now = new Date(),
): Promise<number | undefined> {
  const fresh = 'case when locked_until is not null then 1 else failed_logins + 1 end';
  const result: unknown = await db.raw(
    `update staff set failed_logins = ${fresh},
       locked_until = case when ${fresh} >= ? then ${timestampParam(db)} else null end
     where id = ? and (locked_until is null or locked_until <= ${timestampParam(db)})
     returning failed_logins`,
    [maxTries, iso(lockUntil), staffId, iso(now)],
  );
  const row = rowsOf<Pick<StaffRow, 'failed_logins'>>(result)[0];
  return row ? Number(row.failed_logins) : undefined;
}

/**
 * A right password ends the count, unless the account locked after this try was taken (a burst of
 * wrong guesses beside it): only the try that itself locked the account may still open it.
 */
export async function recordLoginSuccess(
  db: Db,
  staffId: string,
  tryNumber: number,
  now = new Date(),
): Promise<boolean> {
  const n = await staffTable(db)
    .where({ id: staffId })
    .andWhere((q) =>
      q.whereNull('locked_until').orWhere('locked_until', '<=', iso(now)).orWhere('failed_logins', tryNumber),
    )
    .update({ failed_logins: 0, locked_until: null });
  return n === 1;
}

/**
 * Disabling ends the account's sessions and revokes its API tokens. Both stay gone when the account
 * is enabled again: an account is disabled because its person left or a credential may be known to
 * someone else, and a script still holding an old token must not work again on the day it returns.
 */
export async function setDisabled(db: Db, staffId: string, disabled: boolean): Promise<void> {
  await db.transaction(async (trx) => {
    await staffTable(trx)
      .where({ id: staffId })
      .update({ disabled_at: disabled ? iso() : null });
    if (!disabled) return;
    await deleteSessionsOf(trx, staffId);
    await tokens(trx).where({ staff_id: staffId }).whereNull('revoked_at').update({ revoked_at: iso() });
  });
}

/** A new session, and so the person's last login (the admin's staff list shows it). */
export async function insertSession(
  db: Db,
  session: { idHash: string; staffId: string; expiresAt: Date; method: SessionMethod; idTokenSealed?: string },
  now = new Date(),
): Promise<void> {
  await staffTable(db)
    .where({ id: session.staffId })
    .update({ last_login_at: iso(now) });
  await sessions(db).insert({
    id: session.idHash,
    staff_id: session.staffId,
    created_at: iso(now),
    expires_at: iso(session.expiresAt),
    method: session.method,
    id_token_sealed: session.idTokenSealed ?? null,
    session_key: session.idHash,
    seen_at: iso(now),
  });
}

/** A live session: its staff member, how it began, and its key. */
export interface SessionStaff {
  staff: Staff;
  /** How the session began: a password or the identity provider. */
  method: SessionMethod;
  /**
   * What belongs to the session is bound to (its technical test, its pages' view tokens): the hash
   * of the id it began with, the same after a password change gives it a new id.
   */
  key: string;
  /** The person's last activity in it, as last written. */
  seenAt: Date;
}

/**
 * The staff member behind a live session: one neither past its end (`expires_at`) nor idle since
 * `idleSince` (its last activity before then). Expired and idle sessions and disabled accounts find
 * nothing.
 */
export async function findSessionStaff(
  db: Db,
  idHash: string,
  idleSince: Date,
  now = new Date(),
): Promise<SessionStaff | undefined> {
  const row:
    | (StaffRow & { session_method: SessionMethod; session_key: string | null; session_seen_at: DbTimestamp })
    | undefined = await db('staff_sessions as s')
    .join('staff', 'staff.id', 's.staff_id')
    .where('s.id', idHash)
    .andWhere('s.expires_at', '>', iso(now))
    .andWhere('s.seen_at', '>', iso(idleSince))
    .whereNull('staff.disabled_at')
    .first('staff.*', 's.method as session_method', 's.session_key', 's.seen_at as session_seen_at');
  return row
    ? {
        staff: toStaff(row),
        method: row.session_method,
        key: row.session_key ?? idHash,
        seenAt: toDate(row.session_seen_at),
      }
    : undefined;
}

/** When a session ends and when its person was last active in it, whatever its state; undefined once deleted. */
export async function findSessionTimes(
  db: Db,
  idHash: string,
): Promise<{ expiresAt: Date; seenAt?: Date } | undefined> {
  const row = await sessions(db).where({ id: idHash }).first('expires_at', 'seen_at');
  return row ? { expiresAt: toDate(row.expires_at), seenAt: row.seen_at ? toDate(row.seen_at) : undefined } : undefined;
}

/** The person was active in the session now (never moved back: a slower request may write after a later one). */
export async function touchSession(db: Db, idHash: string, now = new Date()): Promise<void> {
  await sessions(db)
    .where({ id: idHash })
    .andWhere('seen_at', '<', iso(now))
    .update({ seen_at: iso(now) });
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await sessions(db).where({ id: idHash }).delete();
}

/** A session goes on under a new id (its method, expiry, ID token and key kept): the old id opens nothing. */
export async function renameSession(db: Db, idHash: string, newIdHash: string): Promise<void> {
  await sessions(db).where({ id: idHash }).update({ id: newIdHash });
}

/** Ends every session of an account, but the one whose hash is `keepHash`. */
export async function deleteSessionsOf(db: Db, staffId: string, keepHash?: string): Promise<void> {
  const q = sessions(db).where({ staff_id: staffId });
  if (keepHash !== undefined) q.whereNot({ id: keepHash });
  await q.delete();
}

export async function deleteExpiredSessions(db: Db, now = new Date()): Promise<number> {
  return sessions(db).where('expires_at', '<=', iso(now)).delete();
}

export async function insertToken(
  db: Db,
  token: { staffId: string; name: string; tokenHash: string },
): Promise<string> {
  const id = randomUUID();
  await tokens(db).insert({
    id,
    staff_id: token.staffId,
    name: token.name,
    token_hash: token.tokenHash,
    created_at: iso(),
  });
  return id;
}

export async function findTokenStaff(
  db: Db,
  tokenHash: string,
): Promise<{ tokenId: string; staff: Staff } | undefined> {
  const row: (StaffRow & { token_id: string }) | undefined = await db('api_tokens as t')
    .join('staff', 'staff.id', 't.staff_id')
    .where('t.token_hash', tokenHash)
    .whereNull('t.revoked_at')
    .whereNull('staff.disabled_at')
    .first('staff.*', 't.id as token_id');
  return row ? { tokenId: row.token_id, staff: toStaff(row) } : undefined;
}

export async function touchToken(db: Db, tokenId: string): Promise<void> {
  await tokens(db).where({ id: tokenId }).update({ last_used_at: iso() });
}

export async function revokeTokenByName(db: Db, staffId: string, name: string): Promise<boolean> {
  const n = await tokens(db).where({ staff_id: staffId, name }).whereNull('revoked_at').update({ revoked_at: iso() });
  return n > 0;
}

export interface TokenInfo {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revoked: boolean;
}

export async function listTokens(db: Db, staffId: string): Promise<TokenInfo[]> {
  const rows = await tokens(db).where({ staff_id: staffId }).orderBy('created_at');
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: toDate(r.created_at),
    lastUsedAt: toDate(r.last_used_at, true),
    revoked: r.revoked_at != null,
  }));
}

export interface StaffListing extends Staff {
  lastLoginAt: Date | null;
}

/** How many accounts the admin's staff list shows at a time. */
export const staffPageSize = 100;

/** `%` and `_` typed into a search are letters, not LIKE's wildcards. */
const likePart = (typed: string) => `%${typed.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Staff for the admin list, by name, a page at a time, with how many there are in all; `search`
 * matches a part of the name by the name rule (letter case, Unicode composition, apostrophes and
 * hyphens do not count: "åsa" finds "Åsa", "o'brien" finds "O’Brien", common/names.ts), or of the
 * e-mail address or HSA-ID in any case. Compared in SQL against what is stored by those rules (the
 * name's key, the e-mail address in lower case, the HSA-ID in upper case), so that a region's
 * thousands of accounts stay in the database. Without a search, every account of the unit (or all).
 */
export async function searchStaff(
  db: Db,
  filter: { search?: string; unitId?: string },
  page: { offset: number; limit: number } = { offset: 0, limit: staffPageSize },
): Promise<{ people: StaffListing[]; total: number }> {
  const typed = filter.search?.trim();
  const matching = () => {
    const q = staffTable(db);
    if (filter.unitId) q.where('unit_id', filter.unitId);
    if (typed)
      q.where((w) =>
        w
          .whereRaw("name_key like ? escape '\\'", [likePart(nameKey(typed))])
          .orWhereRaw("email like ? escape '\\'", [likePart(normaliseEmail(typed))])
          .orWhereRaw("hsa_id like ? escape '\\'", [likePart(normaliseHsaId(typed))]),
      );
    return q;
  };
  const rows: StaffRow[] = await matching().orderBy(['name', 'email']).offset(page.offset).limit(page.limit);
  const [{ n } = { n: 0 }]: { n: DbBigint }[] = await matching().count({ n: '*' });
  return { people: rows.map(toListing), total: Number(n) };
}

const toListing = (r: StaffRow): StaffListing => ({ ...toStaff(r), lastLoginAt: toDate(r.last_login_at, true) });

export async function updateStaff(
  db: Db,
  staffId: string,
  changes: { email: string; name: string; hsaId: string | null; role: Role; unitId: string },
): Promise<void> {
  await staffTable(db)
    .where({ id: staffId })
    .update({
      email: changes.email,
      name: changes.name,
      name_key: nameKey(changes.name),
      hsa_id: changes.hsaId,
      role: changes.role,
      unit_id: changes.unitId,
    });
}

export async function updateUnit(
  db: Db,
  unitId: string,
  changes: { name: string; phone: string | null },
): Promise<void> {
  await units(db).where({ id: unitId }).update({ name: changes.name, phone: changes.phone });
}

export async function revokeTokenById(db: Db, staffId: string, tokenId: string): Promise<boolean> {
  const n = await tokens(db)
    .where({ staff_id: staffId, id: tokenId })
    .whereNull('revoked_at')
    .update({ revoked_at: iso() });
  return n > 0;
}

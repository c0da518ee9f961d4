// Staff accounts: adding people and units, password login with lockout, sessions and API tokens.
// Used by the routes and by the CLI alike.
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import type { Committer } from '../events.ts';
import { randomToken, sha256 } from '../crypto.ts';
import type { Role, Staff, CareUnit } from './model.ts';
import {
  decoyHash,
  generatePassword,
  hashPassword,
  matchPassword,
  normalisedPassword,
  verifyPassword,
} from './passwords.ts';
import * as store from './store.ts';
import type { SessionMethod } from './store.ts';
import { tidyName } from '../common/names.ts';

export class StaffError extends Error {
  constructor(
    readonly code:
      | 'unit_exists'
      | 'unknown_unit'
      | 'email_taken'
      | 'hsa_taken'
      | 'unknown_staff'
      | 'token_exists'
      | 'unknown_token'
      | 'staff_disabled',
    message: string,
  ) {
    super(message);
    this.name = 'StaffError';
  }
}

const { normaliseEmail } = store;
export { normaliseEmail };

export async function addUnit(db: Db, unit: { name: string; phone?: string | null }): Promise<CareUnit> {
  const name = tidyName(unit.name);
  if (await store.findUnit(db, { name })) throw new StaffError('unit_exists', `care unit "${name}" already exists`);
  return store.insertUnit(db, { name, phone: unit.phone ?? null });
}

export interface AddStaff {
  email: string;
  name: string;
  role: Role;
  unit: string;
  hsaId?: string | null;
  password?: string;
}

/** A password hashed, and the generated one in clear when none was given (shown once). */
export interface HashedPassword {
  hash: string;
  generated?: string;
}

/**
 * Hashes a password, or a generated one. A caller that stores it in a transaction of its own (the
 * admin pages, with their audit records) hashes before it begins: scrypt takes tens of
 * milliseconds, and on SQLite every change shares one transaction on the one connection, so a hash
 * inside it held every other write and read of the appliance.
 */
export async function hashedPassword(password?: string): Promise<HashedPassword> {
  const generated = password ? undefined : generatePassword();
  return { hash: await hashPassword(password ?? generated!), generated };
}

/**
 * Adds a staff account; when no password is given one is generated and returned once. A generated
 * password has been seen by whoever added the account (on the admin page, on the terminal, in a
 * script's log): it is one-time, and must be replaced at the first login before anything else.
 * `password`: hashed before the caller's transaction (`hashedPassword`).
 */
export async function addStaff(
  db: Db,
  input: AddStaff,
  password?: HashedPassword,
): Promise<{ staff: Staff; generatedPassword?: string }> {
  const { hash: passwordHash, generated: generatedPassword } = password ?? (await hashedPassword(input.password));
  const email = normaliseEmail(input.email);
  const unit =
    (await store.findUnit(db, { name: input.unit.trim() })) ?? (await store.findUnit(db, { id: input.unit }));
  if (!unit)
    throw new StaffError('unknown_unit', `no care unit named "${input.unit}": add it first with "samverka unit add"`);
  if (await store.findStaff(db, { email })) throw new StaffError('email_taken', `${email} already has an account`);
  const hsaId = input.hsaId?.trim() ? store.normaliseHsaId(input.hsaId) : null;
  if (hsaId && (await store.findStaff(db, { hsaId })))
    throw new StaffError('hsa_taken', `HSA-ID ${hsaId} already has an account`);
  const staff = await store.insertStaffUnlessTaken(db, {
    email,
    name: input.name.trim().normalize('NFC'),
    role: input.role,
    unitId: unit.id,
    hsaId,
    passwordHash,
    passwordMustChange: generatedPassword !== undefined,
  });
  // Taken between the look-ups above and the insert: the same form sent twice at once (a double click).
  if (!staff)
    throw (await store.findStaff(db, { email }))
      ? new StaffError('email_taken', `${email} already has an account`)
      : new StaffError('hsa_taken', `HSA-ID ${hsaId} already has an account`);
  return { staff, generatedPassword };
}

export async function disableStaff(db: Db, email: string): Promise<Staff> {
  const staff = await store.findStaff(db, { email: normaliseEmail(email) });
  if (!staff) throw new StaffError('unknown_staff', `no staff account for ${email}`);
  await store.setDisabled(db, staff.id, true);
  return { ...staff, disabled: true };
}

export type LoginResult =
  | { ok: true; staff: Staff }
  | { ok: false; reason: 'invalid'; staff?: Staff }
  | { ok: false; reason: 'locked'; staff: Staff };

/** The caller's part of a change, in its transaction: the session it starts, its audit record. */
export type Within<T> = (trx: Knex.Transaction, result: T) => Promise<void>;

/**
 * Checks an e-mail and password. After `maxFailures` tries in a row without the right password the
 * account is locked for `lockoutMinutes`; while locked even the right password is refused. The
 * password is compared first, outside any transaction (the hash takes its time); then the try is
 * taken and its outcome written in one transaction with the caller's `within` (the session, the
 * audit record): one commit per try, durable before the answer. Whether a try counts is decided
 * by the one statement that takes it, so a burst of parallel guesses gets no more tries than
 * guesses made one at a time. The caller answers a locked account like an unknown one.
 */
export async function checkPassword(
  db: Db,
  policy: { maxFailures: number; lockoutMinutes: number },
  email: string,
  password: string,
  now = new Date(),
  within?: Within<LoginResult>,
): Promise<LoginResult> {
  const login = await store.findLogin(db, normaliseEmail(email));
  const known = login && !login.staff.disabled && login.passwordHash ? login : undefined;
  // An unknown account costs the same as a real check: no account enumeration by timing.
  const match = await matchPassword(password, known?.passwordHash ?? decoyHash);
  const right = match !== false;
  // A hash stored before passwords were normalised matched the form as typed: stored again
  // normalised, so that the same password works from every keyboard from now on (hashed here,
  // outside the transaction, as every hash is).
  const rehashed = known && match === 'legacy' ? await hashPassword(password) : undefined;
  const until = new Date(now.getTime() + policy.lockoutMinutes * 60000);
  return db.transaction(async (trx) => {
    const result = await (async (): Promise<LoginResult> => {
      if (!known) return { ok: false, reason: 'invalid' };
      const tryNumber = await store.takeLoginTry(trx, known.staff.id, policy.maxFailures, until, now);
      if (tryNumber === undefined) return { ok: false, reason: 'locked', staff: known.staff };
      if (!right)
        return tryNumber >= policy.maxFailures
          ? { ok: false, reason: 'locked', staff: known.staff }
          : { ok: false, reason: 'invalid', staff: known.staff };
      if (!(await store.recordLoginSuccess(trx, known.staff.id, tryNumber, now)))
        return { ok: false, reason: 'locked', staff: known.staff };
      if (rehashed && known.passwordHash)
        await store.replacePasswordHash(trx, known.staff.id, known.passwordHash, rehashed);
      return { ok: true, staff: known.staff };
    })();
    await within?.(trx, result);
    return result;
  });
}

/** A session begun: the id its cookie carries, and when it ends whatever the person does. */
export interface StartedSession {
  sid: string;
  endsAt: Date;
}

/**
 * Starts a fresh session (a new id at every login: no session fixation), ending `hours` after now
 * (config.sessionHours). A session from the identity provider keeps its ID token (sealed) for the
 * logout.
 */
export async function startSession(
  db: Db,
  staffId: string,
  session: { method: SessionMethod; hours: number; idTokenSealed?: string },
  now = new Date(),
): Promise<StartedSession> {
  // Each login also clears sessions that have run out, so the table holds live ones only.
  await store.deleteExpiredSessions(db, now);
  const sid = randomToken();
  const endsAt = new Date(now.getTime() + session.hours * 3600_000);
  await store.insertSession(
    db,
    {
      idHash: sha256(sid),
      staffId,
      expiresAt: endsAt,
      method: session.method,
      ...(session.idTokenSealed ? { idTokenSealed: session.idTokenSealed } : {}),
    },
    now,
  );
  return { sid, endsAt };
}

/**
 * How long the person's last activity in a session may be older than what is written before a
 * request writes it again: once a minute at most, so that a page of requests costs one write.
 */
const seenIntervalMs = 60_000;

/**
 * The staff member behind a session still open: not past its end (`startSession`), nor idle (no activity
 * of the person's for `idleMinutes`). A request that is the person's own (`active`; not a live
 * page's stream or the refreshes it causes) keeps the session open: it is written, at most once a
 * minute, as a record that follows a read (the group commit).
 */
export async function sessionStaff(
  db: Db,
  commits: Committer,
  sessionId: string,
  idle: { minutes: number; active: boolean },
  now = new Date(),
): Promise<store.SessionStaff | undefined> {
  const idHash = sha256(sessionId);
  const found = await store.findSessionStaff(db, idHash, new Date(now.getTime() - idle.minutes * 60_000), now);
  if (found && idle.active && now.getTime() - found.seenAt.getTime() >= seenIntervalMs)
    await commits.write((trx) => store.touchSession(trx, idHash, now));
  return found;
}

/**
 * Why a session a browser still names is no longer open: past its end (`lifetime`; its row may be
 * gone, cleared by a later login, so the end the cookie carries is asked too), idle too long
 * (`idle`), or ended on purpose (`ended`: a logout, the password changed or reset, the account
 * disabled) - the login page says which.
 */
export type SessionEnd = 'idle' | 'lifetime' | 'ended';

export async function whySessionEnded(
  db: Db,
  sessionId: string,
  endsAt: Date | undefined,
  idleMinutes: number,
  now = new Date(),
): Promise<SessionEnd> {
  const times = await store.findSessionTimes(db, sha256(sessionId));
  const end = times?.expiresAt ?? endsAt;
  if (end && end <= now) return 'lifetime';
  // sessionStaff's bound: idle once the last activity is no later than this (none written: idle too).
  if (times && (times.seenAt?.getTime() ?? 0) <= now.getTime() - idleMinutes * 60_000) return 'idle';
  return 'ended';
}

export const endSession = (db: Db, sessionId: string): Promise<void> => store.deleteSession(db, sha256(sessionId));

/** API tokens carry a recognisable prefix so that a leaked one is easy to find in a scan. */
const tokenPrefix = 'smv_';

export async function createToken(
  db: Db,
  email: string,
  name: string,
): Promise<{ token: string; tokenId: string; staff: Staff }> {
  const staff = await store.findStaff(db, { email: normaliseEmail(email) });
  if (!staff) throw new StaffError('unknown_staff', `no staff account for ${email}`);
  // Its tokens were revoked with the disable (store.setDisabled): a new one would start working,
  // unseen, the day the account is enabled again.
  if (staff.disabled) throw new StaffError('staff_disabled', `${staff.email} is disabled: enable it first`);
  if ((await store.listTokens(db, staff.id)).some((t) => t.name === name && !t.revoked)) {
    throw new StaffError(
      'token_exists',
      `${staff.email} already has a token named "${name}": revoke it first or choose another name`,
    );
  }
  const token = `${tokenPrefix}${randomToken()}`;
  const tokenId = await store.insertToken(db, { staffId: staff.id, name, tokenHash: sha256(token) });
  return { token, tokenId, staff };
}

// "Last used" is shown to a minute, so it is written at most once a minute per token. It is a
// record that follows a read: it rides the group commit with whatever else is waiting.
const touchIntervalMs = 60_000;
const lastTouched = new Map<string, number>();

export async function tokenStaff(
  db: Db,
  commits: Committer,
  token: string,
): Promise<{ tokenId: string; staff: Staff } | undefined> {
  if (!token.startsWith(tokenPrefix)) return undefined;
  const found = await store.findTokenStaff(db, sha256(token));
  if (found && Date.now() - (lastTouched.get(found.tokenId) ?? 0) >= touchIntervalMs) {
    lastTouched.set(found.tokenId, Date.now());
    await commits.write((trx) => store.touchToken(trx, found.tokenId));
  }
  return found;
}

export async function revokeToken(db: Db, email: string, name: string): Promise<Staff> {
  const staff = await store.findStaff(db, { email: normaliseEmail(email) });
  if (!staff) throw new StaffError('unknown_staff', `no staff account for ${email}`);
  if (!(await store.revokeTokenByName(db, staff.id, name))) {
    throw new StaffError('unknown_token', `${staff.email} has no active token named "${name}"`);
  }
  return staff;
}

export const minPasswordLength = 12;

/**
 * Whether a password is long enough, counted as it is hashed (NFC): an "å" typed decomposed is one
 * letter, not two. The password page and `samverka user add --password` count alike.
 */
export const longEnough = (password: string): boolean => normalisedPassword(password).length >= minPasswordLength;

export type PasswordProblem = 'wrong_current' | 'too_short' | 'mismatch' | 'unchanged';
/**
 * Every problem at once, so that the form can say them all in one go. A change gives the session
 * that made it a new id (`sessionId`, for the cookie).
 */
export type PasswordChange = { ok: true; sessionId?: string } | { ok: false; problems: PasswordProblem[] };

/**
 * Changes a password. Every other session of the account ends with it: a password is changed
 * because it may be known to someone else, and a session opened with the old one must not outlive
 * it. The one that changed it (`sessionId`) goes on under a new id: its cookie may be what was
 * copied, and a copy must end too.
 */
export async function changePassword(
  db: Db,
  staffId: string,
  sessionId: string | undefined,
  current: string,
  next: string,
  repeat: string,
  within?: Within<PasswordChange>,
): Promise<PasswordChange> {
  const stored = await store.findPasswordHash(db, staffId);
  const problems: PasswordProblem[] = [];
  if (!stored || !(await verifyPassword(current, stored))) problems.push('wrong_current');
  // Compared as they are hashed: the new password typed once composed and once decomposed is one password.
  const nextText = normalisedPassword(next);
  const repeatText = normalisedPassword(repeat);
  const currentText = normalisedPassword(current);
  if (!longEnough(nextText)) problems.push('too_short');
  if (nextText !== repeatText) problems.push('mismatch');
  if (nextText === currentText && nextText !== '') problems.push('unchanged');
  if (problems.length > 0) return { ok: false, problems };
  const hash = await hashPassword(next);
  const renewed = sessionId === undefined ? undefined : randomToken();
  // The new password, the other sessions' end, this one's new id and the caller's audit record commit together.
  await db.transaction(async (trx) => {
    await store.updatePassword(trx, staffId, hash);
    await store.deleteSessionsOf(trx, staffId, sessionId === undefined ? undefined : sha256(sessionId));
    if (sessionId !== undefined && renewed !== undefined)
      await store.renameSession(trx, sha256(sessionId), sha256(renewed));
    await within?.(trx, { ok: true, sessionId: renewed });
  });
  return { ok: true, sessionId: renewed };
}

/**
 * A new one-time password for someone who forgot theirs, given by hospital IT: the old password and
 * every session opened with it end, a lockout from the guessing is lifted, and the new password
 * must be replaced at its first login (as a new account's). Returned once.
 */
export async function resetPassword(
  db: Db,
  by: { id: string } | { email: string },
  password?: HashedPassword,
): Promise<{ staff: Staff; generatedPassword: string }> {
  const { hash, generated } = password?.generated ? password : await hashedPassword();
  const generatedPassword = generated!;
  const staff = await store.findStaff(db, 'id' in by ? by : { email: normaliseEmail(by.email) });
  if (!staff) throw new StaffError('unknown_staff', `no staff account for ${'id' in by ? by.id : by.email}`);
  await store.updatePassword(db, staff.id, hash, true);
  await store.clearLoginFailures(db, staff.id);
  await store.deleteSessionsOf(db, staff.id);
  return { staff: { ...staff, mustChangePassword: true }, generatedPassword };
}

export interface StaffChanges {
  email: string;
  name: string;
  hsaId: string | null;
  role: Role;
  unitId: string;
}

/** Edits an account from the admin UI; the e-mail and HSA-ID stay unique. */
export async function editStaff(db: Db, staffId: string, input: StaffChanges): Promise<Staff> {
  const staff = await store.findStaff(db, { id: staffId });
  if (!staff) throw new StaffError('unknown_staff', `no staff account ${staffId}`);
  if (!(await store.findUnit(db, { id: input.unitId })))
    throw new StaffError('unknown_unit', `no care unit ${input.unitId}`);
  const email = normaliseEmail(input.email);
  const holder = await store.findStaff(db, { email });
  if (holder && holder.id !== staffId) throw new StaffError('email_taken', `${email} already has an account`);
  const changes = {
    ...input,
    email,
    name: input.name.trim().normalize('NFC'),
    hsaId: input.hsaId?.trim() ? store.normaliseHsaId(input.hsaId) : null,
  };
  const hsaHolder = changes.hsaId ? await store.findStaff(db, { hsaId: changes.hsaId }) : undefined;
  if (hsaHolder && hsaHolder.id !== staffId)
    throw new StaffError('hsa_taken', `HSA-ID ${changes.hsaId} already has an account`);
  await store.updateStaff(db, staffId, changes);
  return { ...staff, ...changes };
}

export async function renameUnit(
  db: Db,
  unitId: string,
  input: { name: string; phone?: string | null },
): Promise<CareUnit> {
  const name = tidyName(input.name);
  const other = await store.findUnit(db, { name });
  if (other && other.id !== unitId) throw new StaffError('unit_exists', `care unit "${name}" already exists`);
  if (!(await store.findUnit(db, { id: unitId }))) throw new StaffError('unknown_unit', `no care unit ${unitId}`);
  const unit = { id: unitId, name, phone: input.phone?.trim() || null };
  await store.updateUnit(db, unitId, unit);
  return unit;
}

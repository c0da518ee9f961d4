// The way in for patients, proxies and guests: the one-time link, the name check, the browser it
// binds to, and the SMS code. BankID and SITHS are sent to the identity step (the identity issue).
import { randomInt, timingSafeEqual } from 'node:crypto';
import { countAttempt } from '../db/counters.ts';
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import type { Committer, EventBus } from '../events.ts';
import { keyedHash, randomToken, sha256 } from '../crypto.ts';
import { formatWhen } from '../common/clock.ts';
import type { BareMeeting, Participant } from '../meetings/index.ts';
import { findAttendance, findMeeting, findParticipant, meetingEnd } from '../meetings/index.ts';
import { findUnit } from '../staff/index.ts';
import type { CareUnit } from '../staff/index.ts';
import { findLink, linkExpiry, type LinkPerson } from './links.ts';
import { namesMatch } from '../common/names.ts';
import * as store from './store.ts';
import type { Language } from '../common/language.ts';

/** The routine's limits: five wrong names lock the link; codes are 6 digits, 10 minutes, 5 tries. */
export const limits = {
  nameTries: 5,
  codeTries: 5,
  codeMinutes: 10,
  /** Codes one person may have sent for one meeting, the first included. */
  codesPerPerson: 3,
  /** Seconds before another code may be asked for: the countdown on the page. */
  resendSeconds: 60,
  /** Codes one phone number gets in an hour, however many links point at it. */
  codesPerNumberPerHour: 6,
};

declare module '../events.ts' {
  interface DomainEvents {
    /** Five wrong names: the meeting page shows staff that the link is locked, with re-send. */
    'entry.locked': { meetingId: string; participantId: string; person: LinkPerson };
    /** A name that did not match the invitation (never the name typed: it may be someone else's). */
    'entry.name_failed': { meetingId: string; participantId: string; person: LinkPerson; triesLeft: number };
    /**
     * A link refused with a page saying why (spent in another browser, expired, locked, replaced,
     * its meeting cancelled): support reads what the person was told, and on what device.
     */
    'entry.refused': {
      meetingId: string;
      participantId: string;
      person: LinkPerson;
      problem: LinkProblem;
      browser: string;
      os: string;
    };
    /** A wrong SMS code (never the code typed). */
    'entry.code_failed': { meetingId: string; participantId: string; person: LinkPerson; triesLeft: number };
  }
}

export interface Invitation {
  person: LinkPerson;
  participant: Participant;
  /** The meeting's own fields: a guest's pages never need its other participants. */
  meeting: BareMeeting;
  /** The care unit, whose name and number a page shows (not read for a request that shows none). */
  unit: CareUnit | undefined;
  /** The name the person was invited as (never shown back to someone who typed another). */
  invitedName: string;
  mobile: string | null;
}

export type LinkProblem = 'unknown' | 'revoked' | 'expired' | 'cancelled' | 'locked' | 'used';

export type LinkLookup =
  | {
      ok: true;
      invitation: Invitation;
      state: store.EntryState;
      /** The session this browser holds that the link is bound to (it entered before). */
      held?: string;
    }
  | {
      ok: false;
      problem: LinkProblem;
      invitation?: Invitation;
      /** The booked language of a person taken off the meeting (they have no invitation any more). */
      language?: Language;
    };

/** A participant not removed, with their meeting (undefined when removed or gone). */
export type Attendance = Awaited<ReturnType<typeof findAttendance>>;

/** What the guest session's check read in this request (auth.ts): not read again in it. */
export interface SessionRead {
  attendance: Attendance;
  state: store.EntryState;
}

async function invitationOf(
  db: Db,
  participantId: string,
  person: LinkPerson,
  read?: Attendance,
  withUnit = true,
): Promise<Invitation | undefined> {
  const found = read?.participant.id === participantId ? read : await findAttendance(db, participantId);
  if (!found) return undefined;
  const { participant, meeting } = found;
  const contact = person === 'proxy' ? participant.proxy : participant;
  if (!contact) return undefined;
  return {
    person,
    participant,
    meeting,
    unit: withUnit ? await findUnit(db, { id: meeting.unitId }) : undefined,
    invitedName: contact.name,
    mobile: contact.mobile,
  };
}

/** An SMS code to send: the text is the invitations' template, the code its secret. */
export interface CodeMessage {
  recipient: string;
  language: Language;
  meetingId: string;
  participantId: string;
  person: LinkPerson;
  minutes: number;
  code: string;
}

/**
 * How entry's SMS codes leave: through the invitations' outbox, which registers itself here at
 * start (invites sits above entry, so entry cannot import it).
 */
export interface CodeMessenger {
  /** Queues the code in the caller's transaction: stored code and message commit together. */
  queue(trx: Knex.Transaction, message: CodeMessage, now: Date): Promise<void>;
  /** The code has committed: send it now rather than at the next poll. */
  queued(): void;
}

/**
 * A typed code's outcome; `triesLeft` counts the tries the code still has after this one.
 * `identified`: the person was already identified (the code typed in another tab, or sent again
 * after going back): nothing was compared, and the way on is open.
 */
export interface CodeCheck {
  outcome: 'ok' | 'identified' | 'wrong' | 'expired' | 'exhausted';
  triesLeft: number;
}

export class EntryService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly commits: Committer,
    /** ROOM_GRACE_MINUTES: a guest session lasts while the room may be open (links.ts). */
    private readonly roomGraceMinutes: number,
    /** DATA_KEY: the per-number limit counts a phone number by its keyed hash, never the number. */
    private readonly dataKey: Buffer,
  ) {}

  #messenger: CodeMessenger | undefined;

  useMessenger(messenger: CodeMessenger): void {
    this.#messenger = messenger;
  }

  /** What a link leads to. Opening it (GET) changes nothing: mail scanners open links too. */
  async lookup(token: string, guestSessions: string[], now = new Date(), { page = true } = {}): Promise<LinkLookup> {
    const link = await findLink(this.db, token);
    if (!link) return { ok: false, problem: 'unknown' };
    const invitation = await invitationOf(this.db, link.participantId, link.person, undefined, page);
    if (!invitation)
      return {
        ok: false,
        problem: 'revoked',
        language: (await findParticipant(this.db, link.participantId))?.language,
      };
    if (invitation.meeting.status === 'cancelled') return { ok: false, problem: 'cancelled', invitation };
    if (link.revoked) return { ok: false, problem: 'revoked', invitation };
    if (link.expiresAt <= now) return { ok: false, problem: 'expired', invitation };
    const { state } = link;
    const held = state.boundSession === null ? undefined : guestSessions.find((s) => sha256(s) === state.boundSession);
    if (held !== undefined) return { ok: true, invitation, state, held };
    if (state.lockedAt) return { ok: false, problem: 'locked', invitation };
    if (state.boundSession) return { ok: false, problem: 'used', invitation };
    return { ok: true, invitation, state };
  }

  /**
   * The POST from the link page: the name must be the invited one. The first browser to pass binds
   * the link; it gets a guest session (its cookie) and the token is spent for every other browser.
   * `fresh` is false when this browser had entered before: `session` is the one it holds.
   */
  async enter(
    token: string,
    typedName: string,
    guestSessions: string[],
    now = new Date(),
  ): Promise<
    | { ok: true; session: string; fresh: boolean; invitation: Invitation }
    | {
        ok: false;
        problem: LinkProblem | 'mismatch';
        triesLeft?: number;
        invitation?: Invitation;
        language?: Language;
      }
  > {
    // The right name is answered with the test page, which shows no care unit: a page about a
    // wrong name or a spent link reads it then (withUnit).
    const found = await this.lookup(token, guestSessions, now, { page: false });
    if (!found.ok) return found;
    const { invitation } = found;
    const { participant, person } = invitation;
    if (found.held !== undefined) return { ok: true, session: found.held, fresh: false, invitation };
    const meetingId = invitation.meeting.id;
    const session = randomToken();
    // The try, what it decides (the bind, or a wrong name and at the last one the lock) and their
    // connection-log entries and statuses (bus parts) commit once: a refused try is durably counted
    // before the answer, and no request sees a try taken whose outcome is not yet written.
    const outcome = await this.db.transaction(async (trx): Promise<'bound' | LinkProblem | number> => {
      // The try is counted before the name is compared: parallel guesses cannot outrun the lock.
      const tryNumber = await store.takeNameTry(trx, participant.id, person, limits.nameTries);
      if (tryNumber === undefined) return spentAs(await store.readEntryState(trx, participant.id, person));
      if (!namesMatch(typedName, invitation.invitedName)) {
        const triesLeft = limits.nameTries - tryNumber;
        await this.bus.emitIn(trx, 'entry.name_failed', {
          meetingId,
          participantId: participant.id,
          person,
          triesLeft,
        });
        if (triesLeft > 0) return triesLeft;
        // Within the try's transaction nobody else can have bound the link: this try locks it.
        if (!(await store.lockEntry(trx, participant.id, person, now)))
          return spentAs(await store.readEntryState(trx, participant.id, person));
        await this.bus.emitIn(trx, 'entry.locked', { meetingId, participantId: participant.id, person });
        return 'locked';
      }
      // Invited with no identification: the right name is the whole check, marked with the bind.
      const byName = participant.identification === 'none';
      if (!(await store.bind(trx, participant.id, person, sha256(session), now, byName ? 'name' : undefined)))
        return 'used';
      await store.insertGuestSession(
        trx,
        {
          participantId: participant.id,
          person,
          meetingId,
          sessionHash: sha256(session),
          expiresAt: linkExpiry(meetingEnd(invitation.meeting), this.roomGraceMinutes),
        },
        now,
      );
      // Both steps at once: their records are written together.
      await this.#status(trx, invitation, 'opened', ...(byName ? (['identified'] as const) : []));
      return 'bound';
    });
    if (outcome === 'bound') return { ok: true, session, fresh: true, invitation };
    if (typeof outcome === 'number') return { ok: false, problem: 'mismatch', triesLeft: outcome, invitation };
    return { ok: false, problem: outcome, invitation };
  }

  /**
   * The invitation and state behind a guest session; `read` is what the session's check read in this
   * request (auth.ts), not read again. `page: false` for a request that shows no page (a test result,
   * the waiting room's events): the care unit is not read.
   */
  async current(
    session: Pick<store.GuestSession, 'participantId' | 'person'>,
    read?: SessionRead,
    { page = true } = {},
  ): Promise<{ invitation: Invitation; state: store.EntryState } | undefined> {
    const { participantId, person } = session;
    const invitation = await invitationOf(this.db, participantId, person, read?.attendance, page);
    if (!invitation || invitation.meeting.status === 'cancelled') return undefined;
    const state =
      read?.state.participantId === participantId && read.state.person === person
        ? read.state
        : await store.readEntryState(this.db, participantId, person);
    return { invitation, state };
  }

  /**
   * The care unit of the meeting a closed way in was for (the meeting cancelled, or this person taken
   * off it): the page that says so names whom to call.
   */
  async closedMeeting(
    session: Pick<store.GuestSession, 'participantId'>,
  ): Promise<{ unit: CareUnit | undefined; cancelReason: string | null } | undefined> {
    const participant = await findParticipant(this.db, session.participantId);
    const meeting = participant && (await findMeeting(this.db, participant.meetingId));
    return meeting
      ? { unit: await findUnit(this.db, { id: meeting.unitId }), cancelReason: meeting.cancelReason }
      : undefined;
  }

  /** The invitation with its care unit, for a page (an invitation read for no page has none). */
  async withUnit(invitation: Invitation): Promise<Invitation> {
    return invitation.unit
      ? invitation
      : { ...invitation, unit: await findUnit(this.db, { id: invitation.meeting.unitId }) };
  }

  /** How many codes may still be sent, and in how many seconds the next. */
  async codeStatus(invitation: Invitation, now = new Date()): Promise<{ waitSeconds: number; sendsLeft: number }> {
    const state = await store.readEntryState(this.db, invitation.participant.id, invitation.person);
    const waitSeconds = state.lastCodeAt
      ? Math.max(0, Math.ceil((state.lastCodeAt.getTime() + limits.resendSeconds * 1000 - now.getTime()) / 1000))
      : 0;
    return { waitSeconds, sendsLeft: Math.max(0, limits.codesPerPerson - state.codesSent) };
  }

  /** Sends a new SMS code, if the limits allow; otherwise says when one may be asked for. */
  async sendCode(
    invitation: Invitation,
    now = new Date(),
  ): Promise<{ sent: boolean; waitSeconds: number; sendsLeft: number }> {
    const { participant, person } = invitation;
    const { waitSeconds, sendsLeft } = await this.codeStatus(invitation, now);
    const mobile = invitation.mobile;
    if (!mobile || sendsLeft <= 0 || waitSeconds > 0) return { sent: false, waitSeconds, sendsLeft };
    const messenger = this.#messenger;
    if (!messenger) throw new Error('no way to send SMS codes: the invites plugin is not registered');
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    // The count, the code and its SMS in the outbox: one commit.
    const stored = await this.db.transaction(async (trx): Promise<boolean | 'limited'> => {
      // However many links point at one phone, it gets at most this many codes an hour. Counted by a
      // keyed hash: the counter outlives an erasure of the number by up to its hour.
      const number = keyedHash(this.dataKey, 'attempt_counters.sms-code-number', mobile);
      const perNumber = await countAttempt(trx, `sms-code-number:${number}`, 3600, now);
      if (perNumber.hits > limits.codesPerNumberPerHour) return 'limited';
      const slot = {
        expiresAt: new Date(now.getTime() + limits.codeMinutes * 60_000),
        maxSends: limits.codesPerPerson,
        lastBefore: new Date(now.getTime() - limits.resendSeconds * 1000),
      };
      // Decided in the same statement that stores the code: two asks at once send one code.
      if (!(await store.storeCode(trx, participant.id, person, codeHash(participant.id, person, code), slot, now)))
        return false;
      await messenger.queue(
        trx,
        {
          recipient: mobile,
          language: participant.language,
          meetingId: invitation.meeting.id,
          participantId: participant.id,
          person,
          minutes: limits.codeMinutes,
          code,
        },
        now,
      );
      return true;
    });
    if (stored === 'limited') return { sent: false, waitSeconds: limits.resendSeconds, sendsLeft };
    if (!stored) return { sent: false, ...(await this.codeStatus(invitation, now)) };
    messenger.queued();
    return { sent: true, waitSeconds: limits.resendSeconds, sendsLeft: sendsLeft - 1 };
  }

  /** Checks a typed code; `triesLeft` counts the tries this code still has after this one. */
  async checkCode(invitation: Invitation, typed: string, now = new Date()): Promise<CodeCheck> {
    const { participant, person } = invitation;
    // A code's try changes little: the try, the identification or the wrong code's log entry, and
    // their records are one write in the group commit (db/group-commit.ts), durable before the answer.
    return this.commits.write(async (trx): Promise<CodeCheck> => {
      // The try is counted before the code is compared: parallel guesses cannot outrun the limit.
      const taken = await store.takeCodeTry(trx, participant.id, person, limits.codeTries, now);
      if (!taken) {
        const state = await store.readEntryState(trx, participant.id, person);
        if (state.identifiedAt) return { outcome: 'identified', triesLeft: 0 };
        const live = state.codeHash && state.codeExpiresAt && state.codeExpiresAt > now;
        return { outcome: live ? 'exhausted' : 'expired', triesLeft: 0 };
      }
      const triesLeft = limits.codeTries - taken.tryNumber;
      const expected = Buffer.from(taken.codeHash, 'hex');
      const actual = Buffer.from(codeHash(participant.id, person, codeDigits(typed)), 'hex');
      if (!timingSafeEqual(expected, actual)) {
        // Support is asked "the code did not work": the wrong try commits with its record.
        await this.bus.emitIn(trx, 'entry.code_failed', {
          meetingId: invitation.meeting.id,
          participantId: participant.id,
          person,
          triesLeft,
        });
        return { outcome: triesLeft > 0 ? 'wrong' : 'exhausted', triesLeft };
      }
      await store.markIdentified(trx, participant.id, person, 'sms', now);
      await this.#status(trx, invitation, 'identified');
      return { outcome: 'ok', triesLeft };
    });
  }

  /** How far the person has come, written in the transaction of the change that got them there. */
  #status(
    trx: Knex.Transaction,
    invitation: Invitation,
    ...statuses: ('opened' | 'identified' | 'tech_tested' | 'waiting')[]
  ): Promise<void> {
    const meetingId = invitation.meeting.id;
    const participantId = invitation.participant.id;
    const { person } = invitation;
    return this.bus.emitAllIn(
      trx,
      'participant.status',
      statuses.map((status) => ({ meetingId, participantId, status, person })),
    );
  }

  /** A status that follows a read (the waiting room opened): its parts ride the group commit. */
  markWaiting(invitation: Invitation): void {
    this.bus.emit('participant.status', {
      meetingId: invitation.meeting.id,
      participantId: invitation.participant.id,
      status: 'waiting',
      person: invitation.person,
    });
  }
}

/**
 * A typed code as the digits it means: spaces left out, and the digits a phone's keyboard may give in
 * its language (Arabic-Indic, Persian, full-width) read as 0-9. The code page's field admits the same.
 */
function codeDigits(typed: string): string {
  return (
    typed
      .replace(/\s/g, '')
      // Each of these runs of ten starts at a code point ending in 0: its last hex digit is the digit.
      .replace(/[\u0660-\u0669\u06f0-\u06f9\uff10-\uff19]/gu, (d) => String(d.charCodeAt(0) & 0xf))
  );
}

/** A code is kept only as a hash bound to its person, so one person's code says nothing of another's. */
function codeHash(participantId: string, person: LinkPerson, code: string): string {
  return sha256(`${participantId}:${person}:${code}`);
}

/**
 * Why a link takes no more names: another browser bound it (used), or it is locked. A try and its
 * outcome commit together, so a spent link shows one or the other; a link whose tries were spent
 * before both were written in one transaction counts as locked.
 */
function spentAs(state: store.EntryState): 'used' | 'locked' {
  if (state.lockedAt) return 'locked';
  return state.boundSession ? 'used' : 'locked';
}

/** The meeting's time as the guest pages show it. */
export function meetingTime(meeting: BareMeeting, lang: Language): { date: string; time: string; endTime: string } {
  const start = formatWhen(meeting.startsAt, lang);
  return { date: start.date, time: start.time, endTime: formatWhen(meetingEnd(meeting), lang).time };
}

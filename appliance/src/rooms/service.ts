// The booking governs the room: it opens a while before the start (ROOM_OPENS_MINUTES), the right
// people get tokens for it, staff see who is there, nobody waits unnoticed (the five-minute rule),
// and it ends for everyone when staff end it or the end time plus a grace period has passed.
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import { every, type Schedule } from '../schedule.ts';
import type { EventBus } from '../events.ts';
import { namesMatch } from '../common/names.ts';
import type { Meeting, Participant, WithinStatus } from '../meetings/index.ts';
import { findMeeting, listMeetings, meetingEnd } from '../meetings/index.ts';
import type { Staff } from '../staff/index.ts';
import { issueToken } from './jitsi.ts';
import type { Departure, Occupant, RoomControl, RoomControlError } from './xmpp.ts';
import * as store from './store.ts';
import type { NoShowAction } from './store.ts';
import { must } from '../common/must.ts';
import Boom from '@hapi/boom';
import type { Request } from '@hapi/hapi';
import { DomainError, type DomainPage } from '../http/errors.ts';
import { t, type Language } from '../http/i18n.ts';

declare module '../events.ts' {
  interface DomainEvents {
    'room.presence': {
      meetingId: string;
      participantId: string | null;
      staffId: string | null;
      /** Which of a patient and their proxy, where known. */
      person: 'main' | 'proxy' | null;
      nick: string;
      kind: 'joined' | 'left';
      at: string;
      /** Why they left (xmpp.ts's LeaveReason), and in the words Prosody gave, where it gave any. */
      reason?: string;
      status?: string;
    };
    'room.kicked': {
      meetingId: string;
      participantId: string | null;
      /** Which of a patient and their proxy was removed, where known. */
      person: 'main' | 'proxy' | null;
      nick: string;
      byStaffId: string;
      presenceId: number | null;
    };
    /** Staff asked a process that does not lead room control to kick someone: the leader does it. */
    'room.kick_requested': { meetingId: string; presenceId: number; byStaffId: string };
    /**
     * The meeting ended for everyone: `reason` is what the people in the room were told, `cause`
     * why - staff ended it (`byStaffId`), or its time was up (its end and the grace period passed).
     */
    'room.ended': { meetingId: string; reason: string; cause: EndCause; byStaffId: string | null };
    /** The routine: not there about five minutes after the start — call them on the booked number. */
    'noshow.alert': { meetingId: string; participantId: string; phone: string | null };
    'noshow.action': { meetingId: string; participantId: string; action: NoShowAction; byStaffId: string };
    'noshow.cleared': { meetingId: string; participantId: string };
  }
}

/** Someone could not be let out of the room: Prosody (or the process that leads room control) is out of reach. */
export class RoomUnreachable extends DomainError {
  constructor(message: string) {
    super(message);
    this.name = 'RoomUnreachable';
  }

  toBoom(lang: Language): Boom.Boom {
    return Boom.serverUnavailable(t(lang, 'rooms.kick.unreachable'));
  }

  /** The clinician reads that the person is still in the room and to try again, not "something went wrong". */
  override page(lang: Language, request: Request): DomainPage {
    const message = t(lang, 'rooms.kick.unreachable');
    return {
      template: 'error',
      context: { status: 503, message, requestId: request.info.id, title: t(lang, 'error.title') },
    };
  }
}

/** Why a meeting ended for everyone. */
export type EndCause = 'staff' | 'time';

export interface RoomSettings {
  opensMinutes: number;
  graceMinutes: number;
  noShowMinutes: number;
  jitsi?: { url: string; appId: string; appSecret: string };
  /** Jitsi's main XMPP domain (the token's `sub`). */
  jitsiDomain?: string;
  /**
   * false where XMPP_* is not set: the appliance puts no room in Prosody (Jitsi's own Prosody
   * opens a room with its first participant and closes it with its last), so a room that ends has
   * nothing the appliance could take out. Absent: it controls them.
   */
  controlsRooms?: boolean;
}

/** Moves the meeting on through the meetings domain, which records it (advanceMeetingStatus there). */
export type AdvanceStatus = (
  meetingId: string,
  status: 'open' | 'in_progress' | 'ended',
  byStaffId: string | null,
  now: Date,
  within?: WithinStatus,
) => Promise<boolean>;

/** A request's own record of a room action (its audit record), written in the action's transaction. */
export type WithinRoom = (trx: Knex.Transaction) => Promise<void>;

/** Who a token or an occupant is: a participant (main person or proxy) or a staff member. */
export type Attendee =
  { type: 'participant'; participantId: string; person: 'main' | 'proxy' } | { type: 'staff'; staffId: string };

export const attendeeId = (a: Attendee): string =>
  a.type === 'staff' ? `staff:${a.staffId}` : `participant:${a.participantId}:${a.person}`;

/** Staff end a meeting by hand; the schedule ends it (no staff member) when its time is up. */
const endCause = (byStaffId: string | null): EndCause => (byStaffId ? 'staff' : 'time');

/**
 * What the people in a room read in Jitsi when it ends or they are let out: one text for everyone
 * in it, whatever language each was booked in or the staff member's pages are in, so Swedish
 * first and English second.
 */
export const toTheRoom = (key: 'rooms.endReason' | `rooms.toRoom.${'ended' | 'cancelled' | 'removed'}`): string =>
  `${t('sv', key)} ${t('en', key)}`;

const removedReason = toTheRoom('rooms.toRoom.removed');

export function parseAttendeeId(id: string | undefined): Attendee | undefined {
  const m = /^(?:staff:([\w-]{36})|participant:([\w-]{36}):(main|proxy))$/.exec(id ?? '');
  if (!m) return undefined;
  return m[1]
    ? { type: 'staff', staffId: m[1] }
    : { type: 'participant', participantId: must(m[2], 'participant id'), person: m[3] === 'proxy' ? 'proxy' : 'main' };
}

/** The booked staff: they get owner (moderator) tokens. */
export const bookedStaff = (m: Meeting): string[] => [
  ...new Set([
    m.bookedBy,
    m.ledBy,
    ...m.participants.filter((p) => p.kind === 'colleague' && p.staffId).map((p) => p.staffId!),
  ]),
];

/** The condition of a RoomControlError (by name: xmpp.ts, and @xmpp/client with it, is loaded only when room control is configured). */
const conditionOf = (error: unknown): string =>
  (error as Partial<RoomControlError>).name === 'RoomControlError' ? (error as RoomControlError).condition : '';

export class RoomService {
  #schedule: Schedule | undefined;
  /** The XMPP session, in the process that leads room control (one at a time; db/leader.ts). */
  private control: RoomControl | undefined;
  // Each room's presence records, chained in the order Prosody reported them. Each record reads
  // before it writes, so a leave still being written when the same nick comes back (a dropped
  // connection, the resync after Prosody restarted) would otherwise meet the new visit: the join
  // would find the old visit still open and add nothing, and the leave would then close it -
  // someone in the room recorded as gone.
  readonly #presenceWrites = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly settings: RoomSettings,
    control: RoomControl | undefined,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
    private readonly advanceStatus: AdvanceStatus,
  ) {
    this.useControl(control);
  }

  /** Takes the XMPP session this process controls rooms with (undefined: another process leads). */
  useControl(control: RoomControl | undefined): void {
    this.control = control;
    control?.on('occupantJoined', (occupant) => {
      const at = new Date();
      void this.#inOrder(occupant.room, `join of ${occupant.nick}`, () => this.#joined(occupant, at));
    });
    // Back after a lost session: a room that ended meanwhile (its destroy could not reach Prosody)
    // was joined again with the others, and would go on for whoever is in it. It goes now; and a
    // room that fell due meanwhile opens now, not a round of the schedule later.
    control?.on('resynced', () => {
      void this.releaseEnded()
        .catch((error) => this.log('error', `rooms: after reconnecting: ${(error as Error).message}`))
        .finally(() => this.#schedule?.now());
    });
    control?.on('occupantLeft', (occupant) => {
      const at = new Date();
      void this.#inOrder(occupant.room, `leave of ${occupant.nick}`, () => this.#left(occupant, at));
    });
  }

  /** Runs `record` after the room's earlier presence records; it never rejects (failures are logged). */
  #inOrder(room: string, what: string, record: () => Promise<void>): Promise<void> {
    const key = room.toLowerCase();
    const recorded = (this.#presenceWrites.get(key) ?? Promise.resolve())
      .then(record)
      .catch((error) => this.log('error', `rooms: ${what}: ${(error as Error).message}`))
      .finally(() => {
        if (this.#presenceWrites.get(key) === recorded) this.#presenceWrites.delete(key);
      });
    this.#presenceWrites.set(key, recorded);
    return recorded;
  }

  /**
   * Starts the schedule: a round every `everyMs`. With `afterSession`, the first round waits for
   * the XMPP session (resume runs it, or `round` where there is none to wait for): one before
   * could only fail to open the rooms due, an error in the log at every start.
   */
  start(everyMs = 15_000, options: { afterSession?: boolean } = {}): void {
    this.#schedule = every(
      everyMs,
      () => this.tick(),
      (error) => this.log('error', `rooms: ${error.message}`),
      options.afterSession ? { firstAfterMs: null } : {},
    );
  }

  /** A round of the schedule now (after the one running). */
  round(): void {
    this.#schedule?.now();
  }

  /** Ends the schedule; resolves once a tick still running has finished. */
  async stop(): Promise<void> {
    await this.#schedule?.();
  }

  /**
   * Resolves once every presence received so far is recorded (and those received meanwhile): what
   * stops room control waits for it, after the XMPP session is closed, before the database closes.
   */
  async settled(): Promise<void> {
    while (this.#presenceWrites.size > 0) await Promise.all(this.#presenceWrites.values());
  }

  /**
   * After a restart, or when this process takes over room control from a leader that died: the
   * rooms open in the database are joined again and their presence is taken from Prosody (who
   * left meanwhile is recorded as gone); rooms whose meeting was ended or cancelled meanwhile go.
   * Then the schedule's round: its first ran before the session was there, and a room due now
   * would otherwise open a round later.
   */
  async resume(now = new Date()): Promise<void> {
    const control = this.control;
    if (!control) return;
    for (const room of await store.openRooms(this.db)) {
      const meeting = await findMeeting(this.db, room.meetingId);
      if (!meeting || meeting.status === 'cancelled' || meeting.status === 'ended') {
        // Ended or cancelled while no process led: the room is still open in the database only.
        await store.markEnded(
          this.db,
          room.meetingId,
          meeting?.status === 'ended' ? toTheRoom('rooms.toRoom.ended') : 'cancelled',
        );
        await store.closeAllPresence(this.db, room.meetingId, 'ended', new Date());
        continue;
      }
      // Its time ran out while no process led (the schedule's rounds look back eight hours only):
      // it ends now, as the schedule would have ended it.
      if (this.#timeIsUp(meeting, now)) {
        await this.end(meeting.id, toTheRoom('rooms.toRoom.ended'), null, now);
        continue;
      }
      try {
        await control.createRoom(room.name, { membersOnly: false });
      } catch (error) {
        this.log('warn', `rooms: re-joining ${room.name}: ${(error as Error).message}`);
        continue;
      }
      const here = () => new Set(control.occupants(room.name).map((o) => o.nick));
      for (const presence of await store.presenceOf(this.db, room.meetingId)) {
        if (presence.leftAt || here().has(presence.nick)) continue;
        // In turn with the joins Prosody reports meanwhile, and only if the nick has not come back.
        await this.#inOrder(room.name, `leave of ${presence.nick}`, async () => {
          if (!here().has(presence.nick))
            await this.#left({
              room: room.name,
              nick: presence.nick,
              role: 'none',
              affiliation: 'none',
              reason: 'missing',
            });
        });
      }
    }
    // Ended or cancelled while no process led room control (staff ended it on another process
    // between the last leader's death and this takeover, however long ago): its end is recorded,
    // but nobody took the room out of Prosody, where its people would go on meeting. The database
    // knows which rooms were never taken out: each goes now (one already gone answers
    // item-not-found, and is recorded as gone too).
    for (const room of await store.undestroyedRooms(this.db)) {
      if (control.rooms().includes(room.name.toLowerCase())) continue;
      await this.#takeOut(room, this.#told(room));
    }
    this.round();
  }

  /** Meetings last at most eight hours: anything that could be open now started after this. */
  #horizon(now: Date): Date {
    return new Date(now.getTime() - (8 * 60 + this.settings.graceMinutes) * 60_000);
  }

  /** The meeting's end and the grace period have passed: its room ends. */
  #timeIsUp(meeting: Meeting, now: Date): boolean {
    return now.getTime() >= meetingEnd(meeting).getTime() + this.settings.graceMinutes * 60_000;
  }

  /**
   * Takes the room out of Prosody, which ends the meeting for whoever is in it, and records that it
   * is gone (or was already). Returns whether it is gone; a failure is logged, and a new leader or
   * a session back after a loss tries again.
   */
  async #takeOut(room: store.Room, reason: string, record = true): Promise<boolean> {
    if (!this.control) return false;
    try {
      await this.control.destroy(room.name, reason);
    } catch (error) {
      if (conditionOf(error) !== 'item-not-found') {
        this.log('warn', `rooms: destroying ${room.name}: ${(error as Error).message}`);
        return false;
      }
    }
    if (record) await store.markDestroyed(this.db, room.meetingId);
    return true;
  }

  /**
   * The leader's part when a meeting ended or was cancelled in any process: the room goes from
   * Prosody if this process still holds it (`reason` is what the people in it are told).
   */
  async release(meetingId: string, reason?: string): Promise<void> {
    const room = await store.findRoom(this.db, { meetingId });
    if (room) await this.#destroyEnded(room, reason);
  }

  /** The rooms this process still holds in Prosody whose meeting has ended or was cancelled: they go. */
  async releaseEnded(): Promise<void> {
    for (const name of this.control?.rooms() ?? []) {
      const room = await store.findRoom(this.db, { name });
      if (room?.endedAt) await this.#destroyEnded(room);
    }
  }

  async #destroyEnded(room: store.Room, reason?: string): Promise<void> {
    if (!this.control || !this.control.rooms().includes(room.name.toLowerCase())) return;
    await this.#takeOut(room, reason ?? this.#told(room));
  }

  /** What the people in an ended room read as it goes. */
  #told(room: store.Room): string {
    // A cancelled room's end is recorded as 'cancelled' (cancelled() and resume()): they read why in words.
    return (
      (room.endReason === 'cancelled' ? toTheRoom('rooms.toRoom.cancelled') : room.endReason) ??
      toTheRoom('rooms.toRoom.ended')
    );
  }

  /** Opens rooms that are due, ends rooms past their end, raises no-show alerts. Returns what it did. */
  async tick(now = new Date()): Promise<{ opened: string[]; ended: string[]; alerts: number }> {
    const { opensMinutes } = this.settings;
    const meetings = await listMeetings(this.db, {
      from: this.#horizon(now),
      to: new Date(now.getTime() + opensMinutes * 60_000 + 1),
    });
    const live = meetings.filter((m) => m.status !== 'cancelled' && m.status !== 'ended');
    // Every 15 seconds over every meeting of the last eight hours: their rooms, presence and alerts
    // are read together, and only what must change is written.
    const state = await store.scheduleState(
      this.db,
      live.map((m) => m.id),
    );
    const opened: string[] = [];
    const ended: string[] = [];
    let alerts = 0;
    for (const meeting of live) {
      if (this.#timeIsUp(meeting, now)) {
        if (await this.end(meeting.id, toTheRoom('rooms.toRoom.ended'), null, now)) ended.push(meeting.id);
        continue;
      }
      if (now.getTime() >= meeting.startsAt.getTime() - opensMinutes * 60_000) {
        // A room that cannot be opened now (Prosody away) is tried again at the next tick; the
        // five-minute rule and the other meetings go on meanwhile: with the room out of reach,
        // calling the absent on their numbers is what is left.
        if (!state.opened.has(meeting.id) && (await this.#tryOpen(meeting, now))) opened.push(meeting.id);
        alerts += await this.#noShows(meeting, now, state);
      }
    }
    return { opened, ended, alerts };
  }

  async #tryOpen(meeting: Meeting, now: Date): Promise<boolean> {
    try {
      return await this.open(meeting, now);
    } catch (error) {
      this.log('error', `rooms: opening the room of meeting ${meeting.id}: ${(error as Error).message}`);
      return false;
    }
  }

  /** Creates and configures the MUC room (when XMPP is configured) and marks the meeting open. */
  async open(meeting: Meeting, now = new Date()): Promise<boolean> {
    const room = await store.findRoom(this.db, { meetingId: meeting.id });
    if (!room || room.openedAt) return false;
    if (this.control) {
      // Not members-only: in Jitsi that is the lobby. The room's own token (room claim) is what
      // admits people; staff become owners through the token_affiliation convention.
      await this.control.createRoom(room.name, { membersOnly: false });
    }
    if (!(await store.markOpened(this.db, meeting.id, now))) return false;
    await this.advanceStatus(meeting.id, 'open', null, now);
    this.bus.emit('room.opened', { meetingId: meeting.id });
    this.log('info', `rooms: opened the room of meeting ${meeting.id}`);
    return true;
  }

  /** Ends the meeting for everyone: the room is destroyed with the reason, which closes it in every client. */
  async end(
    meetingId: string,
    reason: string,
    byStaffId: string | null,
    now = new Date(),
    within?: WithinRoom,
  ): Promise<boolean> {
    const room = await store.findRoom(this.db, { meetingId });
    if (!room || room.endedAt) {
      // A meeting whose room never opened (or has none) still ends.
      const advanced = await this.advanceStatus(meetingId, 'ended', byStaffId, now, async (trx, moved) => {
        if (moved && room) await store.markEnded(trx, meetingId, reason, now);
        await within?.(trx);
      });
      if (advanced) this.bus.emit('room.ended', { meetingId, reason, cause: endCause(byStaffId), byStaffId });
      return advanced;
    }
    // Recorded as taken out of Prosody with the end (one commit); else the leader has that to do.
    const destroyed =
      room.openedAt !== null && (this.#nothingToTakeOut() || (await this.#takeOut(room, reason, false)));
    // The room's end, everyone's leaving, the meeting's status and its record: one commit.
    const advanced = await this.advanceStatus(meetingId, 'ended', byStaffId, now, async (trx) => {
      await store.markEnded(trx, meetingId, reason, now, destroyed);
      await store.closeAllPresence(trx, meetingId, 'ended', now);
      await within?.(trx);
    });
    // Ended once: a second end that read the room before the first wrote (a double click on the
    // button, staff and the schedule at once) changes nothing and announces nothing.
    if (advanced) this.bus.emit('room.ended', { meetingId, reason, cause: endCause(byStaffId), byStaffId });
    return advanced;
  }

  /** A cancelled meeting's room ends at once (the leader takes it out of Prosody: release). */
  async cancelled(meetingId: string): Promise<void> {
    const room = await store.findRoom(this.db, { meetingId });
    if (!room || room.endedAt) return;
    await store.markEnded(this.db, meetingId, 'cancelled', new Date(), this.#nothingToTakeOut());
  }

  /** Without room control nothing of a room is in Prosody for the appliance to take out. */
  #nothingToTakeOut(): boolean {
    return this.settings.controlsRooms === false;
  }

  /**
   * Without room control: the rooms that ended while it was configured and were never taken out
   * can no longer be, by this appliance; recorded as nothing left to take out rather than pending
   * for ever (Prosody keeps no room once its last occupant left: samverka.cfg.lua makes none persistent).
   */
  async nothingLeftToTakeOut(): Promise<void> {
    if (this.#nothingToTakeOut()) await store.markEndedRoomsOut(this.db);
  }

  async kick(meetingId: string, nick: string, staff: Staff): Promise<void> {
    const room = await store.findRoom(this.db, { meetingId });
    const presence = (await store.presenceOf(this.db, meetingId)).find((p) => p.nick === nick && !p.leftAt);
    if (!room || (!this.control && !presence)) throw new RoomUnreachable('the room is not controlled');
    if (!this.control) return this.#kickThroughLeader(meetingId, presence!.id, staff.id);
    try {
      await this.control.kick(room.name, nick, removedReason);
    } catch (error) {
      // Prosody away or not answering: staff are told to try again, not shown an error page.
      const condition = conditionOf(error);
      if (condition === 'not-connected' || condition === 'timeout') throw new RoomUnreachable((error as Error).message);
      throw error;
    }
    this.bus.emit('room.kicked', {
      meetingId,
      participantId: presence?.participantId ?? null,
      person: presence?.person ?? null,
      nick,
      byStaffId: staff.id,
      presenceId: presence?.id ?? null,
    });
  }

  /** The leader's part of a kick asked for in another process. */
  async kickRequested(meetingId: string, presenceId: number, byStaffId: string): Promise<void> {
    const room = await store.findRoom(this.db, { meetingId });
    const presence = (await store.presenceOf(this.db, meetingId)).find((p) => p.id === presenceId && !p.leftAt);
    if (!this.control || !room || !presence) return;
    await this.control.kick(room.name, presence.nick, removedReason);
    this.bus.emit('room.kicked', {
      meetingId,
      participantId: presence.participantId,
      person: presence.person,
      nick: presence.nick,
      byStaffId,
      presenceId,
    });
  }

  /**
   * The leader's part when a participant was taken off the meeting: whoever is in the room as them
   * leaves it, as if staff had kicked them (staff need not find them in the panel).
   */
  async removed(meetingId: string, participantId: string, byStaffId: string): Promise<void> {
    const here = (await store.presenceOf(this.db, meetingId)).filter(
      (p) => p.participantId === participantId && !p.leftAt,
    );
    for (const presence of here) await this.kickRequested(meetingId, presence.id, byStaffId);
  }

  /** Asks the leading process to kick, and answers once it has (or says the room is out of reach). */
  async #kickThroughLeader(meetingId: string, presenceId: number, byStaffId: string): Promise<void> {
    let off = () => {};
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      off = this.bus.follow('room.kicked', (e) => {
        if (e.meetingId === meetingId && e.presenceId === presenceId) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    this.bus.emit('room.kick_requested', { meetingId, presenceId, byStaffId });
    const kicked = await done.finally(() => off());
    if (!kicked) throw new RoomUnreachable('the leader did not answer the kick');
  }

  /** Raises an alert for each booked participant not present `noShowMinutes` after the start. */
  async #noShows(meeting: Meeting, now: Date, state: store.ScheduleState): Promise<number> {
    if (now.getTime() < meeting.startsAt.getTime() + this.settings.noShowMinutes * 60_000) return 0;
    let raised = 0;
    for (const participant of meeting.participants) {
      const key = store.attendeeKey(meeting.id, participant.id);
      if (participant.kind === 'colleague' || state.attended.has(key) || state.alerted.has(key)) continue;
      if (await store.raiseAlert(this.db, meeting.id, participant.id, now)) {
        raised += 1;
        this.bus.emit('noshow.alert', {
          meetingId: meeting.id,
          participantId: participant.id,
          phone: participant.mobile ?? participant.proxy?.mobile ?? null,
        });
      }
    }
    return raised;
  }

  async recordAction(
    meetingId: string,
    participantId: string,
    action: NoShowAction,
    staff: Staff,
    within?: WithinRoom,
  ): Promise<boolean> {
    const done = await this.db.transaction(async (trx) => {
      const recorded = await store.recordAlertAction(trx, meetingId, participantId, action, staff.id);
      await within?.(trx);
      return recorded;
    });
    if (done) this.bus.emit('noshow.action', { meetingId, participantId, action, byStaffId: staff.id });
    return done;
  }

  /** Maps an occupant to a participant: by the identity Jitsi puts in presence from the token, else by name. */
  async #who(meeting: Meeting, occupant: Occupant): Promise<Attendee | undefined> {
    const fromToken = parseAttendeeId(occupant.identity?.user?.id);
    if (fromToken?.type === 'participant' && meeting.participants.some((p) => p.id === fromToken.participantId))
      return fromToken;
    if (fromToken?.type === 'staff' && bookedStaff(meeting).includes(fromToken.staffId)) return fromToken;
    const name = occupant.identity?.user?.name ?? occupant.displayName ?? occupant.nick;
    for (const p of meeting.participants) {
      if (namesMatch(name, p.name)) return { type: 'participant', participantId: p.id, person: 'main' };
      if (p.proxy && namesMatch(name, p.proxy.name))
        return { type: 'participant', participantId: p.id, person: 'proxy' };
    }
    return undefined;
  }

  async #meetingOfRoom(roomName: string): Promise<Meeting | undefined> {
    const room = await store.findRoom(this.db, { name: roomName });
    return room ? findMeeting(this.db, room.meetingId) : undefined;
  }

  async #joined(occupant: Occupant, now = new Date()): Promise<void> {
    const meeting = await this.#meetingOfRoom(occupant.room);
    if (!meeting) return;
    // A participant taken off the meeting still holds a token for its room until it expires (Jitsi
    // has no way to revoke one): whoever comes in with it is let out at once, and not recorded.
    const fromToken = parseAttendeeId(occupant.identity?.user?.id);
    if (fromToken?.type === 'participant' && !meeting.participants.some((p) => p.id === fromToken.participantId)) {
      await this.control?.kick(occupant.room, occupant.nick, removedReason);
      return;
    }
    const who = await this.#who(meeting, occupant);
    const participantId = who?.type === 'participant' ? who.participantId : null;
    const person = who?.type === 'participant' ? who.person : null;
    const staffId = who?.type === 'staff' ? who.staffId : null;
    await store.recordJoin(
      this.db,
      {
        meetingId: meeting.id,
        participantId,
        staffId,
        person,
        nick: occupant.nick,
        displayName: occupant.identity?.user?.name ?? occupant.displayName ?? null,
      },
      now,
    );
    await this.advanceStatus(meeting.id, 'in_progress', null, now);
    if (participantId) {
      this.bus.emit('participant.status', {
        meetingId: meeting.id,
        participantId,
        status: 'joined',
        person: person ?? undefined,
      });
      if (await store.clearAlert(this.db, meeting.id, participantId, now))
        this.bus.emit('noshow.cleared', { meetingId: meeting.id, participantId });
    }
    this.bus.emit('room.presence', {
      meetingId: meeting.id,
      participantId,
      staffId,
      person,
      nick: occupant.nick,
      kind: 'joined',
      at: now.toISOString(),
    });
  }

  async #left(occupant: Departure, now = new Date()): Promise<void> {
    const room = await store.findRoom(this.db, { name: occupant.room });
    if (!room) return;
    const presence = await store.recordLeave(this.db, room.meetingId, occupant.nick, occupant.reason, now);
    if (!presence) return;
    // A patient and their proxy share the row's status: it says "left" only once neither of them
    // (nor the same person on another device) is still in the room.
    const stillIn =
      presence.participantId !== null &&
      (await store.presenceOf(this.db, room.meetingId)).some(
        (p) => p.participantId === presence.participantId && !p.leftAt,
      );
    if (presence.participantId && !stillIn)
      this.bus.emit('participant.status', {
        meetingId: room.meetingId,
        participantId: presence.participantId,
        status: 'left',
        person: presence.person ?? undefined,
      });
    this.bus.emit('room.presence', {
      meetingId: room.meetingId,
      participantId: presence.participantId,
      staffId: presence.staffId,
      person: presence.person,
      nick: occupant.nick,
      kind: 'left',
      at: now.toISOString(),
      reason: occupant.reason,
      ...(occupant.status ? { status: occupant.status } : {}),
    });
  }

  /** A Jitsi token for this meeting's room only, valid until its end plus the grace period. */
  async token(
    meeting: Pick<Meeting, 'id' | 'startsAt' | 'durationMinutes'>,
    attendee: Attendee,
    name: string,
    now = new Date(),
  ): Promise<string | undefined> {
    const { jitsi, jitsiDomain, graceMinutes } = this.settings;
    const room = await store.findRoom(this.db, { meetingId: meeting.id });
    if (!jitsi || !jitsiDomain || !room) return undefined;
    const staff = attendee.type === 'staff';
    return issueToken({
      appId: jitsi.appId,
      appSecret: jitsi.appSecret,
      domain: jitsiDomain,
      room: room.name,
      user: { id: attendeeId(attendee), name, moderator: staff, affiliation: staff ? 'owner' : 'member' },
      notBefore: new Date(now.getTime() - 60_000), // clocks differ a little
      expiresAt: new Date(meetingEnd(meeting).getTime() + graceMinutes * 60_000),
    });
  }
}

export type { Participant };

// SQL for rooms, presence and no-show alerts.
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import { chunks, iso, toDate, type DbBigint, type DbTimestamp } from '../db/values.ts';

type Tx = Db | Knex.Transaction;

/** What staff did about a no-show: called them, sent "we are waiting for you" (by SMS or e-mail), or dismissed it. */
export type NoShowAction = 'called' | 'sms_sent' | 'email_sent' | 'dismissed';

// The rows as either driver returns them (db/values.ts).
interface RoomRow {
  meeting_id: string;
  name: string;
  opened_at: DbTimestamp | null;
  ended_at: DbTimestamp | null;
  end_reason: string | null;
  /** When it was taken out of Prosody (migration 0031); ended_at is when its meeting ended. */
  destroyed_at: DbTimestamp | null;
}

interface PresenceRow {
  id: DbBigint;
  meeting_id: string;
  participant_id: string | null;
  staff_id: string | null;
  nick: string;
  display_name: string | null;
  joined_at: DbTimestamp;
  left_at: DbTimestamp | null;
  left_reason: string | null;
  person: 'main' | 'proxy' | null;
}

interface AlertRow {
  meeting_id: string;
  participant_id: string;
  raised_at: DbTimestamp;
  action: NoShowAction | null;
  action_by: string | null;
  action_at: DbTimestamp | null;
  cleared_at: DbTimestamp | null;
}

const rooms = (db: Tx) => db<RoomRow>('rooms');
const presence = (db: Tx) => db<PresenceRow>('room_presence');
const alerts = (db: Tx) => db<AlertRow>('noshow_alerts');

export interface Room {
  meetingId: string;
  name: string;
  openedAt: Date | null;
  endedAt: Date | null;
  endReason: string | null;
}

const toRoom = (r: RoomRow): Room => ({
  meetingId: r.meeting_id,
  name: r.name,
  openedAt: toDate(r.opened_at, true),
  endedAt: toDate(r.ended_at, true),
  endReason: r.end_reason ?? null,
});

export async function insertRoom(trx: Tx, meetingId: string, name: string): Promise<void> {
  await rooms(trx).insert({ meeting_id: meetingId, name }).onConflict('meeting_id').ignore();
}

export async function findRoom(db: Tx, by: { meetingId?: string; name?: string }): Promise<Room | undefined> {
  const row = await rooms(db)
    .where(by.meetingId ? { meeting_id: by.meetingId } : { name: by.name })
    .first();
  return row ? toRoom(row) : undefined;
}

export async function markOpened(db: Tx, meetingId: string, now = new Date()): Promise<boolean> {
  return (
    (await rooms(db)
      .where({ meeting_id: meetingId })
      .whereNull('opened_at')
      .update({ opened_at: iso(now) })) === 1
  );
}

/**
 * Records the room's end; `destroyed`: nothing of it is left in Prosody for the appliance with it
 * (the leader took it out, or the appliance controls no rooms: XMPP_* not set), else the leader
 * still has that to do (`undestroyedRooms`).
 */
export async function markEnded(
  db: Tx,
  meetingId: string,
  reason: string,
  now = new Date(),
  destroyed = false,
): Promise<boolean> {
  return (
    (await rooms(db)
      .where({ meeting_id: meetingId })
      .whereNull('ended_at')
      .update({ ended_at: iso(now), end_reason: reason, ...(destroyed ? { destroyed_at: iso(now) } : {}) })) === 1
  );
}

/** The room is out of Prosody: destroyed by the leader, or found already gone. */
export async function markDestroyed(db: Tx, meetingId: string, now = new Date()): Promise<void> {
  await rooms(db)
    .where({ meeting_id: meetingId })
    .whereNull('destroyed_at')
    .update({ destroyed_at: iso(now) });
}

/**
 * Every ended room not yet recorded as out of Prosody, as out at its end: the appliance without
 * room control (XMPP_* not set) has nothing to take out.
 */
export async function markEndedRoomsOut(db: Tx): Promise<number> {
  return rooms(db)
    .whereNotNull('opened_at')
    .whereNull('destroyed_at')
    .whereNotNull('ended_at')
    .update({ destroyed_at: db.ref('ended_at') });
}

/** Rooms opened in Prosody and not taken out of it (by migration 0031's partial index). */
const notDestroyed = (db: Tx) => rooms(db).whereNotNull('opened_at').whereNull('destroyed_at');

/** Rooms that are open and not ended: the ones to re-join and watch. */
export async function openRooms(db: Tx): Promise<Room[]> {
  return (await notDestroyed(db).whereNull('ended_at')).map(toRoom);
}

/**
 * Rooms whose meeting ended that were never taken out of Prosody (it ended in a process that did
 * not lead room control, while none did), however long ago: Prosody may still hold them.
 */
export async function undestroyedRooms(db: Tx): Promise<Room[]> {
  return (await notDestroyed(db).whereNotNull('ended_at')).map(toRoom);
}

export interface Presence {
  id: number;
  meetingId: string;
  participantId: string | null;
  staffId: string | null;
  nick: string;
  displayName: string | null;
  /** Which of a patient and their proxy, where known (migration 0024); null for staff and strangers. */
  person: 'main' | 'proxy' | null;
  joinedAt: Date;
  leftAt: Date | null;
  leftReason: string | null;
}

const toPresence = (r: PresenceRow): Presence => ({
  id: Number(r.id),
  meetingId: r.meeting_id,
  participantId: r.participant_id ?? null,
  staffId: r.staff_id ?? null,
  nick: r.nick,
  displayName: r.display_name ?? null,
  person: r.person ?? null,
  joinedAt: toDate(r.joined_at),
  leftAt: toDate(r.left_at, true),
  leftReason: r.left_reason ?? null,
});

export async function recordJoin(
  db: Tx,
  p: Omit<Presence, 'id' | 'leftAt' | 'leftReason' | 'joinedAt'>,
  now = new Date(),
): Promise<void> {
  // One open presence per nick and room: a resync that reports someone again changes nothing.
  const open = await presence(db).where({ meeting_id: p.meetingId, nick: p.nick }).whereNull('left_at').first();
  if (open) return;
  await presence(db).insert({
    meeting_id: p.meetingId,
    participant_id: p.participantId,
    staff_id: p.staffId,
    nick: p.nick,
    display_name: p.displayName,
    person: p.person,
    joined_at: iso(now),
  });
}

export async function recordLeave(
  db: Tx,
  meetingId: string,
  nick: string,
  reason: string,
  now = new Date(),
): Promise<Presence | undefined> {
  const open = await presence(db).where({ meeting_id: meetingId, nick }).whereNull('left_at').first();
  if (!open) return undefined;
  await presence(db)
    .where({ id: open.id })
    .update({ left_at: iso(now), left_reason: reason });
  return toPresence({ ...open, left_at: iso(now), left_reason: reason });
}

export async function presenceOf(db: Tx, meetingId: string): Promise<Presence[]> {
  return (await presence(db).where({ meeting_id: meetingId }).orderBy('id')).map(toPresence);
}

export async function closeAllPresence(db: Tx, meetingId: string, reason: string, now = new Date()): Promise<void> {
  await presence(db)
    .where({ meeting_id: meetingId })
    .whereNull('left_at')
    .update({ left_at: iso(now), left_reason: reason });
}

export interface NoShowAlert {
  meetingId: string;
  participantId: string;
  raisedAt: Date;
  action: NoShowAction | null;
  actionBy: string | null;
  actionAt: Date | null;
  clearedAt: Date | null;
}

const toAlert = (r: AlertRow): NoShowAlert => ({
  meetingId: r.meeting_id,
  participantId: r.participant_id,
  raisedAt: toDate(r.raised_at),
  action: r.action ?? null,
  actionBy: r.action_by ?? null,
  actionAt: toDate(r.action_at, true),
  clearedAt: toDate(r.cleared_at, true),
});

export async function raiseAlert(db: Tx, meetingId: string, participantId: string, now = new Date()): Promise<boolean> {
  const inserted = await alerts(db)
    .insert({ meeting_id: meetingId, participant_id: participantId, raised_at: iso(now) })
    .onConflict(['meeting_id', 'participant_id'])
    .ignore()
    .returning('participant_id');
  return inserted.length > 0;
}

export async function clearAlert(db: Tx, meetingId: string, participantId: string, now = new Date()): Promise<boolean> {
  return (
    (await alerts(db)
      .where({ meeting_id: meetingId, participant_id: participantId })
      .whereNull('cleared_at')
      .update({ cleared_at: iso(now) })) === 1
  );
}

export async function recordAlertAction(
  db: Tx,
  meetingId: string,
  participantId: string,
  action: NoShowAction,
  staffId: string,
  now = new Date(),
): Promise<boolean> {
  return (
    (await alerts(db)
      .where({ meeting_id: meetingId, participant_id: participantId })
      .update({ action, action_by: staffId, action_at: iso(now) })) === 1
  );
}

export async function alertsOf(db: Tx, meetingId: string): Promise<NoShowAlert[]> {
  return (await alerts(db).where({ meeting_id: meetingId })).map(toAlert);
}

/** Per meeting, how many absent participants' alerts await an action. */
export async function openAlertCounts(db: Tx, meetingIds: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const ids of chunks(meetingIds)) {
    const rows: { meeting_id: string; n: DbBigint }[] = await alerts(db)
      .whereIn('meeting_id', ids)
      .whereNull('cleared_at')
      .whereNull('action')
      .groupBy('meeting_id')
      .select('meeting_id')
      .count({ n: '*' });
    for (const r of rows) counts.set(r.meeting_id, Number(r.n));
  }
  return counts;
}

/** What the schedule's tick needs to know of the meetings that may be open now, in three statements. */
export interface ScheduleState {
  /** Meetings whose room is open (or was). */
  opened: Set<string>;
  /** `meetingId:participantId` of everyone who has been in the room. */
  attended: Set<string>;
  /** `meetingId:participantId` of everyone the five-minute rule has raised an alert for. */
  alerted: Set<string>;
}

export const attendeeKey = (meetingId: string, participantId: string): string => `${meetingId}:${participantId}`;

export async function scheduleState(db: Tx, meetingIds: string[]): Promise<ScheduleState> {
  const state: ScheduleState = { opened: new Set(), attended: new Set(), alerted: new Set() };
  for (const ids of chunks(meetingIds)) {
    for (const r of await rooms(db).whereIn('meeting_id', ids).whereNotNull('opened_at').select('meeting_id'))
      state.opened.add(r.meeting_id);
    const attended = await presence(db)
      .whereIn('meeting_id', ids)
      .whereNotNull('participant_id')
      .distinct('meeting_id', 'participant_id');
    for (const r of attended) if (r.participant_id) state.attended.add(attendeeKey(r.meeting_id, r.participant_id));
    for (const r of await alerts(db).whereIn('meeting_id', ids).select('meeting_id', 'participant_id'))
      state.alerted.add(attendeeKey(r.meeting_id, r.participant_id));
  }
  return state;
}

// Who is told what, on which channel, when a meeting changes. Runs inside the change's transaction
// (the meetings plugin's onChange hook), so the messages exist exactly when the change commits.
// Messages carry no health information: time, the inviting unit's name and phone number, the
// link, and what to prepare.
import type { Knex } from 'knex';
import { formatWhen } from '../common/clock.ts';
import type { Db } from '../db/knex.ts';
import { issueLink, linkExpiry, revokeLinks, type LinkPerson } from '../entry/index.ts';
import type { MeetingChange } from '../meetings/index.ts';
import type { Meeting, Participant } from '../meetings/index.ts';
import { findMeeting, findParticipant, invitedAt, meetingEnd } from '../meetings/index.ts';
import { findUnit } from '../staff/index.ts';
import {
  contactsChanged,
  dataOf,
  dedupeTaken,
  dueNow,
  earlierTimeOf,
  enqueue,
  goneOfKinds,
  lockFree,
  lockPending,
  movedBack,
  notSentReasons,
  pendingForPersons,
  pendingOfKinds,
  personKey,
  previousTimeOf,
  refreshPending,
  sameTime,
  saysNoNewTime,
  supersedes,
  withdrawPending,
  writeData,
  type Channel,
  type MessageKind,
  type NewMessage,
  type OutboxMessage,
} from './outbox.ts';
import type { Language } from '../common/language.ts';

/** One person to tell: the patient or guest, the patient's proxy, or a colleague with an account. */
export interface Recipient {
  participantId: string;
  person: LinkPerson | 'colleague';
  name: string;
  mobile: string | null;
  email: string | null;
}

export function recipientsOf(participant: Participant, colleagueEmail?: string | null): Recipient[] {
  if (participant.kind === 'colleague') {
    return [
      {
        participantId: participant.id,
        person: 'colleague',
        name: participant.name,
        mobile: null,
        email: colleagueEmail ?? participant.email,
      },
    ];
  }
  const main: Recipient = {
    participantId: participant.id,
    person: 'main',
    name: participant.name,
    mobile: participant.mobile,
    email: participant.email,
  };
  const proxy = participant.proxy
    ? [
        {
          participantId: participant.id,
          person: 'proxy' as const,
          name: participant.proxy.name,
          mobile: participant.proxy.mobile,
          email: participant.proxy.email,
        },
      ]
    : [];
  return [main, ...proxy];
}

/** The key that makes a message go once per person and channel (`dedupe`: e.g. one reminder of one start). */
export const dedupeKeyOf = (dedupe: string, recipient: Recipient, channel: Channel): string =>
  `${dedupe}:${recipient.participantId}:${recipient.person}:${channel}`;

/** Where a recipient is sent their messages: one channel per person, the meetings domain's rule (invitedAt). */
export function addressesOf(recipient: Recipient): { channel: Channel; address: string }[] {
  const at = invitedAt(recipient);
  return at ? [at] : [];
}

/** The template data that every message about a meeting shares. */
/**
 * The care units a transaction's messages name, each read once: a booking tells every participant,
 * and each message names the unit. Only within a transaction, which ends with the change: a unit's
 * phone number an admin changes later is read afresh.
 */
const unitsRead = new WeakMap<Db, Map<string, ReturnType<typeof findUnit>>>();

function unitOf(db: Db, id: string): ReturnType<typeof findUnit> {
  if (!db.isTransaction) return findUnit(db, { id });
  let read = unitsRead.get(db);
  if (!read) unitsRead.set(db, (read = new Map<string, ReturnType<typeof findUnit>>()));
  let unit = read.get(id);
  if (!unit) read.set(id, (unit = findUnit(db, { id })));
  return unit;
}

export async function meetingData(db: Db, meeting: Meeting, language: Language): Promise<Record<string, unknown>> {
  const unit = await unitOf(db, meeting.unitId);
  const start = formatWhen(meeting.startsAt, language);
  return {
    date: start.date,
    time: start.time,
    endTime: formatWhen(meetingEnd(meeting), language).time,
    startsAt: meeting.startsAt.toISOString(),
    endsAt: meetingEnd(meeting).toISOString(),
    unitName: unit?.name ?? '',
    unitPhone: unit?.phone ?? '',
    calendarSequence: meeting.version - 1,
  };
}

export interface Composer {
  dataKey: Buffer;
  /** ROOM_GRACE_MINUTES: links last while the room may be open (entry's linkExpiry). */
  roomGraceMinutes: number;
  /** Where a colleague with an account opens the meeting (the staff UI). */
  staffMeetingPath(meetingId: string): string;
  /**
   * Looked up inside the change's transaction: on SQLite (one connection) a query outside it would wait for
   * it forever.
   */
  colleagueEmail(staffId: string, trx: Knex.Transaction): Promise<string | null>;
}

type Trx = Knex.Transaction;

/**
 * Enqueues `kind` for every address of every recipient of `participant`. Patients, proxies and guests
 * get a fresh one-time link (unless `withLink` is false); colleagues get the staff meeting page.
 */
async function tell(
  trx: Trx,
  composer: Composer,
  meeting: Meeting,
  participant: Participant,
  kind: MessageKind,
  /** Template data of this kind of message, the same for everyone on the row or each person's own. */
  extra: Record<string, unknown> | ((recipient: Recipient) => Record<string, unknown>),
  options: {
    withLink: boolean;
    dedupe?: string;
    notBefore?: Date;
    priority?: number;
    /** Recipients who need no message of this kind now (a message already waiting says it). */
    unless?: (recipient: Recipient) => boolean;
  } = { withLink: true },
): Promise<number> {
  const colleagueEmail =
    participant.kind === 'colleague' && participant.staffId
      ? await composer.colleagueEmail(participant.staffId, trx)
      : null;
  let count = 0;
  for (const recipient of recipientsOf(participant, colleagueEmail)) {
    if (options.unless?.(recipient)) continue;
    const dedupe = options.dedupe;
    const dedupeKey = (channel: Channel) => (dedupe ? dedupeKeyOf(dedupe, recipient, channel) : undefined);
    const addresses = [];
    for (const address of addressesOf(recipient)) {
      const key = dedupeKey(address.channel);
      if (!key || !(await dedupeTaken(trx, key))) addresses.push(address);
    }
    // Nothing to send (or already sent): mint no link that nobody would receive.
    if (addresses.length === 0) continue;
    let secret: string | undefined;
    let linkPath: string | undefined;
    if (options.withLink && recipient.person !== 'colleague') {
      secret = await issueLink(trx, {
        participantId: participant.id,
        person: recipient.person,
        expiresAt: linkExpiry(meetingEnd(meeting), composer.roomGraceMinutes),
      });
    } else if (options.withLink) {
      linkPath = composer.staffMeetingPath(meeting.id);
    }
    for (const { channel, address } of addresses) {
      const language = participant.language;
      const message: NewMessage = {
        channel,
        kind,
        recipient: address,
        language,
        meetingId: meeting.id,
        participantId: participant.id,
        // Templates word a colleague's message (their staff login) and a promised call back (only
        // to someone with a number in the booking) by these.
        data: {
          ...(await meetingData(trx, meeting, language)),
          ...(typeof extra === 'function' ? extra(recipient) : extra),
          name: recipient.name,
          person: recipient.person,
          colleague: recipient.person === 'colleague',
          hasMobile: Boolean(recipient.mobile),
          ...(linkPath ? { linkPath } : {}),
        },
        secret,
        dedupeKey: dedupeKey(channel),
        notBefore: options.notBefore,
        priority: options.priority,
      };
      if (await enqueue(trx, composer.dataKey, message)) count += 1;
    }
  }
  return count;
}

/** The kinds that tell a person the meeting's time, and what they say is the time they know. */
const toldTime: MessageKind[] = ['invitation', 'rescheduled'];

/**
 * The time a person was last told is in the last message of the meeting's time they received. A
 * meeting moved while such a message to them still waits in the queue (an invitation or a new-time
 * message the gateway keeps refusing): that message, just given the latest time, is the one to send,
 * now rather than after its back-off. A new-time message's "earlier" stays the time the person was
 * told before it; a second message would give as "earlier" a time they never heard (or, to someone
 * whose invitation has not arrived, say the meeting moved from a time they were never given). Moved
 * back to the time they were told, a waiting new-time message has nothing to say and does not go.
 * One being sent at that moment is theirs too: whether it reaches the person is not known yet.
 * Refused and retried, it goes with the latest time (refreshPending gave it that; moved back, it is
 * stale then: the dispatcher's staleness); taken by the gateway, it told the time it was claimed
 * with, and the batch that records it tells the latest time after it (`tellOfMoveSince`).
 * A waiting new-time message's "earlier" is the time its person was last told (`told`): something
 * else may have told them a time since it was made (a re-sent invitation that went while it waited
 * out its back-off). Returns the people who need no new message.
 */
async function waitingNewTimes(
  trx: Trx,
  meetingId: string,
  told: Map<string, Record<string, unknown>>,
): Promise<Set<string>> {
  const pending = await pendingOfKinds(trx, meetingId, toldTime);
  const waiting: OutboxMessage[] = [];
  for (const message of pending.filter((m) => m.status === 'queued')) {
    const corrected = earlierAsLastTold(message, told);
    if (corrected !== message) await writeData(trx, corrected);
    waiting.push(corrected);
  }
  const unchanged = waiting.filter(saysNoNewTime);
  await withdrawPending(trx, { meetingId, ids: unchanged.map((m) => m.id) }, movedBack);
  await dueNow(
    trx,
    waiting.filter((m) => !unchanged.includes(m)).map((m) => m.id),
  );
  return new Set(pending.map((m) => personKey(m.participantId, m.data.person)));
}

/** A new-time message with, as its "earlier", the time its person was last told (itself when that is what it says). */
function earlierAsLastTold(message: OutboxMessage, told: Map<string, Record<string, unknown>>): OutboxMessage {
  const last =
    message.kind === 'rescheduled' ? told.get(personKey(message.participantId, message.data.person)) : undefined;
  if (!last || sameTime(earlierTimeOf(message.data), earlierTimeOf(last))) return message;
  return { ...message, data: { ...message.data, ...last } };
}

/**
 * The time each person of the meeting was last told, as the "earlier" of a new-time message: from
 * the last message of the meeting's time that went to them (sent or delivered; an e-mail in place of
 * an SMS too). A new-time SMS that failed told them nothing, and one it left unsaid is no "earlier".
 */
async function lastToldTimes(trx: Trx, meetingId: string): Promise<Map<string, Record<string, unknown>>> {
  const told = new Map<string, Record<string, unknown>>();
  for (const m of await goneOfKinds(trx, meetingId, toldTime))
    // Erased (retention, a privacy request), a message tells no more.
    if (typeof m.data.date === 'string') told.set(personKey(m.participantId, m.data.person), previousTimeOf(m.data));
  return told;
}

/**
 * Of these messages just sent, those that tell the meeting's time and were given another since they
 * were claimed (a move refreshes what has not gone yet): sent with the time they were claimed with.
 * One statement for a batch, none without such messages.
 */
export async function movedSinceClaimed(trx: Trx, sent: OutboxMessage[]): Promise<OutboxMessage[]> {
  const candidates = sent.filter((m) => toldTime.includes(m.kind) && m.meetingId && m.participantId);
  if (candidates.length === 0) return [];
  const now = await dataOf(
    trx,
    candidates.map((m) => m.id),
  );
  return candidates.filter((m) => {
    const current = now.get(m.id);
    return current !== undefined && !sameTime(m.data, current);
  });
}

/**
 * A message that tells the meeting's time (an invitation, a new time) was taken by the gateway or
 * relay after the meeting had moved again: it was being sent, with the time it was claimed with, when
 * the move came, and the move left it to carry the news (waitingNewTimes). The person now knows
 * that time: they are told the latest one, with it as the earlier. Written in the batch that records
 * the send (invites/index.ts), so that a crash loses neither. Returns how many messages it queued.
 */
export async function tellOfMoveSince(trx: Trx, composer: Composer, sent: OutboxMessage): Promise<number> {
  if (!toldTime.includes(sent.kind) || !sent.meetingId || !sent.participantId) return 0;
  // The person knows the time it went with (lastToldTimes reads it from the row).
  await writeData(trx, sent);
  const meeting = await findMeeting(trx, sent.meetingId);
  const participant = meeting?.participants.find((p) => p.id === sent.participantId);
  if (!meeting || !participant || meeting.status === 'cancelled' || meetingEnd(meeting).getTime() <= Date.now())
    return 0;
  if (sameTime(sent.data, await meetingData(trx, meeting, sent.language))) return 0;
  const person = personKey(sent.participantId, sent.data.person);
  // A message to them still waiting (a later move's) tells the latest time already.
  const waiting = await pendingOfKinds(trx, meeting.id, toldTime);
  if (waiting.some((m) => m.status === 'queued' && personKey(m.participantId, m.data.person) === person)) return 0;
  return tell(trx, composer, meeting, participant, 'rescheduled', previousTimeOf(sent.data), {
    withLink: true,
    unless: (r) => personKey(participant.id, r.person) !== person,
  });
}

/**
 * A new-time message that failed told the person nothing. A later one to them still waiting in the
 * queue, which names as its "earlier" the time the failed one was to tell (it went, as far as anyone
 * knew, when the meeting was moved again), names the time the person was told before it instead.
 * Written in the batch that records the failure; one a change holds at that moment is left as it is
 * (the batch waits for no message out of the lock order). Returns how many it corrected.
 */
export async function untoldTime(trx: Trx, failed: OutboxMessage): Promise<number> {
  if (failed.kind !== 'rescheduled' || !failed.meetingId) return 0;
  const later = (await pendingOfKinds(trx, failed.meetingId, ['rescheduled'])).filter(
    (m) => m.status === 'queued' && supersedes(m, failed),
  );
  if (later.length === 0) return 0;
  const now = await dataOf(
    trx,
    await lockFree(
      trx,
      later.map((m) => m.id),
    ),
  );
  let corrected = 0;
  for (const [id, data] of now) {
    if (!sameTime(earlierTimeOf(data), failed.data)) continue;
    await writeData(trx, { id, data: { ...data, ...previousTimeOf(earlierTimeOf(failed.data)) } });
    corrected += 1;
  }
  return corrected;
}

const active = (meeting: Meeting, ids: string[]) => meeting.participants.filter((p) => ids.includes(p.id));

/** The onChange hook: meeting change → outbox rows, in the same transaction. */
export function outboxHook(composer: Composer) {
  return async (trx: Trx, change: MeetingChange): Promise<void> => {
    const meeting = await findMeeting(trx, change.payload.meetingId);
    if (!meeting) return;
    switch (change.type) {
      case 'meeting.booked':
        for (const p of active(meeting, change.payload.participantIds))
          await tell(trx, composer, meeting, p, 'invitation', {});
        return;
      case 'participant.added':
      case 'invitation.resend': {
        const participant = meeting.participants.find((p) => p.id === change.payload.participantId);
        if (!participant) return;
        // A re-sent invitation replaces the old one: earlier links stop working. One that follows a
        // correction goes to the people corrected alone (`persons`): the others' invitations stand.
        const persons = change.type === 'invitation.resend' ? change.payload.persons : undefined;
        if (change.type === 'invitation.resend') await revokeLinks(trx, participant.id, persons);
        await tell(
          trx,
          composer,
          meeting,
          participant,
          'invitation',
          {},
          {
            withLink: true,
            unless: (r) => persons !== undefined && !persons.some((person) => person === r.person),
          },
        );
        return;
      }
      case 'meeting.rescheduled': {
        // Every message below decides by what has not gone yet: locked first, in one order.
        await lockPending(trx, meeting.id);
        // A reminder of the old time that has not gone yet is of no use: the new-time message tells
        // the time now, and the reminders of the new time come when they are due (reminders.ts). Kept
        // and given the new time, it would be a second reminder of that time. Nor is "the meeting has
        // begun and we are waiting for you" true any more.
        await withdrawPending(trx, { meetingId: meeting.id, kinds: ['reminder', 'nudge'] }, notSentReasons.moved);
        // What else has not gone yet (an invitation the gateway keeps refusing, a new-time message)
        // goes with the new time, not after the new-time message with the old one.
        await refreshPending(trx, meeting.id, (language) => meetingData(trx, meeting, language));
        const told = await lastToldTimes(trx, meeting.id);
        const waiting = await waitingNewTimes(trx, meeting.id, told);
        const previous = new Date(change.payload.previousStartsAt);
        // The end too: a meeting made longer at the same start has a new time all the same.
        const previousEnd = new Date(previous.getTime() + change.payload.previousDurationMinutes * 60_000);
        for (const p of active(meeting, change.payload.participantIds)) {
          const before = formatWhen(previous, p.language);
          const movedFrom = {
            previousDate: before.date,
            previousTime: before.time,
            previousEndTime: formatWhen(previousEnd, p.language).time,
          };
          await tell(
            trx,
            composer,
            meeting,
            p,
            'rescheduled',
            // The time the person was last told, not the one the meeting was moved from: a new-time
            // message of that time may have failed (or someone never reached may have none on record).
            (r) => told.get(personKey(p.id, r.person)) ?? movedFrom,
            { withLink: true, unless: (r) => waiting.has(personKey(p.id, r.person)) },
          );
        }
        return;
      }
      case 'meeting.cancelled': {
        // An invitation or reminder still waiting (the gateway kept refusing it) would arrive after
        // the cancellation, with a link that no longer works.
        await withdrawPending(trx, { meetingId: meeting.id }, notSentReasons.cancelled);
        for (const p of meeting.participants.filter((x) => change.payload.participantIds.includes(x.id))) {
          await revokeLinks(trx, p.id);
          await tell(
            trx,
            composer,
            meeting,
            p,
            'cancelled',
            { reason: change.payload.reason, cancelled: true },
            { withLink: false },
          );
        }
        return;
      }
      case 'participant.removed': {
        // The removed person is told they are no longer invited (the meeting goes on without them: not
        // that it is cancelled); their links stop working.
        await revokeLinks(trx, change.payload.participantId);
        await withdrawPending(
          trx,
          { meetingId: meeting.id, participantId: change.payload.participantId },
          notSentReasons.removed,
        );
        const removed = await findParticipant(trx, change.payload.participantId);
        if (removed) await tell(trx, composer, meeting, removed, 'removed', {}, { withLink: false });
        return;
      }
      case 'participant.contact_changed': {
        // What has not gone to the old address yet never will: of the people corrected only (a proxy's
        // number corrected leaves the patient's reminder to go). Those invited at a new address lose
        // their links with it, and the invitation to the new address follows as the same change's
        // 'invitation.resend'. Someone whose e-mail address beside their mobile number alone changed
        // keeps their invitation, link and the SMS on their way: only an e-mail to the old address
        // (in place of an SMS that did not arrive) is withdrawn. Before the participant's row is
        // written (the lock order, meetings/service.ts).
        const { participantId, persons, reinvited } = change.payload;
        if (reinvited.length > 0) await revokeLinks(trx, participantId, reinvited);
        const emailOnly = persons.filter((person) => !reinvited.includes(person));
        await withdrawPending(
          trx,
          {
            meetingId: meeting.id,
            participantId,
            ids: [
              ...(await pendingForPersons(trx, participantId, reinvited)),
              ...(await pendingForPersons(trx, participantId, emailOnly, 'email')),
            ],
          },
          contactsChanged,
        );
        return;
      }
      case 'meeting.updated':
        return;
    }
  };
}

export { tell as tellParticipant };

// Gathers the timeline from what the other domains announce: a meeting's own changes, with the
// messages they queued, inside the change's transaction (a hook the meetings domain runs); the way
// in (link opened, identified, a wrong name or code, locked, another identity than the invited,
// waiting) as parts of the bus events, in the transaction of the change that emits them
// (events.ts); and from the bus the outbox (sent, delivered, failed with the gateway's reason), the tech test with its
// figures and the rooms plugin (presence, kicked, no-show, ended), group-committed
// (db/group-commit.ts). Nothing here reads another domain's tables: their public functions are
// asked instead.
import type { Knex } from 'knex';
import type { Db } from '../db/knex.ts';
import type { GroupCommit } from '../db/group-commit.ts';
import type { EventBus } from '../events.ts';
import { messagesOf, sentToProxy } from '../invites/index.ts';
import { findParticipant, listChanges, type MeetingChange } from '../meetings/index.ts';
import { latestResult, testTaker, type Subject } from '../techtest/index.ts';
import type { Details, NewEntry } from './model.ts';
import { insertEntries, insertEntry } from './store.ts';

type OutboxMessage = Awaited<ReturnType<typeof messagesOf>>[number];
type EntryInput = Omit<NewEntry, 'at'> & { at?: Date };

const complete = (entry: EntryInput): NewEntry => ({
  at: entry.at ?? new Date(),
  ...entry,
});

/** The meeting's changes the timeline shows, by their entry type. */
const changeEntries: Partial<Record<MeetingChange['type'], string>> = {
  'meeting.booked': 'meeting_booked',
  'meeting.rescheduled': 'meeting_rescheduled',
  'meeting.cancelled': 'meeting_cancelled',
  'participant.added': 'participant_added',
  'participant.removed': 'participant_removed',
  'participant.contact_changed': 'contact_changed',
  'invitation.resend': 'invitation_resent',
};

/** A message written to the outbox, logged at the moment it was queued (once: its id is the ref). */
const queuedEntry = (
  message: Pick<OutboxMessage, 'id' | 'meetingId' | 'participantId' | 'kind' | 'channel' | 'createdAt'> & {
    toProxy: boolean;
  },
): NewEntry | undefined =>
  message.meetingId
    ? complete({
        at: message.createdAt,
        meetingId: message.meetingId,
        participantId: message.participantId,
        type: 'message_queued',
        ref: message.id,
        details: messageDetails(message),
      })
    : undefined;

/**
 * A message's entry details: what and how, and for a message to a patient's proxy that it was the
 * proxy's (support reads whose, and the proxy's privacy export holds it, not the patient's).
 */
const messageDetails = (message: { kind: string; channel: string; toProxy: boolean }): Details => ({
  kind: message.kind,
  channel: message.channel,
  ...(message.toProxy ? { person: 'proxy' } : {}),
});

export class Recorder {
  constructor(
    private readonly db: Db,
    private readonly commits: GroupCommit,
  ) {}

  /** Writes an entry in a group commit: resolves once it is durable. */
  async record(entry: EntryInput): Promise<void> {
    const row = complete(entry);
    await this.commits.write((trx) => insertEntry(trx, row));
  }

  /**
   * A meeting change, inside its transaction: the entry at the moment the change was recorded, and
   * the messages it queued (the outbox's hook ran before this one, in the same transaction).
   */
  async changed(trx: Knex.Transaction, change: MeetingChange): Promise<void> {
    const type = changeEntries[change.type];
    if (!type) return;
    const p: { meetingId: string; byStaffId: string; participantId?: string; reason?: string } = change.payload;
    const details: Details = { byStaffId: p.byStaffId };
    if (p.reason !== undefined) details.reason = p.reason;
    // "My invitation said 14:00": support reads from which time to which the meeting moved.
    if (change.type === 'meeting.rescheduled')
      Object.assign(details, { previousStartsAt: change.payload.previousStartsAt, startsAt: change.payload.startsAt });
    // Whose address changed and which (the person's own or their proxy's, mobile or e-mail), never the address.
    if (change.type === 'participant.contact_changed')
      Object.assign(details, { persons: change.payload.persons.join(','), fields: change.payload.fields.join(',') });
    const recorded = (await listChanges(trx, p.meetingId))
      .filter((c) => c.type === change.type && (c.participantId ?? undefined) === p.participantId)
      .at(-1);
    // The change's entry, then each message's queued entry (those logged before are ignored), in
    // one statement.
    const list = [
      complete({ at: recorded?.at, meetingId: p.meetingId, participantId: p.participantId ?? null, type, details }),
    ];
    for (const message of await messagesOf(trx, { meetingId: p.meetingId })) {
      const queued = queuedEntry({ ...message, toProxy: sentToProxy(message) });
      if (queued) list.push(queued);
    }
    await insertEntries(trx, list);
  }

  subscribe(bus: EventBus): void {
    // What the outbox reports is written in the transaction that records it (the dispatcher's
    // batch): a batch's entries in one statement, in the order reported (sent before delivered),
    // each message's queued entry before its first status (a message queued outside a meeting
    // change, e.g. an SMS code, has none yet), so entries of one instant keep that order in the log.
    bus.partOfMany('outbox.status', async (trx, list) => {
      const rows: NewEntry[] = [];
      for (const p of list) {
        const toProxy = p.person === 'proxy';
        const queued = queuedEntry({ ...p, id: p.messageId, createdAt: p.queuedAt, toProxy });
        if (!queued || !p.meetingId) continue;
        const details = messageDetails({ ...p, toProxy });
        if (p.reason) details.reason = p.reason.slice(0, 500);
        // A delivered message was reported sent first, with its queued entry.
        if (p.status !== 'delivered') rows.push(queued);
        rows.push(
          // A message is sent, delivered or failed once; it may be retried many times.
          complete({
            meetingId: p.meetingId,
            participantId: p.participantId,
            type: `message_${p.status}`,
            details,
            ref: p.status === 'retrying' ? undefined : p.messageId,
          }),
        );
      }
      await insertEntries(trx, rows);
    });

    // The way in is written with the change that made it (bus parts): the guest's bind, their
    // identification, a wrong name and the lock commit with their entries.
    // Steps reported together (a right name opens the link and identifies) are one insert.
    bus.partOfMany('participant.status', async (trx, reports) => {
      // delivered comes from the outbox, tech_tested from the test (with figures), joined and left from presence.
      const types: Partial<Record<(typeof reports)[number]['status'], string>> = {
        opened: 'link_opened',
        identified: 'identified',
        waiting: 'waiting',
      };
      const rows: NewEntry[] = [];
      for (const p of reports) {
        const type = types[p.status];
        // Whose link it was, where a patient and their proxy each have one.
        const details: Details = p.person ? { person: p.person } : {};
        if (type) rows.push(complete({ meetingId: p.meetingId, participantId: p.participantId, type, details }));
      }
      if (rows.length > 0) await insertEntries(trx, rows);
    });

    // A wrong name, the lock it may bring, a wrong SMS code and an identity that was not the
    // invited one: the person's way in (problems to support: model.ts's problemRule).
    const refused = (
      trx: Knex.Transaction,
      p: { meetingId: string; participantId: string },
      type: string,
      details: Details,
    ) => insertEntry(trx, complete({ meetingId: p.meetingId, participantId: p.participantId, type, details }));
    bus.part('entry.name_failed', (trx, p) =>
      refused(trx, p, 'name_failed', { person: p.person, triesLeft: p.triesLeft }),
    );
    bus.part('entry.code_failed', (trx, p) =>
      refused(trx, p, 'code_failed', { person: p.person, triesLeft: p.triesLeft }),
    );
    bus.part('entry.locked', (trx, p) => refused(trx, p, 'link_locked', { person: p.person }));
    bus.part('entry.refused', (trx, p) =>
      refused(trx, p, 'link_refused', { person: p.person, problem: p.problem, browser: p.browser, os: p.os }),
    );
    // Came back from BankID or SITHS as someone else: whose link it was, never the number they had.
    bus.part('entry.identity_mismatch', (trx, p) => refused(trx, p, 'identity_mismatch', { person: p.person }));

    // A test's entry commits with its result (a part of the event).
    bus.part(
      'techtest.completed',
      async (trx, { subject, resultId, verdict }: { subject: Subject; resultId: string; verdict: string }) => {
        // A staff member's test belongs to their login, not to a meeting.
        const taker = testTaker(subject);
        if (!taker) return;
        const { participantId, person } = taker;
        const meetingId = subject.meetingId ?? (await findParticipant(trx, participantId))?.meetingId;
        if (!meetingId) return;
        const result = await latestResult(trx, subject);
        const details: Details = { verdict, person };
        if (result && result.id === resultId) {
          Object.assign(details, {
            camera: result.camera,
            microphone: result.microphone,
            sound: result.sound,
            relayUdp: result.network.relayUdp,
            relayTcp: result.network.relayTcp,
            rttMs: result.network.rttMs,
            jitterMs: result.network.jitterMs,
            loss: result.network.loss,
            throughputKbps: result.network.throughputKbps,
            downloadKbps: result.network.downloadKbps,
            uploadKbps: result.network.uploadKbps,
            // Which devices (their labels, never ids): "the headset or the laptop's own microphone?"
            cameraDevice: result.devices.camera,
            microphoneDevice: result.devices.microphone,
            speakerDevice: result.devices.speaker,
            browser: result.browser,
            os: result.os,
          });
        }
        await insertEntry(
          trx,
          complete({
            at: result?.testedAt,
            meetingId,
            participantId,
            type: 'techtest',
            details,
            ref: resultId,
          }),
        );
      },
    );

    // The rooms plugin emits these in production (XMPP presence, the no-show check, ending).
    bus.on('room.opened', (p) =>
      this.record({ meetingId: p.meetingId, participantId: null, type: 'room_opened', details: {} }),
    );
    bus.on('room.presence', (p) => {
      const at = new Date(p.at);
      return this.record({
        at: Number.isNaN(at.getTime()) ? new Date() : at,
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: p.kind,
        // Whose visit, where a patient and their proxy each come in their own right; and why they
        // left, in Prosody's words where it gave any (a lost connection, a kick's reason).
        details: {
          nick: p.nick,
          ...(p.staffId ? { staffId: p.staffId } : p.person ? { person: p.person } : {}),
          ...(p.reason ? { leave: p.reason } : {}),
          ...(p.status ? { status: p.status } : {}),
        },
      });
    });
    bus.on('room.kicked', (p) =>
      this.record({
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: 'kicked',
        details: { nick: p.nick, byStaffId: p.byStaffId, ...(p.person ? { person: p.person } : {}) },
      }),
    );
    bus.on('room.ended', (p) =>
      this.record({
        meetingId: p.meetingId,
        participantId: null,
        type: 'meeting_ended',
        // Why, for the sentence in the reader's language, and what those in the room were told.
        details: { cause: p.cause, reason: p.reason, byStaffId: p.byStaffId },
      }),
    );
    // The phone number itself stays in the booking: the log only says whether there was one.
    bus.on('noshow.alert', (p) =>
      this.record({
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: 'noshow_alert',
        details: { hasPhone: p.phone !== null },
      }),
    );
    bus.on('noshow.action', (p) =>
      this.record({
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: 'noshow_action',
        details: { action: p.action, byStaffId: p.byStaffId },
      }),
    );
  }
}

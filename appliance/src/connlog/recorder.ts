// Gathers the timeline from what the other domains announce on the bus: the outbox (queued, sent,
// delivered, failed with the gateway's reason), the way in (link opened, identified, locked,
// waiting), the tech test with its figures, the rooms plugin (presence, kicked, no-show, ended),
// and the meeting's own changes. Nothing here reads another domain's tables: their store functions
// are asked instead.
import type { Db } from '../db/knex.ts';
import type { EventBus } from '../events.ts';
import { findMessage, messagesOf } from '../invites/index.ts';
import { findParticipant, listChanges } from '../meetings/index.ts';
import { latestResult, type Subject } from '../techtest/index.ts';
import type { Details, NewEntry } from './model.ts';
import { insertEntry } from './store.ts';

export class Recorder {
  constructor(private readonly db: Db) {}

  async record(entry: Omit<NewEntry, 'at' | 'error'> & { at?: Date; error?: boolean }): Promise<void> {
    await insertEntry(this.db, { at: entry.at ?? new Date(), error: entry.error ?? false, ...entry });
  }

  /** A message written to the outbox, logged at the moment it was queued (once). */
  async queued(messageId: string): Promise<void> {
    const message = await findMessage(this.db, messageId);
    if (!message?.meetingId) return;
    await this.record({
      at: message.createdAt,
      meetingId: message.meetingId,
      participantId: message.participantId,
      type: 'message_queued',
      ref: message.id,
      details: { kind: message.kind, channel: message.channel },
    });
  }

  async queuedFor(meetingId: string): Promise<void> {
    for (const message of await messagesOf(this.db, { meetingId })) await this.queued(message.id);
  }

  subscribe(bus: EventBus): void {
    const meetingChange =
      (change: string, type: string) =>
      async (p: { meetingId: string; byStaffId: string; participantId?: string; reason?: string }) => {
        const details: Details = { byStaffId: p.byStaffId };
        if (p.reason !== undefined) details.reason = p.reason;
        // At the moment the change was recorded, before the messages it queued.
        const recorded = (await listChanges(this.db, p.meetingId))
          .filter((c) => c.type === change && (c.participantId ?? undefined) === p.participantId)
          .at(-1);
        await this.record({
          at: recorded?.at,
          meetingId: p.meetingId,
          participantId: p.participantId ?? null,
          type,
          details,
        });
        await this.queuedFor(p.meetingId);
      };
    bus.on('meeting.booked', meetingChange('meeting.booked', 'meeting_booked'));
    bus.on('meeting.rescheduled', meetingChange('meeting.rescheduled', 'meeting_rescheduled'));
    bus.on('meeting.cancelled', meetingChange('meeting.cancelled', 'meeting_cancelled'));
    bus.on('participant.added', meetingChange('participant.added', 'participant_added'));
    bus.on('participant.removed', meetingChange('participant.removed', 'participant_removed'));
    bus.on('invitation.resend', meetingChange('invitation.resend', 'invitation_resent'));

    bus.on('outbox.status', async (p) => {
      if (!p.meetingId) return;
      await this.queued(p.messageId);
      const details: Details = { kind: p.kind, channel: p.channel };
      if (p.reason) details.reason = p.reason.slice(0, 500);
      // A message is sent, delivered or failed once; it may be retried many times.
      await this.record({
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: `message_${p.status}`,
        error: p.status === 'failed',
        details,
        ref: p.status === 'retrying' ? undefined : p.messageId,
      });
    });

    bus.on('participant.status', async (p) => {
      // delivered comes from the outbox, tech_tested from the test (with figures), joined and left from presence.
      const types: Partial<Record<typeof p.status, string>> = {
        opened: 'link_opened',
        identified: 'identified',
        waiting: 'waiting',
      };
      const type = types[p.status];
      if (type) await this.record({ meetingId: p.meetingId, participantId: p.participantId, type, details: {} });
    });

    bus.on('entry.name_failed', async (p) => {
      await this.record({
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: 'name_failed',
        error: true,
        details: { person: p.person, triesLeft: p.triesLeft },
      });
    });

    bus.on('entry.locked', async (p) => {
      await this.record({
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: 'link_locked',
        error: true,
        details: { person: p.person },
      });
    });

    bus.on(
      'techtest.completed',
      async ({ subject, resultId, verdict }: { subject: Subject; resultId: string; verdict: string }) => {
        // A staff member's test belongs to their login, not to a meeting.
        if (subject.type !== 'participant') return;
        const [participantId = '', proxy] = subject.id.split(':');
        const participant = await findParticipant(this.db, participantId);
        if (!participant) return;
        const result = await latestResult(this.db, subject);
        const details: Details = { verdict, person: proxy ? 'proxy' : 'main' };
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
            browser: result.browser,
            os: result.os,
          });
        }
        await this.record({
          at: result?.testedAt,
          meetingId: participant.meetingId,
          participantId,
          type: 'techtest',
          error: verdict === 'failed',
          details,
          ref: resultId,
        });
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
        details: p.staffId ? { nick: p.nick, staffId: p.staffId } : { nick: p.nick },
      });
    });
    bus.on('room.kicked', (p) =>
      this.record({
        meetingId: p.meetingId,
        participantId: p.participantId,
        type: 'kicked',
        details: { nick: p.nick, byStaffId: p.byStaffId },
      }),
    );
    bus.on('room.ended', (p) =>
      this.record({
        meetingId: p.meetingId,
        participantId: null,
        type: 'meeting_ended',
        details: { reason: p.reason, byStaffId: p.byStaffId },
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

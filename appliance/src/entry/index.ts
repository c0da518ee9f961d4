// The entry plugin: the way in for patients, proxies and guests, from the one-time link through
// the name check, the SMS code and the technical test to the waiting room.
import type { Plugin, Server } from '@hapi/hapi';
import { testTaker, type Subject } from '../techtest/index.ts';
import { registerGuestAuth } from './auth.ts';
import { entryRoutes, type RoomClock } from './routes.ts';
import { entryStaffRoutes } from './staff.ts';
import { entryFacts } from './facts.ts';
import { EntryService, type CodeMessenger, type Invitation } from './service.ts';
import { linkExpiry, moveLinkExpiry } from './links.ts';
import { moveSessionExpiry, resetEntry } from './store.ts';
import { addParticipantFacts, findParticipant, isOver, meetingEnd, onMeetingChange } from '../meetings/index.ts';

declare module '@hapi/hapi' {
  interface PluginProperties {
    entry: { service: EntryService; clock: RoomClock };
  }
}

declare module '../events.ts' {
  interface DomainEvents {
    /** Staff (or the schedule) opened the meeting's room: the waiting room moves on. */
    'room.opened': { meetingId: string };
  }
}

export const plugin: Plugin<void> = {
  name: 'entry',
  dependencies: ['db', 'staff', 'meetings', 'techtest'],
  register(server) {
    const { db, bus, config } = server.app;
    registerGuestAuth(server);
    const service = new EntryService(db, bus, server.app.groupCommit, config.roomGraceMinutes, config.dataKey);

    const clock: RoomClock = {
      opensAt: (invitation: Invitation) =>
        new Date(invitation.meeting.startsAt.getTime() - config.roomOpensMinutes * 60_000),
      // Ended by staff, or past the grace period (when the room's own clock has not yet said so).
      isEnded: (invitation: Invitation, now = new Date()) => isOver(invitation.meeting, config.roomGraceMinutes, now),
      isOpen: (invitation: Invitation, now = new Date()) =>
        !clock.isEnded(invitation, now) &&
        (invitation.meeting.status === 'open' ||
          invitation.meeting.status === 'in_progress' ||
          now >= clock.opensAt(invitation)),
    };

    // A re-sent invitation starts the way in afresh (a new browser, new tries), in the same
    // transaction that revokes the old links. A moved meeting moves its ways in to its new end, the
    // links and the guests' sessions: who came in before the move is still in at the new time.
    onMeetingChange(server, async (trx, change) => {
      if (change.type === 'invitation.resend') await resetEntry(trx, change.payload.participantId);
      if (change.type === 'meeting.rescheduled') {
        const { meetingId, startsAt, durationMinutes, participantIds } = change.payload;
        const expiresAt = linkExpiry(
          meetingEnd({ startsAt: new Date(startsAt), durationMinutes }),
          config.roomGraceMinutes,
        );
        await moveLinkExpiry(trx, participantIds, expiresAt);
        await moveSessionExpiry(trx, meetingId, expiresAt);
      }
    });

    // A participant's test moves their status in the test's own transaction (a part of its event).
    bus.part('techtest.completed', async (trx, { subject }: { subject: Subject }) => {
      const taker = testTaker(subject);
      if (!taker) return;
      const { participantId } = taker;
      const meetingId = subject.meetingId ?? (await findParticipant(trx, participantId))?.meetingId;
      if (meetingId) await bus.emitIn(trx, 'participant.status', { meetingId, participantId, status: 'tech_tested' });
    });

    addParticipantFacts(server, entryFacts(db));
    server.expose('service', service);
    server.expose('clock', clock);
    server.route(entryRoutes(service, clock));
    server.route(entryStaffRoutes);
  },
};

/** The guest's way in: their invitation, link state and session (for the meeting page). */
export const entryService = (server: Server): EntryService => server.plugins.entry.service;

/** When a guest's room is open: the meeting's status, or its opening time. */
export const roomClock = (server: Server): RoomClock => server.plugins.entry.clock;

/** The invitations' outbox registers itself as the way entry's SMS codes leave. */
export function provideCodeMessenger(server: Server, messenger: CodeMessenger): void {
  server.plugins.entry.service.useMessenger(messenger);
}

// The public API: what other domains may use of this one (ARCHITECTURE.md).
export { linkPath, issueLink, linkExpiry, revokeLinks, type LinkPerson } from './links.ts';
export { checkBrowser } from './browser.ts';
export { sessionRead } from './auth.ts';
export { entryStatesOf } from './store.ts';

// The meetings plugin: booking, the clinician's calendar and the meeting page.
import type { Plugin } from '@hapi/hapi';
import { findStaff, findUnit } from '../staff/index.ts';
import type { ChangeHook } from './events.ts';
import { routes as pageRoutes } from './pages.ts';
import { ParticipantFacts, type FactsProvider, type MarksProvider } from './facts.ts';
import { LiveUpdates } from './live.ts';
import { apiRoutes } from './routes.ts';
import { MeetingService } from './service.ts';
import { findMeeting } from './store.ts';

declare module '@hapi/hapi' {
  interface PluginProperties {
    meetings: {
      service: MeetingService;
      /** Work that commits or rolls back with every meeting change (the invitations' outbox). */
      onChange(hook: ChangeHook): void;
      /** What another domain knows about each participant, shown on the meeting page. */
      addParticipantFacts(provider: FactsProvider): void;
      /** Marks another domain puts on meetings in the calendar. */
      addCalendarMarks(provider: MarksProvider): void;
    };
  }
}

export const plugin: Plugin<void> = {
  name: 'meetings',
  dependencies: ['db', 'audit', 'staff'],
  register(server) {
    const { db, config, bus } = server.app;
    const service = new MeetingService(db, config, bus, {
      byId: (id) => findStaff(db, { id }),
      byEmail: (email) => findStaff(db, { email }),
      unitExists: async (id) => (await findUnit(db, { id })) !== undefined,
    });
    server.expose('service', service);
    server.expose('onChange', (hook: ChangeHook) => service.onChange(hook));

    // Other domains report how far a participant has come; the meeting page and calendar follow.
    const live = new LiveUpdates(bus, async (meetingId) => (await findMeeting(db, meetingId))?.unitId);
    bus.on('participant.status', async ({ meetingId, participantId, status }) => {
      if (!(await service.setParticipantStatus(participantId, status))) return;
      const meeting = await service.find(meetingId);
      if (meeting) live.publish(meeting.unitId, { type: 'participant.status', meetingId, participantId, status });
    });
    server.ext('onPreStop', () => live.closeAll());

    server.route(apiRoutes(service));
    const facts = new ParticipantFacts();
    server.expose('addParticipantFacts', (provider: FactsProvider) => facts.add(provider));
    server.expose('addCalendarMarks', (provider: MarksProvider) => facts.addMarks(provider));
    server.route(pageRoutes(service, live, facts));
  },
};

// The public API: what other domains may use of this one (ARCHITECTURE.md).
export { parsePersonalNumber, maskPersonalNumber } from './personal-number.ts';
export { displayPhone } from './contacts.ts';
export { isPatient, meetingEnd, type ParticipantKind, type Meeting, type Participant } from './model.ts';
export { personalNumberOf, findMeeting, findParticipant, listChanges, eraseContactsOfMeetings, eraseParticipantContacts, meetingsEndedBefore, listMeetings, advanceMeetingStatus } from './store.ts';
export type { FactsProvider, ParticipantFact, MarksProvider } from './facts.ts';
export type { MeetingChange } from './events.ts';
export { findPatient, patientOfMeeting, type PatientRecord } from './patients.ts';

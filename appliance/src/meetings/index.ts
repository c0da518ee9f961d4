// The meetings plugin: booking, the clinician's calendar and the meeting page.
import type { Plugin, Server } from '@hapi/hapi';
import type { Staff } from '../staff/index.ts';
import type { Meeting } from './model.ts';
import type { RoomStatus } from './store.ts';
import { findStaff, findUnit } from '../staff/index.ts';
import type { ChangeHook, WithinStatus } from './events.ts';
import { routes as pageRoutes } from './pages.ts';
import { ParticipantFacts, type FactsProvider, type MarksProvider } from './facts.ts';
import { LiveUpdates } from './live.ts';
import { remembered } from './units.ts';
import { afterCommit } from '../events.ts';
import { apiRoutes } from './routes.ts';
import { MeetingService } from './service.ts';
import { dataKeyOpensSealed, fillPatientRefs, findMeetingAudience } from './store.ts';
import { DataKeyError } from '../crypto.ts';
import { Forbidden } from './violations.ts';

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
    // After the db plugin's migrations, before anything is sent or served (crypto.ts, DataKeyError).
    server.ext('onPreStart', async () => {
      if (!(await dataKeyOpensSealed(db, config.dataKey))) throw new DataKeyError();
      // Patients booked before migration 0020: their log extract must outlive their numbers.
      await fillPatientRefs(db, config.dataKey);
    });

    // Whose calendars show a meeting: its unit, set when it is booked, and the staff named on it (units.ts).
    const audienceOf = remembered((meetingId) => findMeetingAudience(db, meetingId));

    // Other domains report how far a participant has come; the meeting page and calendar follow.
    // Reports from outside a request (a wave of delivery receipts) share the group commit (events.ts).
    const live = new LiveUpdates(bus, audienceOf);
    // Such reports are part of the change that made them (bus parts, ARCHITECTURE.md): the status
    // moves in its transaction, and the pages hear of it once that has committed.
    // Reports that come together (a batch of delivery receipts) move with one statement per status.
    bus.partOfMany('participant.status', async (trx, reports) => {
      const moved: typeof reports = [];
      for (const status of new Set(reports.map((r) => r.status))) {
        const ofStatus = reports.filter((r) => r.status === status);
        const ids = new Set(
          await service.setParticipantsStatus([...new Set(ofStatus.map((r) => r.participantId))], status, trx),
        );
        // A participant reported twice (two messages of a patient with a proxy) moved once.
        for (const report of ofStatus) if (ids.delete(report.participantId)) moved.push(report);
      }
      afterCommit(trx, () => {
        for (const { meetingId, participantId, status } of moved)
          audienceOf(meetingId)
            .then(
              (audience) =>
                audience && live.publish(audience, { type: 'participant.status', meetingId, participantId, status }),
            )
            .catch((error: unknown) => server.log(['error', 'bus'], { event: 'participant.status', err: error }));
      });
    });

    server.route(apiRoutes(service));
    const facts = new ParticipantFacts();
    server.expose('addParticipantFacts', (provider: FactsProvider) => facts.add(provider));
    server.expose('addCalendarMarks', (provider: MarksProvider) => facts.addMarks(provider));
    server.route(pageRoutes(service, live, facts));
  },
};

// The public API: what other domains may use of this one (ARCHITECTURE.md).

/**
 * A meeting as this staff member may see it (support sees no contact data). An unknown meeting is
 * NotFound, another unit's is Forbidden and audited: the meetings domain's access rule, applied once.
 */
export const meetingFor = (server: Server, staff: Staff, meetingId: string): Promise<Meeting> =>
  server.plugins.meetings.service.get(staff, meetingId);

/** The changes after which a live page of the meeting checks again whether its person may still read it. */
export { accessChanges } from './live.ts';
/** Whether this staff member may still read the meeting as it is now (a live page's check; not audited). */
export const stillSees = (server: Server, staff: Staff, meetingId: string): Promise<boolean> =>
  server.plugins.meetings.service.sees(staff, meetingId);

/** Whether this staff member may see participants' contact details (support may not). */
export { seesContactDetails } from './service.ts';

/** Whether this staff member may change the meeting (and so act in its room). */
export const mayChange = (server: Server, staff: Staff, meeting: Meeting): boolean =>
  server.plugins.meetings.service.canChange(staff, meeting);

/**
 * Refuses a staff member who may read the meeting but not change it (support, a colleague invited
 * from another unit) an action in it, as a change through the meetings domain is refused: Forbidden,
 * and audited.
 */
export function mustChange(server: Server, staff: Staff, meeting: Meeting): void {
  if (!mayChange(server, staff, meeting)) throw new Forbidden(meeting.id);
}

/** Work that commits or rolls back with every meeting change (outbox rows, the room's name). */
export const onMeetingChange = (server: Server, hook: ChangeHook): void => server.plugins.meetings.onChange(hook);

/** What another domain knows about each participant, shown on the meeting page. */
export const addParticipantFacts = (server: Server, provider: FactsProvider): void =>
  server.plugins.meetings.addParticipantFacts(provider);

/** Marks another domain puts on meetings in the calendar. */
export const addCalendarMarks = (server: Server, provider: MarksProvider): void =>
  server.plugins.meetings.addCalendarMarks(provider);

/** The room moves the meeting on (open, in progress, ended): recorded as a 'meeting.status' event. */
export const advanceStatus = (
  server: Server,
  meetingId: string,
  status: RoomStatus,
  byStaffId: string | null = null,
  now = new Date(),
  within?: WithinStatus,
): Promise<boolean> => server.plugins.meetings.service.advanceStatus(meetingId, status, byStaffId, now, within);

// Reads without an access check, for system work (messages, schedules, the guest's own meeting,
// admin-only pages): a read for a staff member's request goes through meetingFor.
export { parsePersonalNumber, maskPersonalNumber } from './personal-number.ts';
export { displayPhone } from './contacts.ts';
export {
  invitedAt,
  isJoinable,
  isOver,
  isPatient,
  meetingEnd,
  participantStatusKey,
  shownStatus,
  tookPart,
  wasHeld,
  type ParticipantKind,
  type ContactPerson,
  type BareMeeting,
  type Meeting,
  type Participant,
} from './model.ts';
export {
  personalNumberOf,
  findMeeting,
  findParticipant,
  findAttendance,
  listChanges,
  eraseContactsOfMeetingsEndedBefore,
  eraseParticipantContacts,
  forgetPatientRefs,
  everyParticipantOf,
  meetingsEndedBefore,
  listMeetings,
  meetingLabels,
  searchMeetingPage,
  type FoundMeeting,
  type RoomStatus,
} from './store.ts';
export type { FactsProvider, ParticipantFact, MarksProvider } from './facts.ts';
export type { MeetingChange, WithinStatus } from './events.ts';
export { findPatient, patientOfMeeting, type PatientRecord } from './patients.ts';

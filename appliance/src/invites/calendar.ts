// The iCalendar part of an e-mail invitation (RFC 5545 / iTIP RFC 5546), so the recipient's
// calendar program adds the meeting, moves it when it is rescheduled and removes it when it is
// cancelled. That works only if every update keeps the meeting's UID and raises SEQUENCE.
import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';

export interface MeetingCalendarEvent {
  /** Stable for the meeting's whole life, e.g. `<meeting id>@<appliance host>`. */
  uid: string;
  /** 0 for the first invitation; raised by one on every reschedule, and on cancellation. */
  sequence: number;
  start: Date;
  end: Date;
  summary: string;
  /** The guest's join link: put in LOCATION and DESCRIPTION, where calendar programs show it. */
  joinUrl: string;
  /** Text shown before the link in the description (what to prepare, whom to call). */
  description?: string;
  /** The inviting unit. */
  organizer: { name: string; email: string };
  /** The recipient; calendar programs treat an event without attendees as a plain appointment. */
  attendee?: { name?: string; email: string };
  cancelled?: boolean;
}

export interface CalendarPart {
  method: 'REQUEST' | 'CANCEL';
  /** The whole VCALENDAR text. */
  content: string;
}

/**
 * A name as a quoted parameter value (CN): RFC 5545 allows no DQUOTE inside one and has no escape
 * for it (ical-generator writes \", which ends the value early for a strict reader), so a quotation
 * mark in a name ("Mo") becomes an apostrophe there.
 */
const parameterText = (name: string): string => name.replace(/"/g, "'");

/** A METHOD:REQUEST invitation or update, or a METHOD:CANCEL cancellation, for one meeting. */
export function meetingCalendar(event: MeetingCalendarEvent): CalendarPart {
  if (!Number.isInteger(event.sequence) || event.sequence < 0)
    throw new Error('the calendar SEQUENCE must be a whole number ≥ 0');
  if (!(event.end > event.start)) throw new Error('a meeting must end after it starts');
  const method = event.cancelled ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST;
  const calendar = ical({ prodId: { company: 'Samverka', product: 'Samverka', language: 'SV' }, method });
  calendar.createEvent({
    id: event.uid,
    sequence: event.sequence,
    stamp: new Date(),
    start: event.start,
    end: event.end,
    summary: event.summary,
    location: event.joinUrl,
    url: event.joinUrl,
    description: event.description ? `${event.description}\n\n${event.joinUrl}` : event.joinUrl,
    organizer: { ...event.organizer, name: parameterText(event.organizer.name) },
    status: event.cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    attendees: event.attendee
      ? [
          {
            email: event.attendee.email,
            ...(event.attendee.name ? { name: parameterText(event.attendee.name) } : {}),
            role: ICalAttendeeRole.REQ,
            status: ICalAttendeeStatus.NEEDSACTION,
            rsvp: false,
          },
        ]
      : [],
  });
  return { method, content: calendar.toString() };
}

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
 * Stands for a backslash in a quoted parameter value while ical-generator writes it: a private-use
 * character no name has, put back as a backslash in the finished text (parameterValues).
 */
const BACKSLASH = '\uE000';

/** Text without the stand-in, so that only parameterText's become backslashes. */
const withoutStandIn = (text: string): string => text.replaceAll(BACKSLASH, '');

/**
 * A name as a quoted parameter value (CN). RFC 5545 §3.1 has no escapes there: a quoted value is
 * read literally up to the next DQUOTE and may hold no control character. ical-generator escapes it
 * like a TEXT value all the same (\\ for a backslash, \n for a line break, \" for a quotation mark),
 * which Outlook shows as typed ("BUM\\Öst") and which ends the value early for a strict reader
 * (ical.js in Thunderbird). So a quotation mark becomes an apostrophe, a line break or other control
 * character a space, and a backslash goes through as itself.
 */
const parameterText = (name: string): string =>
  withoutStandIn(name)
    .replace(/"/g, "'")
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replaceAll('\\', BACKSLASH);

/** The finished calendar text with parameterText's backslashes put back. */
const parameterValues = (ics: string): string => ics.replaceAll(BACKSLASH, '\\');

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
    summary: withoutStandIn(event.summary),
    location: event.joinUrl,
    url: event.joinUrl,
    description: withoutStandIn(event.description ? `${event.description}\n\n${event.joinUrl}` : event.joinUrl),
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
  return { method, content: parameterValues(calendar.toString()) };
}

// The meeting record for staff: a page linked from the meeting page once the meeting has been held
// (with a summary to copy into the clinic's own documentation), and the same in the API for a
// journal system. Read through meetingFor, as every meeting page: whoever may read the meeting.
import type { Request, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { formatSpan, formatWhen } from '../common/clock.ts';
import type { Language } from '../common/language.ts';
import { apiRoute } from '../http/api.ts';
import { languageOf, t } from '../http/i18n.ts';
import { objectOf, route } from '../http/route.ts';
import { everyParticipantOf, meetingFor, type Meeting } from '../meetings/index.ts';
import { findStaff } from '../staff/index.ts';
import { meetingRecord, type MeetingRecord, type Span } from './record.ts';
import { presenceOf } from './store.ts';

const meetingParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });

/**
 * The meeting a staff member may read, and its record, with the read audited. `presenceRecorded`:
 * whether this appliance records who is in the rooms (it controls them: XMPP_* set).
 */
async function recordFor(
  request: Request,
  meetingId: string,
  presenceRecorded: boolean,
): Promise<{ meeting: Meeting; record: MeetingRecord }> {
  const meeting = await meetingFor(request.server, request.auth.credentials.user!, meetingId);
  const { db } = request.server.app;
  const presence = await presenceOf(db, meeting.id);
  // Those taken off the meeting since are named as they were invited (their rows are kept, marked
  // removed); the record takes their names and kinds, never their contact details.
  const removed = (await everyParticipantOf(db, meeting.id)).filter((p) => p.removedAt !== null);
  const names = new Map<string, string>();
  for (const staffId of new Set(presence.flatMap((p) => (p.staffId ? [p.staffId] : []))))
    names.set(staffId, (await findStaff(db, { id: staffId }))?.name ?? '');
  await request.audit('meeting.record.read', { meetingId: meeting.id, targetType: 'meeting', targetId: meeting.id });
  return {
    meeting,
    record: meetingRecord({ ...meeting, removed }, presence, (id) => names.get(id) || undefined, new Date(), {
      presenceRecorded,
    }),
  };
}

const clock = (at: Date, lang: Language) => formatWhen(at, lang).time;

/** "10:03–10:47", "10:03–10:20, 10:22–10:47", or "10:03– (still in the room)". */
const spansText = (spans: Span[], lang: Language): string =>
  spans
    .map((s) =>
      s.to
        ? `${clock(s.from, lang)}–${clock(s.to, lang)}`
        : t(lang, 'rooms.record.since', { time: clock(s.from, lang) }),
    )
    .join(', ');

/** The record as the page shows it, and its summary in one paragraph. */
function recordView(meeting: Meeting, record: MeetingRecord, lang: Language) {
  const role = (r: string) => t(lang, `rooms.record.role.${r}`);
  const attendees = record.attendees.map((a) => ({
    name: a.name,
    role: a.removed ? `${role(a.role)}, ${t(lang, 'meetings.participant.removed')}` : role(a.role),
    spans: spansText(a.spans, lang),
    minutes: a.minutes,
  }));
  const held =
    record.heldFrom &&
    (record.heldTo
      ? t(lang, 'rooms.record.held', {
          date: formatWhen(record.heldFrom, lang).date,
          from: clock(record.heldFrom, lang),
          to: clock(record.heldTo, lang),
          minutes: record.minutes,
        })
      : t(lang, 'rooms.record.ongoing', {
          date: formatWhen(record.heldFrom, lang).date,
          from: clock(record.heldFrom, lang),
        }));
  const absent = record.absent.map((p) => `${p.name} (${role(p.role).toLowerCase()})`).join(', ');
  const summary =
    held &&
    [
      `${meeting.title}. ${held}`,
      t(lang, 'rooms.record.summaryAttended', {
        people: attendees.map((a) => `${a.name} (${a.role.toLowerCase()}, ${a.spans})`).join(', '),
      }),
      absent && t(lang, 'rooms.record.summaryAbsent', { people: absent }),
    ]
      .filter(Boolean)
      .join(' ');
  return {
    booked: formatSpan(meeting.startsAt, meeting.durationMinutes, lang),
    presenceRecorded: record.presenceRecorded,
    held,
    attendees,
    absent,
    summary,
  };
}

/** `controlsRooms`: the appliance controls the rooms over XMPP, and so records who is in them. */
export const recordRoutes = (controlsRooms: boolean): ServerRoute[] => [
  route({
    method: 'GET',
    path: '/meetings/{id}/record',
    options: { auth: { strategy: 'session' }, validate: { params: meetingParams } },
    handler: async (request, h) => {
      const lang = languageOf(request);
      const { meeting, record } = await recordFor(request, request.params.id, controlsRooms);
      return h.view('rooms/record', {
        title: t(lang, 'rooms.record.title'),
        meeting,
        ...recordView(meeting, record, lang),
      });
    },
  }),
  apiRoute({
    method: 'GET',
    path: '/meetings/{id}/record',
    options: {
      description: 'The meeting record: who was in the room, when and for how long',
      notes:
        'From the first join to the last leave (heldTo null while someone is still in the room), each person in the order they came, their time in the room with overlapping presences joined, and the invited participants who never came. A participant removed from the meeting after being in the room is named as invited, with `removed` true. `presenceRecorded` false: this appliance is not connected to the meeting server (XMPP_* not set) and records nobody in the room, so an empty record says nothing of who came (and `absent` is empty). Names only: no contact details.',
      validate: { params: meetingParams },
    },
    handler: async (request) => {
      const { meeting, record } = await recordFor(request, request.params.id, controlsRooms);
      return { meetingId: meeting.id, ...record };
    },
  }),
];

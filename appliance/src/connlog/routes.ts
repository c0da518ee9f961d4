// The support page: search meetings, read one meeting's timeline (with tech-test figures and the
// browser, optionally one participant's, optionally only errors), export it as JSON or CSV. Roles
// support and admin; every access is audited.
import type { Request, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { day as lookupDay, lookupYears } from '../http/dates.ts';
import { languageOf, t, type Language } from '../http/i18n.ts';
import { objectOf, route } from '../http/route.ts';
import { addDays, formatStamp, formatWhen, fromClinicTime, toClinicIso, today } from '../common/clock.ts';
import type { Meeting } from '../meetings/index.ts';
import { findParticipant, meetingFor } from '../meetings/index.ts';
import { findStaff, findUnit, listUnits } from '../staff/index.ts';
import { forExcel, toCsv } from '../common/csv.ts';
import type { LogEntry } from './model.ts';
import { maskPhone, maxSearchDays, phoneFor, searchMeetings } from './search.ts';
import { detailFacts, sentence } from './sentences.ts';
import { countsByMeeting, timeline } from './store.ts';

const support = { strategy: 'session', scope: ['support', 'admin'] };
const day = lookupDay(lookupYears);

const searchQuery = objectOf<{
  from?: string;
  to?: string;
  unitId?: string;
  meetingId?: string;
  name?: string;
  phone?: string;
}>({
  from: day,
  to: day,
  unitId: Joi.string().guid().allow(''),
  meetingId: Joi.string().guid().allow(''),
  name: Joi.string().trim().max(200).allow(''),
  phone: Joi.string()
    .trim()
    .max(30)
    .pattern(/^[\d\s()+-]*$/, 'a phone number')
    .allow(''),
});

interface TimelineQuery {
  participantId?: string;
  errors?: string;
  format?: 'json' | 'csv';
}
const timelineQuery = objectOf<TimelineQuery>({
  participantId: Joi.string().guid().allow(''),
  errors: Joi.string().valid('1', 'on', 'true').allow(''),
  format: Joi.string<'json' | 'csv'>().valid('json', 'csv'),
});

const idParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });

function when(date: Date, lang: Language): string {
  const f = formatWhen(date, lang);
  return `${f.date} ${f.time}`;
}

const clock = formatStamp;

interface TimelineRow {
  at: string;
  participantId: string | null;
  participant: string | null;
  type: string;
  error: boolean;
  text: string;
  details: LogEntry['details'];
}

/** Each participant's name, and their proxy's where they have one (a removed participant's too). */
async function participantNames(
  request: Request,
  meeting: Meeting,
  entries: LogEntry[],
): Promise<Map<string, { name: string; proxy?: string }>> {
  const names = new Map(meeting.participants.map((p) => [p.id, { name: p.name, proxy: p.proxy?.name }]));
  for (const id of new Set(
    entries.map((e) => e.participantId).filter((id): id is string => id !== null && !names.has(id)),
  )) {
    const removed = await findParticipant(request.server.app.db, id);
    if (removed) names.set(id, { name: removed.name, proxy: removed.proxy?.name });
  }
  return names;
}

/** Who an entry is about: a proxy's own steps name the proxy, for the participant they act for. */
function whoseEntry(entry: LogEntry, names: Map<string, { name: string; proxy?: string }>, lang: Language) {
  const known = entry.participantId ? names.get(entry.participantId) : undefined;
  if (!known) return null;
  return entry.details.person === 'proxy' && known.proxy
    ? t(lang, 'connlog.timeline.proxyFor', { proxy: known.proxy, name: known.name })
    : known.name;
}

async function readTimeline(
  request: Request,
  id: string,
  q: TimelineQuery,
): Promise<{ meeting: Meeting; rows: TimelineRow[]; query: { participantId?: string; onlyErrors: boolean } }> {
  const { db } = request.server.app;
  const lang = languageOf(request);
  const meeting = await meetingFor(request.server, request.auth.credentials.user!, id);
  const query = { participantId: q.participantId || undefined, onlyErrors: Boolean(q.errors) };
  const entries = await timeline(db, { meetingId: id, ...query, withMeeting: true });
  const names = await participantNames(request, meeting, entries);
  const rows = entries.map((e) => ({
    at: e.at.toISOString(),
    participantId: e.participantId,
    participant: whoseEntry(e, names, lang),
    type: e.type,
    error: e.error,
    text: sentence(e, lang),
    details: e.details,
  }));
  return { meeting, rows, query };
}

export function routes(): ServerRoute[] {
  return [
    route({
      method: 'GET',
      path: '/connlog',
      options: { auth: support, validate: { query: searchQuery } },
      async handler(request, h) {
        const lang = languageOf(request);
        const { db } = request.server.app;
        const staff = request.auth.credentials.user!;
        const q = request.query;
        // Without dates: the fortnight either side of today (support is asked about recent and coming meetings).
        const fromDay = q.from ?? addDays(today(), -14);
        const toDay = q.to ?? addDays(today(), 14);
        // Days on the clinic's clock: a meeting at 00:30 in Stockholm is that day's, not the evening before's.
        const from = fromClinicTime(fromDay);
        const to = fromClinicTime(addDays(toDay, 1));
        const units = await listUnits(db);
        const form = {
          from: fromDay,
          to: toDay,
          unitId: q.unitId ?? '',
          meetingId: q.meetingId ?? '',
          name: q.name ?? '',
          phone: q.phone ?? '',
        };
        const view = (extra: Record<string, unknown>, code = 200) =>
          h
            .view('connlog/search', {
              title: t(lang, 'connlog.search.title'),
              styles: ['connlog.css'],
              form,
              units: units.map((u) => ({ ...u, selected: u.id === q.unitId })),
              ...extra,
            })
            .code(code);
        const spanDays = (Date.parse(toDay) - Date.parse(fromDay)) / 86_400_000;
        if (spanDays < 0 || spanDays > maxSearchDays) {
          return view({ error: t(lang, 'connlog.search.badPeriod') }, 400);
        }
        const searched = Object.keys(request.query).length > 0;
        if (!searched) return view({});
        const meetings = await searchMeetings(db, {
          from,
          to,
          unitId: q.unitId || undefined,
          meetingId: q.meetingId || undefined,
          name: q.name || undefined,
          phone: q.phone || undefined,
        });
        const counts = await countsByMeeting(
          db,
          meetings.map((m) => m.id),
        );
        await request.audit('connlog.search', {
          targetType: 'connlog',
          details: {
            from: form.from,
            to: form.to,
            unitId: form.unitId || null,
            meetingId: form.meetingId || null,
            name: form.name || null,
            phone: maskPhone(form.phone || null),
            found: meetings.length,
            // The result shows each meeting's participants by name and phone: an access to each
            // patient's data, which their log extract lists (audit/store.ts, findAccesses).
            meetingIds: meetings.map((m) => m.id),
          },
        });
        const unitNames = new Map(units.map((u) => [u.id, u.name]));
        return view({
          searched: true,
          meetings: meetings.map((m) => ({
            id: m.id,
            title: m.title,
            when: when(m.startsAt, lang),
            unit: unitNames.get(m.unitId),
            participants: m.participants.map((p) => ({
              name: p.name,
              phone: phoneFor(staff.role, p.mobile),
              proxy: p.proxy ? { name: p.proxy.name, phone: phoneFor(staff.role, p.proxy.mobile) } : null,
            })),
            entries: counts.get(m.id)?.entries ?? 0,
            errors: counts.get(m.id)?.errors ?? 0,
          })),
        });
      },
    }),
    route({
      method: 'GET',
      path: '/connlog/meetings/{id}',
      options: { auth: support, validate: { params: idParams, query: timelineQuery } },
      async handler(request, h) {
        const lang = languageOf(request);
        const { meeting, rows, query } = await readTimeline(request, request.params.id, request.query);
        const { format } = request.query;
        await request.audit(format ? 'connlog.export' : 'connlog.read', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
          details: {
            participantId: query.participantId ?? null,
            onlyErrors: query.onlyErrors,
            format: format ?? null,
            entries: rows.length,
          },
        });
        const file = `samverka-log-${meeting.id}`;
        if (format === 'json') {
          const unit = await findUnit(request.server.app.db, { id: meeting.unitId });
          return h
            .response({
              meeting: {
                id: meeting.id,
                title: meeting.title,
                startsAt: meeting.startsAt.toISOString(),
                durationMinutes: meeting.durationMinutes,
                status: meeting.status,
                unit: unit?.name ?? null,
              },
              filter: query,
              entries: rows,
            })
            .header('content-disposition', `attachment; filename="${file}.json"`);
        }
        if (format === 'csv') {
          const csv = toCsv(
            ['at', 'participantId', 'participant', 'type', 'error', 'text', 'details'],
            // A spreadsheet shows the time as written: the clinic's, with its offset (the JSON stays UTC).
            rows.map((r) => [
              toClinicIso(new Date(r.at)),
              r.participantId,
              r.participant,
              r.type,
              r.error,
              r.text,
              r.details,
            ]),
            forExcel,
          );
          return h
            .response(csv)
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${file}.csv"`);
        }
        const staffIds = new Set(
          rows
            .flatMap((r) => [r.details.staffId, r.details.byStaffId])
            .filter((id): id is string => typeof id === 'string'),
        );
        const staffNames = new Map<string, string>();
        for (const id of staffIds) {
          const found = await findStaff(request.server.app.db, { id });
          if (found) staffNames.set(id, found.name);
        }
        const own = new URLSearchParams({
          ...(query.participantId ? { participantId: query.participantId } : {}),
          ...(query.onlyErrors ? { errors: '1' } : {}),
        });
        return h.view('connlog/timeline', {
          title: t(lang, 'connlog.timeline.title', { title: meeting.title }),
          styles: ['connlog.css'],
          meeting: { ...meeting, when: when(meeting.startsAt, lang) },
          participants: meeting.participants.map((p) => ({
            id: p.id,
            name: p.name,
            selected: p.id === query.participantId,
          })),
          onlyErrors: query.onlyErrors,
          rows: rows.map((r) => ({
            ...r,
            time: clock(new Date(r.at), lang),
            facts: detailFacts(r, lang, staffNames),
          })),
          // Not `json`: a view value of that name would shadow the template helper of the same name.
          exportJson: `/connlog/meetings/${meeting.id}?${new URLSearchParams({ ...Object.fromEntries(own), format: 'json' })}`,
          exportCsv: `/connlog/meetings/${meeting.id}?${new URLSearchParams({ ...Object.fromEntries(own), format: 'csv' })}`,
        });
      },
    }),
  ];
}

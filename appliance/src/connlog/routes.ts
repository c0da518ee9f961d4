// The support page: search meetings, read one meeting's timeline (with tech-test figures and the
// browser, optionally one participant's, optionally only errors), export it as JSON or CSV. Roles
// support and admin; every access is audited.
import type { Request, ResponseObject, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { day as lookupDay, lookupYears } from '../http/dates.ts';
import { languageOf, t, type Language } from '../http/i18n.ts';
import { fieldOf, objectOf, route } from '../http/route.ts';
import { addDays, formatStamp, formatWhen, fromClinicTime, toClinicIso, today, zoneName } from '../common/clock.ts';
import type { Meeting } from '../meetings/index.ts';
import { everyParticipantOf, meetingFor, shownStatus } from '../meetings/index.ts';
import { findStaff, findUnit, listUnits } from '../staff/index.ts';
import { forExcel, toCsv } from '../common/csv.ts';
import type { LogEntry } from './model.ts';
import { maskPhone, maxSearchDays, minPhoneDigits, phoneDigits, phoneFor, searchMeetings } from './search.ts';
import { decrypt, encrypt } from '../crypto.ts';
import { must } from '../common/must.ts';
import { detailFacts, sentence } from './sentences.ts';
import { countsByMeeting, countTimeline, timeline } from './store.ts';

const support = { strategy: 'session', scope: ['support', 'admin'] };
const day = lookupDay(lookupYears);

/** The search form as typed: shown again as it was, and sealed into the result's address. */
interface SearchForm {
  from: string;
  to: string;
  unitId: string;
  meetingId: string;
  name: string;
  phone: string;
}

const searchPayload = objectOf<SearchForm & { crumb?: string }>({
  crumb: Joi.string(),
  from: day.allow('').default(''),
  to: day.allow('').default(''),
  unitId: Joi.string().guid().allow('').default(''),
  // Ids are stored in lower case; one pasted in capitals is the same id.
  meetingId: Joi.string().trim().lowercase().guid().allow('').default(''),
  name: Joi.string().trim().max(200).allow('').default(''),
  phone: Joi.string()
    .trim()
    .max(30)
    .pattern(/^[\d\s()+-]*$/, 'a phone number')
    .allow('')
    .default(''),
});

/** A sealed search in an address, and a page number. */
const sealedSearch = Joi.string().max(4000);
const pageNumber = Joi.number().integer().min(1).max(100_000);

/** The result's address: the sealed search (`s`) and the page; nothing a person typed stands in it. */
const resultQuery = objectOf<{ s?: string; page: number }>({
  s: sealedSearch,
  page: pageNumber.default(1),
});

/** The form's fields a refusal names, each with its own message; any other field gets the general one. */
const fieldProblems: Partial<Record<string, string>> = {
  phone: 'connlog.search.badPhone',
  meetingId: 'connlog.search.badMeetingId',
  from: 'connlog.search.badDay',
  to: 'connlog.search.badDay',
};

const sealContext = (staffId: string) => `connlog.search:${staffId}`;

/**
 * The search sealed for this staff member (AES-GCM under DATA_KEY): the address a result page has,
 * so that back, forward and reload show it again while the number and name searched for stay out
 * of the server's access log and the browser's history.
 */
function sealSearch(request: Request, form: SearchForm): string {
  return encrypt(
    request.server.app.config.dataKey,
    JSON.stringify(form),
    sealContext(request.auth.credentials.user!.id),
  );
}

/** The search a result address holds, or null: altered, or sealed for another staff member. */
function openSearch(request: Request, sealed: string): SearchForm | null {
  try {
    const opened = decrypt(request.server.app.config.dataKey, sealed, sealContext(request.auth.credentials.user!.id));
    const read: Joi.ValidationResult<SearchForm & { crumb?: string }> = searchPayload.validate(
      JSON.parse(opened) as unknown,
    );
    if (read.error) return null;
    const { crumb: _crumb, ...form } = read.value;
    return form;
  } catch {
    return null;
  }
}

/** The first of a search's form fields joi refused, for its message. */
const refusedField = (error: unknown): string | undefined =>
  error instanceof Joi.ValidationError ? String(error.details[0]?.context?.key ?? '') : undefined;

/** What the form sent, as text, to show again when it was refused. */
function typedForm(payload: unknown): SearchForm {
  const text = (key: keyof SearchForm) => {
    const value = fieldOf(payload, key);
    return typeof value === 'string' ? value : '';
  };
  return {
    from: text('from'),
    to: text('to'),
    unitId: text('unitId'),
    meetingId: text('meetingId'),
    name: text('name'),
    phone: text('phone'),
  };
}

/** Meetings shown on one result page: a busy period is read a page at a time. */
export const searchPageSize = 50;

/** Entries shown on one page of a meeting's timeline (the exports hold them all). */
export const timelinePageSize = 50;

interface TimelineQuery {
  participantId?: string;
  errors?: string;
  format?: 'json' | 'csv';
  page: number;
  /** The search the timeline was opened from, sealed as in its results' address, and its page there. */
  s?: string;
  resultPage?: number;
}
const timelineQuery = objectOf<TimelineQuery>({
  participantId: Joi.string().guid().allow(''),
  errors: Joi.string().valid('1', 'on', 'true').allow(''),
  format: Joi.string<'json' | 'csv'>().valid('json', 'csv'),
  page: pageNumber.default(1),
  s: sealedSearch,
  resultPage: pageNumber,
});

/** "Visar 51–100 av 123 möten.", or for one alone "Visar 1 möte.": what a page of a list shows. */
function showing(
  lang: Language,
  list: 'connlog.search' | 'connlog.timeline',
  first: number,
  shown: number,
  total: number,
) {
  return total === 1
    ? t(lang, `${list}.showingOne`)
    : t(lang, `${list}.showing`, { first: first + 1, last: first + shown, total });
}

/** The address of one page of a search's results. */
const resultsLink = (sealed: string, page: number) =>
  `/connlog?${new URLSearchParams({ s: sealed, page: String(page) })}`;

const idParams = objectOf<{ id: string }>({ id: Joi.string().guid().required() });

/** A meeting's time for support, with the clinic's zone: support may sit elsewhere. */
function when(date: Date, lang: Language): string {
  const f = formatWhen(date, lang);
  return `${f.date} ${f.time} ${zoneName(date, lang)}`;
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

/** Who an entry is about: a proxy's own steps name the proxy, for the participant they act for. */
function whoseEntry(entry: LogEntry, names: Map<string, { name: string; proxy?: string }>, lang: Language) {
  const known = entry.participantId ? names.get(entry.participantId) : undefined;
  if (!known) return null;
  return entry.details.person === 'proxy' && known.proxy
    ? t(lang, 'connlog.timeline.proxyFor', { proxy: known.proxy, name: known.name })
    : known.name;
}

/** One page of the timeline: which, of how many entries in all. */
interface TimelinePage {
  page: number;
  first: number;
  total: number;
}

/**
 * A meeting's timeline as support filtered it: every entry (the exports), or with `page` that page
 * of it (the page past the end: the last), counted first.
 */
async function readTimeline(
  request: Request,
  id: string,
  q: TimelineQuery,
  page?: number,
): Promise<{
  meeting: Meeting;
  /** Everyone the meeting has had, those removed too: an entry names them, the filter offers them. */
  people: Awaited<ReturnType<typeof everyParticipantOf>>;
  rows: TimelineRow[];
  query: { participantId?: string; onlyErrors: boolean };
  shown?: TimelinePage;
}> {
  const { db } = request.server.app;
  const lang = languageOf(request);
  const meeting = await meetingFor(request.server, request.auth.credentials.user!, id);
  const query = { participantId: q.participantId || undefined, onlyErrors: Boolean(q.errors) };
  const selection = { meetingId: id, ...query, withMeeting: true };
  let shown: TimelinePage | undefined;
  if (page !== undefined) {
    const total = await countTimeline(db, selection);
    const last = Math.max(1, Math.ceil(total / timelinePageSize));
    const at = Math.min(page, last);
    shown = { page: at, first: (at - 1) * timelinePageSize, total };
  }
  const entries = await timeline(db, selection, shown ? { offset: shown.first, limit: timelinePageSize } : undefined);
  const people = await everyParticipantOf(db, meeting.id);
  const names = new Map(people.map((p) => [p.id, { name: p.name, proxy: p.proxy?.name }]));
  const rows = entries.map((e) => ({
    at: e.at.toISOString(),
    participantId: e.participantId,
    participant: whoseEntry(e, names, lang),
    type: e.type,
    error: e.error,
    text: sentence(e, lang),
    details: e.details,
  }));
  return { meeting, people, rows, query, shown };
}

/** How many days after its first the default period ends. */
const defaultPeriodDays = 28;
/** Without dates: the fortnight either side of today (support is asked about recent and coming meetings). */
const defaultPeriod = () => {
  const from = addDays(today(), -defaultPeriodDays / 2);
  return { from, to: addDays(from, defaultPeriodDays) };
};

const emptyForm = (): SearchForm => ({
  ...defaultPeriod(),
  unitId: '',
  meetingId: '',
  name: '',
  phone: '',
});

/** The search page: the form as typed, and whatever else it shows (a message, the results). */
async function searchPage(
  request: Request,
  h: ResponseToolkit,
  form: SearchForm,
  extra: Record<string, unknown>,
  code = 200,
): Promise<ResponseObject> {
  const units = await listUnits(request.server.app.db);
  return h
    .view('connlog/search', {
      title: t(languageOf(request), 'connlog.search.title'),
      styles: ['connlog.css'],
      form,
      units: units.map((u) => ({ ...u, selected: u.id === form.unitId })),
      ...extra,
    })
    .code(code);
}

/** One page of a search's results, audited as an access to each meeting shown. */
async function searchResults(
  request: Request,
  h: ResponseToolkit,
  form: SearchForm,
  sealed: string,
  page: number,
): Promise<ResponseObject> {
  const lang = languageOf(request);
  const { db } = request.server.app;
  const staff = request.auth.credentials.user!;
  const criteria = {
    // Days on the clinic's clock: a meeting at 00:30 in Stockholm is that day's, not the evening before's.
    from: fromClinicTime(form.from),
    to: fromClinicTime(addDays(form.to, 1)),
    unitId: form.unitId || undefined,
    meetingId: form.meetingId || undefined,
    name: form.name || undefined,
    phone: form.phone || undefined,
  };
  const pageOf = (n: number) =>
    searchMeetings(db, criteria, { offset: (n - 1) * searchPageSize, limit: searchPageSize });
  let shownPage = page;
  let found = await pageOf(shownPage);
  // A page past the end (fewer meetings since, or an address edited) shows the last one.
  const lastPage = Math.max(1, Math.ceil(found.total / searchPageSize));
  if (shownPage > lastPage) {
    shownPage = lastPage;
    found = await pageOf(shownPage);
  }
  const { total, meetings } = found;
  const first = (shownPage - 1) * searchPageSize;
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
      found: total,
      page: shownPage,
      // The page shows each meeting's participants by name and phone: an access to each patient's
      // data, which their log extract lists (audit/store.ts, findAccesses).
      meetingIds: meetings.map((m) => m.id),
    },
  });
  const unitNames = new Map((await listUnits(db)).map((u) => [u.id, u.name]));
  const pageLink = (n: number) => resultsLink(sealed, n);
  return searchPage(request, h, form, {
    searched: true,
    showing: meetings.length > 0 ? showing(lang, 'connlog.search', first, meetings.length, total) : null,
    narrow: total > searchPageSize,
    previous: shownPage > 1 ? pageLink(shownPage - 1) : null,
    next: first + searchPageSize < total ? pageLink(shownPage + 1) : null,
    meetings: meetings.map((m) => ({
      id: m.id,
      // The timeline leads back to this page of these results.
      open: `/connlog/meetings/${m.id}?${new URLSearchParams({ s: sealed, resultPage: String(shownPage) })}`,
      title: m.title,
      when: when(m.startsAt, lang),
      // A cancelled meeting is why a guest's link leads nowhere: said beside its time (as read, shownStatus).
      status: t(lang, `meetings.status.${shownStatus(m, request.server.app.config.roomGraceMinutes)}`),
      unit: unitNames.get(m.unitId),
      participants: [
        ...m.participants.map((p) => ({ p, removed: false })),
        ...m.removed.map((p) => ({ p, removed: true })),
      ].map(({ p, removed }) => ({
        name: p.name,
        removed,
        phone: phoneFor(staff.role, p.mobile),
        proxy: p.proxy ? { name: p.proxy.name, phone: phoneFor(staff.role, p.proxy.mobile) } : null,
      })),
      entries: counts.get(m.id)?.entries ?? 0,
      errors: counts.get(m.id)?.errors ?? 0,
    })),
  });
}

export function routes(): ServerRoute[] {
  return [
    route({
      method: 'GET',
      path: '/connlog',
      options: {
        auth: support,
        validate: {
          query: resultQuery,
          failAction: (request, h) =>
            searchPage(request, h, emptyForm(), { error: t(languageOf(request), 'connlog.search.again') }, 400).then(
              (r) => r.takeover(),
            ),
        },
      },
      async handler(request, h) {
        const { s: sealed, page } = request.query;
        if (sealed === undefined) return searchPage(request, h, emptyForm(), {});
        const form = openSearch(request, sealed);
        if (!form)
          return searchPage(request, h, emptyForm(), { error: t(languageOf(request), 'connlog.search.again') }, 400);
        return searchResults(request, h, form, sealed, page);
      },
    }),
    route({
      // A POST, so that the number and name searched for never stand in a URL (access log, history);
      // the answer sends the browser on to the result's own address, the search sealed in it.
      method: 'POST',
      path: '/connlog',
      options: {
        auth: support,
        validate: {
          payload: searchPayload,
          failAction: (request, h, error) => {
            const problem = fieldProblems[refusedField(error) ?? ''] ?? 'connlog.search.badField';
            return searchPage(
              request,
              h,
              typedForm(request.payload),
              { error: t(languageOf(request), problem) },
              400,
            ).then((r) => r.takeover());
          },
        },
      },
      async handler(request, h) {
        const lang = languageOf(request);
        const { crumb: _crumb, ...typed } = request.payload;
        // The default period sealed as days, so that the result shows the same period tomorrow. One
        // day typed alone is the first or the last of four weeks, as long as the default: today's
        // fortnight either side could end before a first day typed, or begin after a last one.
        const period = defaultPeriod();
        const form = {
          ...typed,
          from: typed.from || (typed.to ? addDays(typed.to, -defaultPeriodDays) : period.from),
          to: typed.to || (typed.from ? addDays(typed.from, defaultPeriodDays) : period.to),
        };
        const spanDays = (Date.parse(form.to) - Date.parse(form.from)) / 86_400_000;
        if (spanDays < 0 || spanDays > maxSearchDays)
          return searchPage(request, h, form, { error: t(lang, 'connlog.search.badPeriod') }, 400);
        if (form.phone && phoneDigits(form.phone).length < minPhoneDigits)
          return searchPage(request, h, form, { error: t(lang, 'connlog.search.shortPhone') }, 400);
        return h.redirect(`/connlog?${new URLSearchParams({ s: sealSearch(request, form) })}`).code(303);
      },
    }),
    route({
      method: 'GET',
      path: '/connlog/meetings/{id}',
      options: { auth: support, validate: { params: idParams, query: timelineQuery } },
      async handler(request, h) {
        const lang = languageOf(request);
        const { format, page, s: sealed, resultPage } = request.query;
        const { meeting, people, rows, query, shown } = await readTimeline(
          request,
          request.params.id,
          request.query,
          format ? undefined : page,
        );
        await request.audit(format ? 'connlog.export' : 'connlog.read', {
          meetingId: meeting.id,
          targetType: 'meeting',
          targetId: meeting.id,
          details: {
            participantId: query.participantId ?? null,
            onlyErrors: query.onlyErrors,
            format: format ?? null,
            entries: rows.length,
            ...(shown ? { total: shown.total, page: shown.page } : {}),
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
        // The search it was opened from, when that is this staff member's: the way back to its results.
        const search = sealed !== undefined && openSearch(request, sealed) ? sealed : undefined;
        const cameFrom: Record<string, string> = search ? { s: search, resultPage: String(resultPage ?? 1) } : {};
        const { page: at, first, total } = must(shown, "the timeline's page");
        const pageLink = (n: number) =>
          `/connlog/meetings/${meeting.id}?${new URLSearchParams({ ...Object.fromEntries(own), ...cameFrom, page: String(n) })}`;
        return h.view('connlog/timeline', {
          title: t(lang, 'connlog.timeline.title', { title: meeting.title }),
          styles: ['connlog.css'],
          meeting: {
            ...meeting,
            when: when(meeting.startsAt, lang),
            status: t(lang, `meetings.status.${meeting.status}`),
          },
          // Those removed too: "my link stopped working" is read in their own steps.
          participants: people.map((p) => ({
            id: p.id,
            name: p.name,
            removed: p.removedAt !== null,
            selected: p.id === query.participantId,
          })),
          onlyErrors: query.onlyErrors,
          back: search ? resultsLink(search, resultPage ?? 1) : '/connlog',
          cameFrom: search ? { s: search, resultPage: resultPage ?? 1 } : null,
          showing: rows.length > 0 ? showing(lang, 'connlog.timeline', first, rows.length, total) : null,
          previous: at > 1 ? pageLink(at - 1) : null,
          next: first + timelinePageSize < total ? pageLink(at + 1) : null,
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

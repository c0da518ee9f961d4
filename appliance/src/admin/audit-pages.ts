// The audit viewer (the systematic log checks Patientdatalagen asks of a care provider) and the
// patient's log extract (the patient's right to know who accessed their meeting data). Admins only;
// every use of either is itself written to the audit log.
import type { Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import { auditActions, findAccesses, findAudit } from '../audit/index.ts';
import { languageOf, t } from '../http/i18n.ts';
import { route } from '../http/route.ts';
import { parsePersonalNumber } from '../meetings/index.ts';
import { addDays, fromClinicTime } from '../common/clock.ts';
import { findStaff, listUnits, searchStaff, type Staff } from '../staff/index.ts';
import { actionText, clinicTime, describeRecords, extractCsv } from './extract.ts';
import { findPatient, patientOfMeeting, type PatientRecord } from '../meetings/index.ts';
import * as schemas from './schemas.ts';

export const adminOnly = { strategy: 'session', scope: ['admin'] };
const pageLimit = 200;
/** The accesses an extract's page lists; its CSV has every one. */
const extractPageRows = 10_000;

/** How many people a typed name that fits several offers to choose from. */
const personChoices = 20;

/**
 * The staff member a search is about: chosen (`staff`, an id, as the choice links give it) or typed
 * (`person`). A typed part that fits one account is that account; one that fits none or several
 * searches nothing yet: the page says so, and offers those it fits to choose from. A region has
 * thousands of accounts: a list of all of them to pick from would be a page of its own.
 */
async function personOf(
  db: Request['server']['app']['db'],
  query: schemas.AuditSearch,
): Promise<{ staff?: Staff; matching?: { people: Staff[]; total: number } }> {
  if (query.staff) return { staff: await findStaff(db, { id: query.staff }) };
  if (!query.person) return {};
  const { people, total } = await searchStaff(db, { search: query.person }, { offset: 0, limit: personChoices });
  return people.length === 1 ? { staff: people[0] } : { matching: { people, total } };
}

async function auditPage(request: Request, h: ResponseToolkit, query: schemas.AuditSearch) {
  const { db } = request.server.app;
  const lang = languageOf(request);
  const { staff, matching } = await personOf(db, query);
  const records = matching
    ? []
    : await findAudit(db, {
        staffId: staff?.id ?? query.staff,
        meetingId: query.meeting,
        participantId: query.participant,
        action: query.action,
        from: query.from ? fromClinicTime(query.from) : undefined,
        to: query.to ? fromClinicTime(addDays(query.to, 1)) : undefined,
        beforeId: query.before,
        outsideUnit: query.outside,
        limit: pageLimit,
      });
  await request.audit('audit.search', {
    targetType: 'audit_log',
    details: { query: { ...query }, ...(staff ? { staffId: staff.id } : {}), count: records.length },
  });
  // The same search for one of the people a typed name fits.
  const choose = (person: Staff) => searchLink({ ...query, person: undefined, before: undefined, staff: person.id });
  const units = new Map((await listUnits(db)).map((u) => [u.id, u.name]));
  const described = (p: Staff) => `${p.name} (${p.email}, ${units.get(p.unitId) ?? ''})`;
  return h.view('admin/audit', {
    title: t(lang, 'admin.audit.title'),
    styles: ['admin.css'],
    query,
    // The person searched for, as the field shows them: as typed, or by the address that is theirs
    // alone, so that the form sent again finds the same one; and who that is, in words.
    person: query.person ?? staff?.email ?? '',
    found: staff && t(lang, 'admin.audit.found', { person: described(staff) }),
    matching: matching && {
      text:
        matching.people.length === 0
          ? t(lang, 'admin.audit.nobody', { typed: query.person! })
          : t(lang, 'admin.audit.several', { typed: query.person!, total: matching.total }),
      people: matching.people.map((p) => ({
        label: described(p),
        href: choose(p),
      })),
      more:
        matching.total > matching.people.length
          ? t(lang, 'admin.audit.typeMore', { shown: matching.people.length })
          : undefined,
    },
    // Chosen by their words, in alphabetical order of them: nobody has to know "meeting.room.open".
    actionOptions: auditActions
      .map((action) => ({ value: action, label: actionText(lang, action), selected: action === query.action }))
      .sort((a, b) => a.label.localeCompare(b.label, lang)),
    rows: await describeRecords(db, lang, records),
    full: records.length === pageLimit,
    limit: pageLimit,
    older: records.length === pageLimit ? searchLink({ ...query, before: records.at(-1)!.id }) : undefined,
  });
}

/** A search's address (one page further back: `before`, the last record shown). */
function searchLink(query: schemas.AuditSearch): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return `/admin/audit?${params}`;
}

async function renderExtract(
  request: Request,
  h: ResponseToolkit,
  found: { patient: PatientRecord[] },
  format: 'html' | 'csv',
  how: Record<string, unknown>,
) {
  const { db } = request.server.app;
  const lang = languageOf(request);
  const meetingIds = [...new Set(found.patient.map((p) => p.meetingId))];
  const participantIds = found.patient.map((p) => p.participantId);
  const rows = await describeRecords(db, lang, await findAccesses(db, { meetingIds, participantIds }));
  // The extract shows who looked at the patient's data; producing it is recorded too (with ids only).
  await request.audit('audit.extract', {
    targetType: 'patient',
    details: { ...how, format, meetingIds, participantIds, rows: rows.length },
  });
  const patient = found.patient[0];
  if (format === 'csv') {
    // Named by the day it was made, not by the patient: a file name ends up in folders and mail subjects.
    const file = `loggutdrag-${clinicTime(new Date()).slice(0, 10)}.csv`;
    return h
      .response(extractCsv(lang, rows))
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${file}"`);
  }
  return h.view('admin/extract', {
    title: t(lang, 'admin.extract.title'),
    styles: ['admin.css'],
    patient,
    meetingCount: meetingIds.length,
    // A page for reading and printing holds the oldest accesses; it says when there are more, all in the CSV.
    rows: rows.slice(0, extractPageRows),
    more:
      rows.length > extractPageRows
        ? t(lang, 'admin.extract.more', {
            shown: extractPageRows.toLocaleString(lang),
            total: rows.length.toLocaleString(lang),
          })
        : undefined,
    generatedAt: clinicTime(new Date()),
    csvLink: typeof how.meeting === 'string' ? `/admin/audit/extract.csv?meeting=${how.meeting}` : undefined,
  });
}

function extractForm(
  request: Request,
  h: ResponseToolkit,
  extra: { error?: string; name?: string; meeting?: string } = {},
  code = 200,
) {
  const lang = languageOf(request);
  return h
    .view('admin/extract-form', { title: t(lang, 'admin.extract.title'), styles: ['admin.css'], ...extra })
    .code(code);
}

async function byMeeting(request: Request, h: ResponseToolkit, format: 'html' | 'csv', meeting: string | undefined) {
  const { db } = request.server.app;
  if (!meeting) return extractForm(request, h);
  const patient = await patientOfMeeting(db, meeting);
  if (patient.length === 0)
    return extractForm(request, h, { meeting, error: t(languageOf(request), 'admin.extract.noPatientInMeeting') }, 404);
  return renderExtract(request, h, { patient }, format, { meeting });
}

export const auditRoutes: ServerRoute[] = [
  route({
    method: 'GET',
    path: '/admin/audit',
    options: { auth: adminOnly, validate: { query: schemas.auditQuery } },
    handler: (request, h) => auditPage(request, h, request.query),
  }),
  route({
    method: 'GET',
    path: '/admin/audit/extract',
    options: { auth: adminOnly, validate: { query: schemas.extractQuery } },
    handler: (request, h) => byMeeting(request, h, 'html', request.query.meeting),
  }),
  route({
    method: 'GET',
    path: '/admin/audit/extract.csv',
    options: { auth: adminOnly, validate: { query: schemas.extractCsvQuery } },
    handler: (request, h) => byMeeting(request, h, 'csv', request.query.meeting),
  }),
  route({
    // A POST, so that the personal identity number never stands in a URL (logs, history).
    method: 'POST',
    path: '/admin/audit/extract',
    options: {
      auth: adminOnly,
      validate: {
        payload: schemas.extractPayload,
        failAction: (request, h) =>
          extractForm(request, h, { error: t(languageOf(request), 'admin.extract.invalid') }, 400).takeover(),
      },
    },
    async handler(request, h) {
      const { db, config } = request.server.app;
      const lang = languageOf(request);
      const { name, personalNumber, format } = request.payload;
      const parsed = parsePersonalNumber(personalNumber);
      if (!parsed.ok)
        return extractForm(request, h, { name, error: t(lang, `admin.extract.personalNumber.${parsed.problem}`) }, 400);
      const patient = await findPatient(db, config.dataKey, name, parsed.value);
      if (patient.length === 0) {
        await request.audit('audit.extract', { targetType: 'patient', details: { found: false } });
        return extractForm(request, h, { name, error: t(lang, 'admin.extract.notFound') }, 404);
      }
      return renderExtract(request, h, { patient }, format, { by: 'personal_number' });
    },
  }),
];

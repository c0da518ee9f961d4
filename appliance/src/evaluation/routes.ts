// The evaluation pages: the form a guest reaches on leaving the meeting (/entry/evaluation), the
// one behind an evaluation request's link (/e/<token>: the GET only shows, the POST answers, so a
// mail scanner cannot spend it), the staff member's (/evaluation/meeting/{id}); the results for a
// unit and period (clinicians of the unit, admins) with CSV; and the admins' question editor.
import Boom from '@hapi/boom';
import type { Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import { addDays, today } from '../common/clock.ts';
import { forExcel, toCsv } from '../common/csv.ts';
import { languageOf, speakBookedLanguage, t, type Language } from '../http/i18n.ts';
import { rateLimit } from '../http/ratelimit.ts';
import { fieldOf, route } from '../http/route.ts';
import { findMeeting, findParticipant, meetingFor, tookPart } from '../meetings/index.ts';
import { findUnit, listUnits } from '../staff/index.ts';
import { respondentRoles, type Question, type QuestionSet, type RespondentRole } from './model.ts';
import { buildReport, reportRows } from './report.ts';
import {
  answerMaxBytes,
  answerPayload,
  linkAnswerPayload,
  meetingParams,
  questionSchema,
  reportQuery,
  setParams,
  setPayload,
  tokenParams,
  type SetForm,
} from './schemas.ts';
import {
  answer,
  EvaluationError,
  fieldText,
  offerByToken,
  offerToParticipant,
  offerToStaff,
  type Offer,
} from './service.ts';
import { currentSet, insertSetVersion } from './store.ts';

const guestPage = { layout: 'guest' };

/** The page an evaluation request's link opens. */
export const evaluationPath = (token: string): string => `/e/${token}`;
/** The questions as the form shows them, in the reader's language, with what they chose so far. */
function formQuestions(questions: Question[], lang: Language, form: unknown) {
  return questions.map((q) => {
    const value = fieldText(fieldOf(form, `q_${q.id}`));
    return {
      id: q.id,
      name: `q_${q.id}`,
      text: q.text[lang],
      scale: q.type === 'scale',
      yesNo: q.type === 'yes_no',
      free: q.type === 'text',
      value,
      options:
        q.type === 'scale'
          ? ['1', '2', '3', '4', '5'].map((v) => ({ value: v, checked: value === v }))
          : q.type === 'yes_no'
            ? ['yes', 'no'].map((v) => ({ value: v, label: t(lang, `evaluation.form.${v}`), checked: value === v }))
            : [],
    };
  });
}

function formView(
  request: Request,
  h: ResponseToolkit,
  offer: Offer,
  action: string,
  extra: Record<string, unknown> = {},
  layout = guestPage,
  code = 200,
) {
  speakBookedLanguage(request, offer.language);
  const lang = languageOf(request);
  const response = h
    .view(
      'evaluation/form',
      {
        title: t(lang, 'evaluation.form.title'),
        styles: ['guest.css', 'evaluation.css'],
        action,
        setId: offer.set.id,
        // What they chose so far, when the form comes back (an invalid answer, unvalidated).
        questions: formQuestions(offer.set.questions, lang, request.payload),
        ...extra,
      },
      layout,
    )
    .code(code);
  response.header('cache-control', 'no-store');
  response.header('referrer-policy', 'no-referrer');
  return response;
}

function thanksView(request: Request, h: ResponseToolkit, layout = guestPage) {
  const lang = languageOf(request);
  return h.view(
    'evaluation/done',
    {
      title: t(lang, 'evaluation.thanks.title'),
      styles: ['guest.css', 'evaluation.css'],
      text: t(lang, 'evaluation.thanks.text'),
    },
    layout,
  );
}

/**
 * A respondent's answers to the form their offer shows, whoever they are (a guest in the meeting,
 * a guest through the evaluation link, a staff member): the thanks page; the form again with what
 * they chose and a 400 when an answer is invalid. A refusal (answered, expired…) is thrown: the
 * error funnel answers it with the evaluation's own page for it (EvaluationError.page).
 */
async function takeAnswers(
  request: Request,
  h: ResponseToolkit,
  form: Record<string, unknown> & { setId: string },
  findOffer: () => Promise<Offer>,
  page: { action: string; extra?: Record<string, unknown>; layout?: typeof guestPage },
) {
  const { action, extra = {}, layout = guestPage } = page;
  const offer = await findOffer();
  try {
    await answer(request.server.app.db, offer.respondent, form.setId, form);
  } catch (error) {
    if (!(error instanceof EvaluationError && error.problem === 'invalid')) throw error;
    const again = { ...extra, error: t(languageOf(request), 'evaluation.form.invalid') };
    return formView(request, h, offer, action, again, layout, 400);
  }
  return thanksView(request, h, layout);
}

async function guestOffer(request: Request): Promise<Offer> {
  const { db } = request.server.app;
  const guest = request.auth.credentials.guest!;
  const meeting = await findMeeting(db, guest.meetingId);
  const participant = await findParticipant(db, guest.participantId);
  if (!meeting || !participant) throw new EvaluationError('unknown');
  return offerToParticipant(db, meeting, participant, guest.person, request.server.app.groupCommit);
}

/**
 * A staff member's evaluation of a meeting they took part in. Opening the form is an access to the
 * meeting and audited; sending the answers is not (`opened` false): a record of that moment would
 * give the answers the time and order they are kept without (store.ts, settleAnswers).
 */
async function staffOffer(request: Request, meetingId: string, opened = true): Promise<Offer> {
  const { db } = request.server.app;
  const staff = request.auth.credentials.user!;
  const meeting = await meetingFor(request.server, staff, meetingId);
  if (!tookPart(staff.id, meeting)) throw Boom.forbidden(t(languageOf(request), 'evaluation.notParticipant'));
  if (opened)
    await request.audit('evaluation.offer', { meetingId: meeting.id, targetType: 'meeting', targetId: meeting.id });
  return offerToStaff(db, meeting, staff.id, request.server.app.groupCommit);
}

// Days on the clinic's clock: just after midnight, today is already today's meetings.
const daysAgo = (n: number) => addDays(today(), -n);

/** Whose results this reader may see: clinicians their own unit's, admins any unit's. */
function reportUnit(request: Request, asked: string | undefined): string {
  const staff = request.auth.credentials.user!;
  if (staff.role === 'admin') return asked ?? staff.unitId;
  if (asked && asked !== staff.unitId) throw Boom.forbidden(t(languageOf(request), 'evaluation.results.otherUnit'));
  return staff.unitId;
}

async function report(
  request: Request,
  q: { unitId?: string; from?: string; to?: string; role?: RespondentRole | '' },
) {
  const query = {
    unitId: reportUnit(request, q.unitId),
    from: q.from ?? daysAgo(90),
    to: q.to ?? today(),
    role: q.role || undefined,
  };
  if (query.from > query.to) throw Boom.badRequest(t(languageOf(request), 'evaluation.results.badPeriod'));
  const { db, config } = request.server.app;
  const result = await buildReport(db, query, config.evaluation.minGroup, languageOf(request));
  await request.audit('evaluation.report', {
    targetType: 'care_unit',
    targetId: query.unitId,
    details: { from: query.from, to: query.to, role: query.role ?? null, responses: result.responses },
  });
  return result;
}

/** Why the edit form cannot be saved: a message key and the question (1-based) it concerns. */
type SetProblem = { problem: 'text' | 'invalid' | 'twice' | 'none' | 'tooMany'; n: number };

/** The most questions a set may have (a person answers them all on a phone after the meeting). */
const maxQuestions = 30;
/** The form's rows: q0 … q99 (setPayload), the set's questions and two empty rows below them. */
const formRows = 100;

/** The edit form's rows back into questions; rows without text are dropped, ids made from the order when new. */
function readSetForm(form: SetForm): Question[] | SetProblem {
  const questions: Question[] = [];
  for (let i = 0; i < formRows; i++) {
    const sv = (form[`q${i}_sv`] ?? '').trim();
    const en = (form[`q${i}_en`] ?? '').trim();
    if (!sv && !en) continue;
    // Both languages, as the form asks: a participant reads the question in the language they were booked in.
    if (!sv || !en) return { problem: 'text', n: i + 1 };
    const id = (form[`q${i}_id`] ?? '').trim() || `q${Date.now().toString(36)}_${i}`;
    // Not destructured: joi types the value of a failed validation `any`; after the check it is a Question.
    const checked = questionSchema.validate({ id, type: form[`q${i}_type`], text: { sv, en } });
    if (checked.error) return { problem: 'invalid', n: i + 1 };
    const { value } = checked;
    if (questions.some((q) => q.id === value.id)) return { problem: 'twice', n: i + 1 };
    questions.push(value);
  }
  if (questions.length === 0) return { problem: 'none', n: 0 };
  // Every row is read and the set refused whole: rows past the limit were dropped without a word.
  if (questions.length > maxQuestions) return { problem: 'tooMany', n: maxQuestions };
  return questions;
}

export function routes(): ServerRoute[] {
  const perAddress = rateLimit('evaluation-link', { points: 60, durationSeconds: 10 * 60 });
  const staffLayout = {} as typeof guestPage; // the staff layout (the default)
  return [
    route({
      method: 'GET',
      path: '/entry/evaluation',
      options: { auth: { strategy: 'guest' } },
      async handler(request, h) {
        const offer = await guestOffer(request);
        if (offer.respondent.answeredAt) throw new EvaluationError('answered');
        return formView(request, h, offer, '/entry/evaluation');
      },
    }),
    route({
      method: 'POST',
      path: '/entry/evaluation',
      options: {
        auth: { strategy: 'guest' },
        payload: { maxBytes: answerMaxBytes },
        validate: { payload: answerPayload },
      },
      handler: (request, h) =>
        takeAnswers(request, h, request.payload, () => guestOffer(request), { action: '/entry/evaluation' }),
    }),
    route({
      method: 'GET',
      path: `${evaluationPath('')}{token}`,
      options: { auth: false, pre: [{ method: perAddress }], validate: { params: tokenParams } },
      async handler(request, h) {
        const { token } = request.params;
        const offer = await offerByToken(request.server.app.db, token);
        return formView(request, h, offer, '/e', { token });
      },
    }),
    route({
      method: 'POST',
      path: '/e',
      options: {
        auth: false,
        pre: [{ method: perAddress }],
        payload: { maxBytes: answerMaxBytes },
        validate: { payload: linkAnswerPayload },
      },
      handler: (request, h) => {
        const form = request.payload;
        const offer = async () => {
          const found = await offerByToken(request.server.app.db, form.token);
          speakBookedLanguage(request, found.language);
          return found;
        };
        return takeAnswers(request, h, form, offer, { action: '/e', extra: { token: form.token } });
      },
    }),
    route({
      method: 'GET',
      path: '/evaluation/meeting/{id}',
      options: { auth: { strategy: 'session' }, validate: { params: meetingParams } },
      async handler(request, h) {
        const offer = await staffOffer(request, request.params.id);
        if (offer.respondent.answeredAt) throw new EvaluationError('answered');
        return formView(request, h, offer, request.path, {}, staffLayout);
      },
    }),
    route({
      method: 'POST',
      path: '/evaluation/meeting/{id}',
      options: {
        auth: { strategy: 'session' },
        payload: { maxBytes: answerMaxBytes },
        validate: { params: meetingParams, payload: answerPayload },
      },
      handler: (request, h) =>
        takeAnswers(request, h, request.payload, () => staffOffer(request, request.params.id, false), {
          action: request.path,
          layout: staffLayout,
        }),
    }),
    route({
      method: 'GET',
      path: '/evaluation/results',
      options: { auth: { strategy: 'session', scope: ['admin', 'clinician'] }, validate: { query: reportQuery } },
      async handler(request, h) {
        const lang = languageOf(request);
        const result = await report(request, request.query);
        const staff = request.auth.credentials.user!;
        const units =
          staff.role === 'admin'
            ? await listUnits(request.server.app.db)
            : [await findUnit(request.server.app.db, { id: staff.unitId })].filter(Boolean);
        const csvQuery = new URLSearchParams({
          unitId: result.query.unitId,
          from: result.query.from,
          to: result.query.to,
          ...(result.query.role ? { role: result.query.role } : {}),
        });
        return h.view('evaluation/results', {
          title: t(lang, 'evaluation.results.title'),
          styles: ['evaluation.css'],
          report: result,
          // As text: a rate of 0 (people asked, nobody answered) is shown, not taken for no rate.
          rate: result.responseRate === null ? null : `${Math.round(result.responseRate * 100)} %`,
          units: units.map((u) => ({ ...u!, selected: u!.id === result.query.unitId })),
          roles: respondentRoles.map((r) => ({
            value: r,
            label: t(lang, `evaluation.role.${r}`),
            selected: r === result.query.role,
          })),
          questions: result.questions.map((q) => ({
            ...q,
            scale: q.type === 'scale',
            yesNo: q.type === 'yes_no',
            free: q.type === 'text',
            bars: Object.entries(q.distribution).map(([value, count]) => ({
              value: q.type === 'yes_no' ? t(lang, `evaluation.form.${value}`) : value,
              count,
            })),
          })),
          csv: `/evaluation/results.csv?${csvQuery}`,
        });
      },
    }),
    route({
      method: 'GET',
      path: '/evaluation/results.csv',
      options: { auth: { strategy: 'session', scope: ['admin', 'clinician'] }, validate: { query: reportQuery } },
      async handler(request, h) {
        const result = await report(request, request.query);
        const { header, rows } = reportRows(result);
        return h
          .response(toCsv(header, rows, forExcel))
          .type('text/csv; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="evaluation-${result.query.from}-${result.query.to}.csv"`,
          );
      },
    }),
    route({
      method: 'GET',
      path: '/evaluation/sets',
      options: { auth: { strategy: 'session', scope: ['admin'] } },
      async handler(request, h) {
        const lang = languageOf(request);
        const { db } = request.server.app;
        const units = await listUnits(db);
        const rows = [];
        for (const unit of units) {
          for (const role of respondentRoles) {
            const set = await currentSet(db, unit.id, role);
            rows.push({
              unit: unit.name,
              unitId: unit.id,
              role,
              roleName: t(lang, `evaluation.role.${role}`),
              version: set.version,
              own: set.unitId !== null,
              count: set.questions.length,
            });
          }
        }
        return h.view('evaluation/sets', { title: t(lang, 'evaluation.sets.title'), styles: ['evaluation.css'], rows });
      },
    }),
    route({
      method: 'GET',
      path: '/evaluation/sets/{unitId}/{role}',
      options: { auth: { strategy: 'session', scope: ['admin'] }, validate: { params: setParams } },
      async handler(request, h) {
        return setEditor(request, h, request.params);
      },
    }),
    route({
      method: 'POST',
      path: '/evaluation/sets/{unitId}/{role}',
      options: {
        auth: { strategy: 'session', scope: ['admin'] },
        validate: { params: setParams, payload: setPayload },
      },
      async handler(request, h) {
        const { unitId, role } = request.params;
        const { db } = request.server.app;
        if (!(await findUnit(db, { id: unitId }))) throw Boom.notFound();
        const questions = readSetForm(request.payload);
        if (!Array.isArray(questions)) {
          // The editor again with what was typed and which question to mend; nothing is saved.
          const error = t(languageOf(request), `evaluation.sets.invalid.${questions.problem}`, { n: questions.n });
          return (await setEditor(request, h, request.params, { form: request.payload, error })).code(400);
        }
        // The new version and its audit record commit together.
        const set = await db.transaction(async (trx) => {
          const saved = await insertSetVersion(trx, unitId, role, questions, request.auth.credentials.user!.id);
          await request.auditIn(trx, 'evaluation.set.edit', {
            targetType: 'evaluation_set',
            targetId: saved.id,
            details: { unitId, role, version: saved.version },
          });
          return saved;
        });
        return h.redirect(`/evaluation/sets/${unitId}/${role}?saved=${set.version}`);
      },
    }),
  ];
}

/** The editor's rows: the current set's questions and two empty rows, or a refused form's rows as typed. */
function editorRows(set: QuestionSet, form: SetForm | undefined) {
  if (!form) return [...set.questions, undefined, undefined].map((q) => ({ id: q?.id, type: q?.type, ...q?.text }));
  const rows = [];
  for (let i = 0; i < formRows && form[`q${i}_type`] !== undefined; i++)
    rows.push({ id: form[`q${i}_id`], type: form[`q${i}_type`], sv: form[`q${i}_sv`], en: form[`q${i}_en`] });
  return rows;
}

async function setEditor(
  request: Request,
  h: ResponseToolkit,
  which: { unitId: string; role: RespondentRole },
  refused?: { form: SetForm; error: string },
) {
  const lang = languageOf(request);
  const { unitId, role } = which;
  const { db } = request.server.app;
  const unit = await findUnit(db, { id: unitId });
  if (!unit) throw Boom.notFound();
  const set: QuestionSet = await currentSet(db, unitId, role);
  const rows = editorRows(set, refused?.form).map((q, i) => ({
    i,
    n: i + 1,
    id: q.id ?? '',
    sv: q.sv ?? '',
    en: q.en ?? '',
    types: ['scale', 'yes_no', 'text'].map((type) => ({
      type,
      label: t(lang, `evaluation.type.${type}`),
      selected: (q.type ?? 'scale') === type,
    })),
  }));
  return h.view('evaluation/set', {
    title: t(lang, 'evaluation.sets.edit', { unit: unit.name, role: t(lang, `evaluation.role.${role}`) }),
    styles: ['evaluation.css'],
    unit,
    role,
    version: set.version,
    own: set.unitId !== null,
    rows,
    error: refused?.error,
    // After a save the editor says which version it stored; any other query is ignored, as before.
    saved: typeof request.query.saved === 'string' ? request.query.saved : undefined,
  });
}

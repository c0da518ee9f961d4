// Offering the evaluation to one person and taking their answers: which question set they get,
// that the answers fit it, and that each person answers once per meeting.
import type { Knex } from 'knex';
import type { GroupCommit } from '../db/group-commit.ts';
import Boom from '@hapi/boom';
import type { Request } from '@hapi/hapi';
import { DomainError, type DomainPage } from '../http/errors.ts';
import { t, type Language } from '../http/i18n.ts';
import { findParticipant, wasHeld, type Meeting, type Participant } from '../meetings/index.ts';
import type { Answers, Question, QuestionSet, Respondent, RespondentRole } from './model.ts';
import { participantSubject, staffSubject } from './model.ts';
import * as store from './store.ts';

/** The role a person answers in: the routine's participant kinds, the proxy, or the hospital's staff. */
export function roleOf(participant: Participant, person: 'main' | 'proxy'): RespondentRole {
  if (person === 'proxy') return 'proxy';
  if (participant.kind === 'patient' || participant.kind === 'patient_proxy') return 'patient';
  return participant.kind;
}

export interface Offer {
  respondent: Respondent;
  set: QuestionSet;
  /** The language a participant was booked in: their form (and its refusals) speak it. */
  language?: Language;
}

const problemStatus = {
  answered: 409,
  expired: 410,
  unknown: 404,
  invalid: 400,
  cancelled: 410,
  notHeld: 409,
} as const;

/**
 * Why a form cannot be offered or answered. An invalid answer is the form's own business (its route
 * shows the form again); the others reach the error funnel (http/errors.ts), which answers a page
 * with the page below - a calm word to the person, in their booked language - and the API with the
 * status.
 */
export class EvaluationError extends DomainError {
  constructor(
    readonly problem: keyof typeof problemStatus,
    readonly field?: string,
  ) {
    super(problem);
  }

  toBoom(lang: Language): Boom.Boom {
    return new Boom.Boom(t(lang, `evaluation.problem.${this.problem}.title`), {
      statusCode: problemStatus[this.problem],
    });
  }

  override page(lang: Language, request: Request): DomainPage {
    return {
      template: 'evaluation/done',
      context: {
        title: t(lang, `evaluation.problem.${this.problem}.title`),
        styles: ['guest.css', 'evaluation.css'],
        text: t(lang, `evaluation.problem.${this.problem}.text`),
      },
      // A staff member's form (/evaluation/meeting/{id}) stays in the staff pages' layout.
      layout: request.auth.isAuthenticated && request.auth.credentials.user ? undefined : 'guest',
    };
  }
}

/** A participant respondent's booked language (staff read the language they chose themselves). */
async function bookedLanguage(db: Knex, respondent: Respondent): Promise<Language | undefined> {
  const participantId = /^p:([^:]+):/.exec(respondent.subject)?.[1];
  return participantId ? (await findParticipant(db, participantId))?.language : undefined;
}

/**
 * The respondent offered the form, created at the first offer: in the group commit when the caller
 * gives it (the page that offers the form is a read; its row rides the shared commit), else alone.
 * Read first: offering the form again, and taking its answers, write nothing but the answers.
 */
async function respondentFor(db: Knex, commits: GroupCommit | undefined, respondent: store.NewRespondent) {
  const known = await store.findRespondent(db, respondent.meetingId, respondent.subject);
  if (known) return known;
  return commits
    ? commits.write((trx) => store.ensureRespondent(trx, respondent))
    : store.ensureRespondent(db, respondent);
}

export async function offerToParticipant(
  db: Knex,
  meeting: Meeting,
  participant: Participant,
  person: 'main' | 'proxy',
  commits?: GroupCommit,
): Promise<Offer> {
  if (meeting.status === 'cancelled') throw new EvaluationError('cancelled');
  // As for staff: before the meeting is held there is nothing to say, and nothing is kept.
  if (!wasHeld(meeting)) throw new EvaluationError('notHeld');
  const role = roleOf(participant, person);
  const respondent = await respondentFor(db, commits, {
    meetingId: meeting.id,
    unitId: meeting.unitId,
    subject: participantSubject(participant.id, person),
    role,
    meetingAt: meeting.startsAt,
  });
  return { respondent, set: await store.currentSet(db, meeting.unitId, respondent.role) };
}

export async function offerToStaff(db: Knex, meeting: Meeting, staffId: string, commits?: GroupCommit): Promise<Offer> {
  if (meeting.status === 'cancelled') throw new EvaluationError('cancelled');
  // An evaluation is of a meeting held: before that there is nothing to say, and nothing is kept.
  if (!wasHeld(meeting)) throw new EvaluationError('notHeld');
  // A colleague invited with an account answers as a colleague; the unit's own staff as staff.
  const asColleague =
    meeting.participants.some((p) => p.kind === 'colleague' && p.staffId === staffId) &&
    meeting.bookedBy !== staffId &&
    meeting.ledBy !== staffId;
  const role: RespondentRole = asColleague ? 'colleague' : 'staff';
  const respondent = await respondentFor(db, commits, {
    meetingId: meeting.id,
    unitId: meeting.unitId,
    subject: staffSubject(staffId),
    role,
    meetingAt: meeting.startsAt,
  });
  return { respondent, set: await store.currentSet(db, meeting.unitId, respondent.role) };
}

/** The link's respondent, if it may still answer. */
export async function offerByToken(db: Knex, token: string, now = new Date()): Promise<Offer> {
  const respondent = await store.respondentByToken(db, token);
  if (!respondent) throw new EvaluationError('unknown');
  const language = await bookedLanguage(db, respondent);
  const refuse = (problem: 'answered' | 'expired') => Object.assign(new EvaluationError(problem), { language });
  if (respondent.answeredAt) throw refuse('answered');
  if (respondent.expiresAt && respondent.expiresAt <= now) throw refuse('expired');
  return { respondent, set: await store.currentSet(db, respondent.unitId, respondent.role), language };
}

/** A form field as text: a repeated field is its values joined by commas, anything else empty. */
export function fieldText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  if (Array.isArray(raw)) return raw.map(fieldText).join(',');
  return '';
}

/** Reads the form's `q_<id>` fields against the set's questions; empty fields are unanswered. */
export function readAnswers(questions: Question[], form: Record<string, unknown>): Answers {
  const answers: Answers = {};
  for (const q of questions) {
    const value = fieldText(form[`q_${q.id}`]).trim();
    if (value === '') continue;
    if (q.type === 'scale') {
      if (!/^[1-5]$/.test(value)) throw new EvaluationError('invalid', q.id);
      answers[q.id] = Number(value);
    } else if (q.type === 'yes_no') {
      if (value !== 'yes' && value !== 'no') throw new EvaluationError('invalid', q.id);
      answers[q.id] = value === 'yes';
    } else {
      // A line break counts once, as the form's maxlength counts it (the browser sends it as CR LF).
      answers[q.id] = value.replace(/\r\n?/g, '\n').slice(0, 2000);
    }
  }
  return answers;
}

/**
 * Takes the answers to the set the page showed (an admin may have made a newer version since:
 * the answers belong to the one the person read). Refuses a second answer.
 */
export async function answer(
  db: Knex,
  respondent: Respondent,
  setId: string,
  form: Record<string, unknown>,
  now = new Date(),
): Promise<void> {
  if (respondent.answeredAt) throw new EvaluationError('answered');
  const set = await store.findSet(db, setId);
  if (!set || set.role !== respondent.role || (set.unitId !== null && set.unitId !== respondent.unitId))
    throw new EvaluationError('invalid', 'setId');
  const answers = readAnswers(set.questions, form);
  if (!(await store.recordResponse(db, respondent, set, answers, now))) throw new EvaluationError('answered');
}

// Evaluation as the rest of the appliance sees it: question sets, per care unit and per role of
// the person answering, and what one person answered (rows are mapped once, in store.ts).
export const respondentRoles = ['patient', 'proxy', 'colleague', 'guest', 'staff'] as const;
export type RespondentRole = (typeof respondentRoles)[number];

export const questionTypes = ['scale', 'yes_no', 'text'] as const;
export type QuestionType = (typeof questionTypes)[number];

export interface Question {
  /** Stable across versions while the question means the same; a report groups by it. */
  id: string;
  type: QuestionType;
  text: { sv: string; en: string };
}

export interface QuestionSet {
  id: string;
  /** null: the default set shipped with the project. */
  unitId: string | null;
  role: RespondentRole;
  version: number;
  questions: Question[];
  createdAt: Date;
}

/**
 * One answer per question: 1–5 for a scale, true/false for yes/no, text for free text. Unanswered questions
 * are left out.
 */
export type Answers = Record<string, number | boolean | string>;

/** Who may answer for one meeting: the link, the page after the meeting, or the staff page. */
export interface Respondent {
  id: string;
  meetingId: string;
  unitId: string;
  subject: string;
  role: RespondentRole;
  meetingAt: Date;
  expiresAt: Date | null;
  answeredAt: Date | null;
}

export const participantSubject = (participantId: string, person: 'main' | 'proxy'): string =>
  `p:${participantId}:${person}`;
export const staffSubject = (staffId: string): string => `s:${staffId}`;

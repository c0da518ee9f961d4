// Results per care unit and period: counts, response rate, averages, distributions and free text —
// anonymised. Answers are stored apart from who gave them; free text (which can identify its
// writer) is shown only when the group has at least EVALUATION_MIN_GROUP respondents, and then in
// alphabetical order, never in the order it came.
import type { Knex } from 'knex';
import type { Language } from '../http/i18n.ts';
import type { Question, QuestionType } from './model.ts';
import { countRespondents, responsesFor, setsByIds, type ReportQuery } from './store.ts';

export interface QuestionResult {
  id: string;
  type: QuestionType;
  text: string;
  answered: number;
  /** Scale: the mean of 1–5, two decimals. */
  average: number | null;
  /** Scale: answers per value 1–5; yes/no: yes and no. */
  distribution: Record<string, number>;
  /** Free text, only when the group is large enough (`textsShown`). */
  texts: string[];
}

export interface EvaluationReport {
  query: ReportQuery;
  asked: number;
  responses: number;
  /** Responses per person asked, 0–1; null when nobody was asked. */
  responseRate: number | null;
  minGroup: number;
  textsShown: boolean;
  questions: QuestionResult[];
}

export async function buildReport(
  db: Knex,
  query: ReportQuery,
  minGroup: number,
  lang: Language,
): Promise<EvaluationReport> {
  const responses = await responsesFor(db, query);
  const asked = Math.max(await countRespondents(db, query), responses.length);
  const sets = await setsByIds(db, [...new Set(responses.map((r) => r.setId))]);
  // Newest wording first: a question keeps its id across versions while it means the same. An
  // admin may change a question's type and keep its id: answers of each type are their own
  // question then (a 4 on the scale is no yes or no), so a question is its id and its type.
  sets.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.version - a.version);
  const key = (q: Pick<Question, 'id' | 'type'>) => `${q.type}:${q.id}`;
  const questions = new Map<string, QuestionResult>();
  for (const set of sets) {
    for (const q of set.questions) {
      if (questions.has(key(q))) continue;
      const distribution: Record<string, number> =
        q.type === 'scale' ? { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } : q.type === 'yes_no' ? { yes: 0, no: 0 } : {};
      questions.set(key(q), {
        id: q.id,
        type: q.type,
        text: q.text[lang],
        answered: 0,
        average: null,
        distribution,
        texts: [],
      });
    }
  }
  /** Each version's question types by id: an answer belongs to the question its own version asked. */
  const typesOf = new Map(sets.map((set) => [set.id, new Map(set.questions.map((q) => [q.id, q.type]))]));
  const textsShown = responses.length >= minGroup;
  const sums = new Map<QuestionResult, number>();
  for (const response of responses) {
    for (const [id, value] of Object.entries(response.answers)) {
      const type = typesOf.get(response.setId)?.get(id);
      const q = type && questions.get(key({ id, type }));
      if (!q) continue;
      q.answered += 1;
      if (q.type === 'scale' && typeof value === 'number') {
        q.distribution[String(value)] = (q.distribution[String(value)] ?? 0) + 1;
        sums.set(q, (sums.get(q) ?? 0) + value);
      } else if (q.type === 'yes_no' && typeof value === 'boolean') {
        const answer = value ? 'yes' : 'no';
        q.distribution[answer] = (q.distribution[answer] ?? 0) + 1;
      } else if (q.type === 'text' && typeof value === 'string' && textsShown) {
        q.texts.push(value);
      }
    }
  }
  for (const q of questions.values()) {
    if (q.type === 'scale' && q.answered > 0) q.average = Math.round(((sums.get(q) ?? 0) / q.answered) * 100) / 100;
    q.texts.sort((a, b) => a.localeCompare(b, 'sv'));
  }
  return {
    query,
    asked,
    responses: responses.length,
    responseRate: asked > 0 ? Math.round((responses.length / asked) * 1000) / 1000 : null,
    minGroup,
    textsShown,
    questions: [...questions.values()],
  };
}

/**
 * A decimal as Excel with Swedish settings reads it in the semicolon-separated CSV: with a decimal
 * comma (that is why its list separator is the semicolon); "3.6" it would take for the 3rd of June.
 */
const decimal = (n: number | null) => (n === null ? null : String(n).replace('.', ','));

/** The report as CSV rows: one per question (with its figures), then one per free-text answer. */
export function reportRows(report: EvaluationReport): { header: string[]; rows: unknown[][] } {
  const header = ['question', 'type', 'answered', 'average', '1', '2', '3', '4', '5', 'yes', 'no', 'text'];
  const rows: unknown[][] = [
    [
      '(all)',
      'summary',
      report.responses,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      `asked ${report.asked}; response rate ${decimal(report.responseRate) ?? ''}`,
    ],
  ];
  for (const q of report.questions) {
    const d = q.distribution;
    rows.push([
      q.text,
      q.type,
      q.answered,
      decimal(q.average),
      d['1'],
      d['2'],
      d['3'],
      d['4'],
      d['5'],
      d.yes,
      d.no,
      null,
    ]);
    for (const text of q.texts) rows.push([q.text, 'text', null, null, null, null, null, null, null, null, null, text]);
  }
  return { header, rows };
}
